// `cis490 prune`: dry run, filters, archive, delete, owner/mode, journal
// recovery, and a concurrent appender that must not lose rows.

import { spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { readIndex } from "../src/store/index-file.js";
import { scanWriters } from "../src/io/file-writers.js";
import { rewriteIndexDropping } from "../src/store/index-rewrite.js";
import { JOURNAL_FILE, writeJournal } from "../src/store/prune-journal.js";
import { runCli } from "./helpers/cli.js";
import { startAppender, tempDir, writerFlags } from "./helpers/prune.js";
import { hashTree, indexRow, buildEpisode, writeStore, type StoreItem } from "./helpers/store-fixture.js";


const ACT = await writerFlags();

const dormantProbeZero = [
  { t: 30, event: "workload_started", phase: "infected_running" },
  { t: 55, event: "workload_killed", phase: "dormant", pre_kill_probe: { yes: "0" } },
];

/** Episode id -> the prune reasons it must get (empty: kept). */
const EXPECTED: Record<string, string[]> = {
  good: [],
  "good-b": [],
  "no-sample": ["no-sample"],
  "no-events": ["no-workload-events"],
  "no-events-member": ["no-workload-events"],
  failed: ["workload-failed"],
  flat: ["flat-cpu"],
  silent: ["flat-cpu", "workload-silent"],
  "probe-only": [],
  "flat-no-netflow": ["flat-cpu"],
  "everything": ["no-sample", "no-workload-events", "flat-cpu"],
};

function storeItems(): StoreItem[] {
  const s = (episode_id: string, extra: Partial<StoreItem["spec"]> = {}, host_id = "lab-a"): StoreItem => ({ spec: { episode_id, host_id, ...extra } });
  return [
    s("good"),
    s("good-b", {}, "lab-b"),
    s("no-sample", { meta: { sample: null } }),
    s("no-events", { events: [] }, "lab-b"),
    s("no-events-member", { omit: ["events"] }),
    s("failed", { events: [{ t: 30, event: "workload_started" }, { t: 31, event: "workload_failed", error: "ENOEXEC" }] }),
    s("flat", { character: "flat" }, "lab-b"),
    s("silent", { character: "flat", events: dormantProbeZero }),
    s("probe-only", { events: dormantProbeZero }),
    s("flat-no-netflow", { character: "flat", omit: ["netflow"] }),
    s("everything", { character: "flat", meta: { sample: null }, events: [] }, "lab-b"),
    // Not candidates: errored, orphan.
    { spec: { episode_id: "broken", host_id: "lab-a" }, bytes: Buffer.from("garbage".repeat(100)) },
    { spec: { episode_id: "orphan-flat", host_id: "lab-a", character: "flat" }, index: false },
  ];
}

/** A store whose index also holds a torn line (a flagged record glued to a kept one) and junk. */
function makeStore(): { store: string; base: string } {
  const base = mkdtempSync(join(tmpdir(), "cis490-prune-"));
  const store = join(base, "store");
  const items = storeItems();
  const extra = [
    // torn: a row of "flat" (flagged) and a row of an unrelated episode on one line
    JSON.stringify(indexRow("flat", "lab-b", buildEpisode({ episode_id: "flat", host_id: "lab-b", character: "flat" }))) +
      JSON.stringify(indexRow("ghost", "lab-c", Buffer.from("x"))),
    '{"episode_id":"half-reco',
    "garbage that nobody understands",
  ];
  writeStore(store, items, extra.join("\n") + "\n");
  return { store, base };
}

const flaggedIds = (): string[] => Object.keys(EXPECTED).filter((k) => EXPECTED[k].length > 0);
const hostOf = (id: string): string => storeItems().find((i) => i.spec.episode_id === id)!.spec.host_id;

describe("prune", () => {
  it("dry run flags the right episodes and changes nothing", async () => {
    const { store, base } = makeStore();
    const before = hashTree(base);
    const res = await runCli(["prune", "--store", store, "--json", "--engine", "reference"]);
    expect(res.code, res.stderr).toBe(0);
    expect(hashTree(base)).toEqual(before);
    const doc = JSON.parse(res.stdout);
    expect(doc.mode).toBe("dry-run");
    expect(doc.scanned).toBe(14); // 12 indexed (+ ghost, tarball missing) + 1 orphan
    expect(doc.flagged).toBe(flaggedIds().length);
    expect(doc.kept).toBe(14 - flaggedIds().length);
    const got = Object.fromEntries(doc.flagged_episodes.map((f: { episode: string; reasons: string[] }) => [f.episode, f.reasons]));
    expect(got).toEqual(Object.fromEntries(flaggedIds().map((k) => [k, EXPECTED[k]])));
    expect(doc.by_reason).toEqual({ "no-sample": 2, "no-workload-events": 3, "workload-failed": 1, "flat-cpu": 4, "workload-silent": 1 });
    expect(doc.flagged_episodes.find((f: { episode: string }) => f.episode === "failed")).toMatchObject({
      host: "lab-a",
      size_bytes: expect.any(Number),
      sample: "xmrig-6.21",
      module: "ssh-weak-cred",
    });
    const text = await runCli(["prune", "--store", store, "--engine", "reference"]);
    expect(text.stdout).toContain("Dry run: nothing changed");
    expect(text.stdout).toMatch(/lab-a\s+failed\s+\d+\s+workload-failed\s+xmrig-6\.21\s+ssh-weak-cred/);
    expect(hashTree(base)).toEqual(before);
  });

  it("--reason and --host filter", async () => {
    const { store } = makeStore();
    const byReason = JSON.parse((await runCli(["prune", "--store", store, "--json", "--engine", "reference", "--reason", "workload-failed", "--reason", "no-sample"])).stdout);
    expect(byReason.flagged_episodes.map((f: { episode: string }) => f.episode).sort()).toEqual(["everything", "failed", "no-sample"]);
    expect(byReason.by_reason).toEqual({ "workload-failed": 1, "no-sample": 2 });
    const byHost = JSON.parse((await runCli(["prune", "--store", store, "--json", "--engine", "reference", "--host", "lab-b"])).stdout);
    expect(byHost.flagged_episodes.map((f: { episode: string }) => f.episode).sort()).toEqual(["everything", "flat", "no-events"]);
    expect(byHost.scanned).toBe(4);
  });

  it("--archive moves flagged tarballs, drops their rows, keeps the rest and the index's owner and mode", async () => {
    const { store, base } = makeStore();
    const indexPath = join(store, "index.jsonl");
    const root = process.getuid?.() === 0;
    if (root) chownSync(indexPath, 1234, 4321); // a receiver's uid/gid, not ours
    chmodSync(indexPath, 0o640);
    const originalIndex = readFileSync(indexPath, "utf8");
    const before = hashTree(store);
    const res = await runCli(["prune", "--store", store, "--archive", ...ACT, "--json", "--engine", "reference"]);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    const archive = join(base, "store-archive");
    expect(doc.archive_root).toBe(archive);
    expect(doc.result).toMatchObject({ moved: flaggedIds().length, index_rows_dropped: flaggedIds().length + 1 }); // + the torn copy of "flat"

    const after = hashTree(store);
    const archived = hashTree(archive);
    for (const id of flaggedIds()) {
      const rel = `${hostOf(id)}/${id}.tar.zst`;
      expect(after[rel]).toBeUndefined();
      expect(archived[rel]).toBe(before[rel]);
    }
    for (const rel of Object.keys(before)) if (!archived[rel] && rel !== "index.jsonl") expect(after[rel]).toBe(before[rel]);

    const st = statSync(indexPath);
    if (root) expect([st.uid, st.gid]).toEqual([1234, 4321]);
    expect(st.mode & 0o777).toBe(0o640);

    const newIndex = readFileSync(indexPath, "utf8");
    const keptLines = originalIndex.split("\n").filter((l) => !flaggedIds().some((id) => l.startsWith(`{"episode_id":"${id}"`)));
    // every surviving original line is still there verbatim, except the torn one, which lost its "flat" record
    for (const line of keptLines) {
      if (line.includes('"ghost"')) continue;
      expect(newIndex.split("\n")).toContain(line);
    }
    expect(newIndex).toContain('{"episode_id":"ghost"');
    expect(newIndex).toContain('{"episode_id":"half-reco\n');
    expect(newIndex).toContain("garbage that nobody understands\n");
    const reread = await readIndex(indexPath);
    expect(reread.entries.map((e) => e.record.episode_id).sort()).toEqual(["broken", "ghost", "good", "good-b", "probe-only"]);
    expect(readdirSync(store).sort()).toEqual(["index.jsonl", "lab-a", "lab-b"]);

    // a second run finds nothing more to do
    const again = JSON.parse((await runCli(["prune", "--store", store, "--archive", ...ACT, "--json", "--engine", "reference"])).stdout);
    expect(again.flagged).toBe(0);
    // and validate sees no row pointing at a missing tarball, apart from the ghost
    const validate = JSON.parse((await runCli(["validate", "--store", store, "--out", join(base, "a.parquet"), "--json", "--engine", "reference"])).stdout);
    expect(validate.reasons["tarball-missing"]).toBe(1);
  });

  it("--archive-root across filesystems", async (ctx) => {
    if (!existsSync("/dev/shm") || statSync("/dev/shm").dev === statSync(tmpdir()).dev) ctx.skip();
    const { store } = makeStore();
    const archive = join(mkdtempSync("/dev/shm/cis490-prune-"), "arch");
    const before = hashTree(store);
    const res = await runCli(["prune", "--store", store, "--archive", ...ACT, "--archive-root", archive, "--reason", "workload-failed", "--json", "--engine", "reference"]);
    expect(res.code, res.stderr).toBe(0);
    expect(hashTree(archive)).toEqual({ "lab-a/failed.tar.zst": before["lab-a/failed.tar.zst"] });
    expect(existsSync(join(store, "lab-a", "failed.tar.zst"))).toBe(false);
    expect(readdirSync(join(archive, "lab-a"))).toEqual(["failed.tar.zst"]);
    rmSync(join(archive, ".."), { recursive: true, force: true });
  });

  it("--delete removes flagged tarballs and rows", async () => {
    const { store, base } = makeStore();
    const res = await runCli(["prune", "--store", store, "--delete", ...ACT, "--json", "--engine", "reference", "--reason", "flat-cpu"]);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.mode).toBe("delete");
    expect(doc.result.deleted).toBe(4);
    for (const id of ["flat", "silent", "flat-no-netflow", "everything"]) expect(existsSync(join(store, hostOf(id), `${id}.tar.zst`))).toBe(false);
    expect(existsSync(join(store, "lab-a", "failed.tar.zst"))).toBe(true);
    expect(existsSync(join(base, "store-archive"))).toBe(false);
    const ids = (await readIndex(join(store, "index.jsonl"))).entries.map((e) => e.record.episode_id);
    expect(ids).toContain("failed");
    expect(ids).not.toContain("flat");
    expect(existsSync(join(store, JOURNAL_FILE))).toBe(false);
  });

  it("completes an interrupted prune from its journal", async () => {
    const { store, base } = makeStore();
    const archive = join(base, "store-archive");
    // The crash happened after "failed" moved but before "no-sample" did and before the index rewrite.
    await writeJournal(store, {
      version: 1,
      created_at: "x",
      mode: "archive",
      archive_root: archive,
      actions: ["failed", "no-sample"].map((id) => ({ episode_id: id, host_id: "lab-a", src: `lab-a/${id}.tar.zst`, dst: join(archive, "lab-a", `${id}.tar.zst`) })),
      drop_rows: ["failed", "no-sample"].map((id) => ({ episode_id: id, host_id: "lab-a" })),
    });
    const { moveFileDurable, tempPathFor } = await import("../src/io/atomic.js");
    await moveFileDurable(join(store, "lab-a", "failed.tar.zst"), join(archive, "lab-a", "failed.tar.zst"));
    writeFileSync(tempPathFor(join(archive, "lab-a", "no-sample.tar.zst")), "half a copy");

    const dry = await runCli(["prune", "--store", store, "--json", "--engine", "reference"]);
    expect(dry.stderr).toContain("interrupted archive prune is pending");
    expect(existsSync(join(store, JOURNAL_FILE))).toBe(true);

    const res = await runCli(["prune", "--store", store, "--archive", ...ACT, "--json", "--engine", "reference", "--reason", "workload-failed"]);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.recovered_journal).toEqual({ mode: "archive", episodes: 2 });
    expect(doc.flagged).toBe(0); // "failed" was completed by the journal
    expect(readdirSync(join(archive, "lab-a")).sort()).toEqual(["failed.tar.zst", "no-sample.tar.zst"]);
    const ids = (await readIndex(join(store, "index.jsonl"))).entries.map((e) => e.record.episode_id);
    expect(ids).not.toContain("failed");
    expect(ids).not.toContain("no-sample");
    expect(ids).toContain("flat");
    expect(existsSync(join(store, JOURNAL_FILE))).toBe(false);
  });

  it("exit codes", async () => {
    const { store, base } = makeStore();
    expect((await runCli(["prune", "--store", store, "--archive", "--delete"])).code).toBe(2);
    expect((await runCli(["prune", "--store", store, "--reason", "boring"])).code).toBe(2);
    expect((await runCli(["prune", "--store", store, "--archive-root", "/tmp/x"])).code).toBe(2);
    expect((await runCli(["prune", "--store", store, "--archive", "--archive-root", join(store, "arch")])).code).toBe(2);
    expect((await runCli(["prune", "--store", store, "--frobnicate"])).code).toBe(2);
    expect((await runCli(["prune", "--store", store, "--archive", "--wait-for-writers", "soon"])).code).toBe(2);
    expect((await runCli(["prune", "--store", join(base, "missing"), "--engine", "reference"])).code).toBe(1);
  });
});

async function waitForGrowth(path: string, bytes: number): Promise<void> {
  const start = statSync(path).size;
  for (let i = 0; i < 500 && statSync(path).size < start + bytes; i++) await new Promise((r) => setTimeout(r, 10));
}

describe("prune with a concurrent appender", () => {
  it("loses no appended row", async () => {
    const { store } = makeStore();
    const indexPath = join(store, "index.jsonl");
    // Padding rows make the rewrite long enough to overlap with appends.
    const filler = Array.from({ length: 20_000 }, (_, i) => JSON.stringify(indexRow(`fill-${i}`, "lab-z", Buffer.from(String(i)))) + "\n").join("");
    writeFileSync(indexPath, readFileSync(indexPath, "utf8") + filler);
    const originalLines = readFileSync(indexPath, "utf8").split("\n").filter((l) => l.startsWith("{") && l.endsWith("}"));
    const appender = startAppender(indexPath, { style: "open-append-close", prefix: "app-", everyMs: 0, maxMs: 120_000, dir: tempDir("cis490-appender-") });
    onTestFinished(() => appender.kill());
    await waitForGrowth(indexPath, 20_000);

    const res = await runCli(["prune", "--store", store, "--archive", ...ACT, "--json", "--engine", "reference"]);
    expect(res.code, res.stderr).toBe(0);
    // Hammer the rewrite path itself while the appender keeps going.
    for (let round = 0; round < 8; round++) {
      const r = await rewriteIndexDropping(indexPath, [{ episode_id: `fill-${round}`, host_id: "lab-z" }], {
        waitMs: 5000,
        allowUnverified: ACT.includes("--assume-no-hidden-writers"),
        beforeCatchUp: () => new Promise((r) => setTimeout(r, 5)),
      });
      expect(r.status).toBe("done");
    }
    const appended = await appender.stop();
    expect(appended).toBeGreaterThan(100);

    const text = readFileSync(indexPath, "utf8");
    const index = await readIndex(indexPath);
    const ids = index.entries.map((e) => e.record.episode_id);
    const appendedIds = ids.filter((id) => id.startsWith("app-"));
    expect(appendedIds.length).toBe(appended);
    expect(new Set(appendedIds).size).toBe(appended);
    expect(index.duplicates).toEqual([]);
    // every original row not pruned (nor dropped by the rewrite rounds) survives verbatim
    const dropped = new Set([...flaggedIds(), ...Array.from({ length: 8 }, (_, r) => `fill-${r}`)]);
    const lines = new Set(text.split("\n"));
    for (const line of originalLines) {
      const id = (JSON.parse(line.split("}{")[0] + (line.includes("}{") ? "}" : "")) as { episode_id: string }).episode_id;
      if (dropped.has(id) || line.includes('"ghost"')) continue;
      expect(lines.has(line), line.slice(0, 60)).toBe(true);
    }
    for (const id of dropped) expect(ids).not.toContain(id);
    expect(basename(indexPath)).toBe("index.jsonl");
  });
});

describe("who holds the index open for writing", () => {
  it("sees another process's write descriptor, ignores a read-only one, and stops seeing it once closed", async () => {
    const dir = tempDir("cis490-holders-");
    const file = join(dir, "index.jsonl");
    writeFileSync(file, "");
    const st = statSync(file);
    expect((await scanWriters(st.dev, st.ino)).writers).toEqual([]);
    const holder = (redirect: string) => spawn("sh", ["-c", `exec 3${redirect}"${file}"; echo ready; exec sleep 30`], { stdio: ["ignore", "pipe", "ignore"] });
    const reader = holder("<");
    const writer = holder(">>");
    try {
      for (const c of [reader, writer]) await new Promise<void>((resolve) => c.stdout!.once("data", () => resolve()));
      const scan = await scanWriters(st.dev, st.ino);
      expect(scan.writers.map((w) => w.pid)).toEqual([writer.pid]);
      expect(scan.writers[0].comm).toBe("sleep");
    } finally {
      for (const c of [reader, writer]) c.kill("SIGKILL");
      await Promise.all([reader, writer].map((c) => new Promise((r) => (c.exitCode === null ? c.once("exit", r) : r(null)))));
    }
    expect((await scanWriters(st.dev, st.ino)).writers).toEqual([]);
  });
});
