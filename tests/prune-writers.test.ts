// prune beside writers that keep index.jsonl open: a long-lived appender
// (prune refuses, or waits for it), a writer that appears in the instant
// before the rename (its rows are kept and drained later), processes /proc
// cannot show (simulated), and planted journals that try to reach outside
// the store. Every test counts rows and tarballs before and after.

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { loadInspector } from "../src/native/backend.js";
import { realProc, scanProvesNoWriter, scanWriters, type ProcAccess } from "../src/io/file-writers.js";
import { readIndex } from "../src/store/index-file.js";
import { recoverSwap, rewriteIndexDropping, type IndexSwap } from "../src/store/index-rewrite.js";
import { JOURNAL_FILE, writeJournal, type PruneJournal } from "../src/store/prune-journal.js";
import { runPruneCommand, type PruneRunOptions } from "../src/store/prune-run.js";
import { QUALITY_REASONS } from "../src/store/quality.js";
import { runCli } from "./helpers/cli.js";
import { startAppender, tempDir, writerFlags } from "./helpers/prune.js";
import { hashTree, writeStore, type StoreItem } from "./helpers/store-fixture.js";

const FLAGGED = ["ep-1", "ep-3", "ep-5"];

/** Six episodes on one host, three of them flagged (no sample). */
function smallStore(): { base: string; store: string; archive: string; index: string } {
  const base = tempDir("cis490-writers-");
  const store = join(base, "store");
  const items: StoreItem[] = Array.from({ length: 6 }, (_, i) => ({
    spec: { episode_id: `ep-${i}`, host_id: "lab-a", meta: FLAGGED.includes(`ep-${i}`) ? { sample: null } : undefined },
  }));
  writeStore(store, items);
  return { base, store, archive: join(base, "store-archive"), index: join(store, "index.jsonl") };
}

const tarballs = (dir: string): Record<string, string> => Object.fromEntries(Object.entries(hashTree(dir)).filter(([rel]) => rel.endsWith(".tar.zst")));

/** episode id -> how many whole rows name it. */
async function rowCounts(index: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const e of (await readIndex(index)).entries) counts.set(e.record.episode_id, (counts.get(e.record.episode_id) ?? 0) + 1);
  return counts;
}

/** Each of `ids` exactly once, and nothing else with `prefix`. */
function expectExactlyOnce(counts: Map<string, number>, ids: string[], prefix: string): void {
  const missing = ids.filter((id) => counts.get(id) !== 1);
  expect(missing.slice(0, 5), `${missing.length} of ${ids.length} rows missing or duplicated`).toEqual([]);
  const extra = [...counts.keys()].filter((id) => id.startsWith(prefix) && !ids.includes(id));
  expect(extra).toEqual([]);
}

const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("prune beside a receiver that keeps index.jsonl open", () => {
  it("refuses with the store unchanged, then waits for the writer to go and loses nothing", { timeout: 60_000 }, async () => {
    const s = smallStore();
    const originalIndex = readFileSync(s.index);
    const before = tarballs(s.store);
    // One open(path, "a") for its whole life, a row every ~2-3 ms, for ~30 s.
    const appender = startAppender(s.index, { style: "held-open", prefix: "live-", everyMs: 2, maxMs: 30_000, dir: s.base });
    onTestFinished(() => appender.kill());
    await appender.ready;

    const refused = await runCli(["prune", "--store", s.store, "--archive", ...(await writerFlags("1s")), "--json", "--engine", "reference"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`pid ${appender.pid} (node`);
    expect(refused.stderr).toContain("held open for writing");
    expect(refused.stderr).toContain("nothing changed");
    const doc = JSON.parse(refused.stdout);
    expect(doc.status).toBe("refused");
    expect(doc.writers.writers.map((w: { pid: number }) => w.pid)).toEqual([appender.pid]);
    // Unchanged: same tarballs, no archive, no journal or other leftovers, the index only grew.
    expect(tarballs(s.store)).toEqual(before);
    expect(existsSync(s.archive)).toBe(false);
    expect(readdirSync(s.store).sort()).toEqual(["index.jsonl", "lab-a"]);
    expect(readFileSync(s.index).subarray(0, originalIndex.length).equals(originalIndex)).toBe(true);

    // Long enough a wait: prune starts only once the receiver has closed the index.
    const waited = await runCli(["prune", "--store", s.store, "--archive", ...(await writerFlags("45s")), "--json", "--engine", "reference"]);
    expect(waited.code, waited.stderr).toBe(0);
    const appended = await appender.stop();
    expect(appended).toBeGreaterThan(1000); // ~10k on an idle machine; far fewer on a loaded one
    const counts = await rowCounts(s.index);
    expectExactlyOnce(counts, range("live-", appended), "live-");
    expectExactlyOnce(counts, ["ep-0", "ep-2", "ep-4"], "ep-");
    const archived = tarballs(s.archive);
    expect(Object.keys(archived).sort()).toEqual(FLAGGED.map((id) => `lab-a/${id}.tar.zst`));
    for (const [rel, sha] of Object.entries(before)) expect(archived[rel] ?? tarballs(s.store)[rel]).toBe(sha);
    expect(readdirSync(s.store).sort()).toEqual(["index.jsonl", "lab-a"]);
  });

  it("keeps the rows of a writer that opens the index in the instant before the rename, and drains them later", { timeout: 60_000 }, async () => {
    const s = smallStore();
    const allowUnverified = (await writerFlags()).includes("--assume-no-hidden-writers");
    let swap: IndexSwap | null = null;
    let writer: ReturnType<typeof startAppender> | null = null;
    const result = await rewriteIndexDropping(
      s.index,
      FLAGGED.map((episode_id) => ({ episode_id, host_id: "lab-a" })),
      {
        waitMs: 2000,
        lateWaitMs: 600,
        allowUnverified,
        onSwap: async (sw) => {
          swap = sw;
        },
        // After the last scan, before the rename: a receiver starts and keeps the (old) index open.
        beforeRename: async () => {
          writer = startAppender(s.index, { style: "held-open", prefix: "late-", everyMs: 3, maxMs: 20_000, dir: s.base });
          await writer.ready;
        },
      },
    );
    onTestFinished(() => writer?.kill());
    expect(result.status).toBe("late-held");
    expect(result.scan!.writers.map((w) => w.pid)).toEqual([writer!.pid]);
    expect(existsSync(result.prevPath!)).toBe(true);
    expect(result.lateBytes).toBeGreaterThan(0); // whole lines already forwarded while it was held
    await new Promise((r) => setTimeout(r, 300));
    const appended = await writer!.stop();

    // The next prune's recovery: forwards what is left, without repeating what was already forwarded.
    const recovered = await recoverSwap(s.index, swap!, { allowUnverified, lateWaitMs: 5000 });
    expect(recovered?.status).toBe("done");
    expect(existsSync(result.prevPath!)).toBe(false);
    const counts = await rowCounts(s.index);
    expectExactlyOnce(counts, range("late-", appended), "late-");
    expectExactlyOnce(counts, ["ep-0", "ep-2", "ep-4"], "ep-");
    expect((await readIndex(s.index)).duplicates).toEqual([]);
  });
});

/** A /proc lookalike: each process with its descriptors, some unreadable (EACCES as for another user's process). */
function fakeProc(
  target: string,
  procs: Array<{ pid: number; comm: string; fds?: Array<{ flags: string; to?: string }>; unreadable?: boolean; maps?: string }>,
  o: { nspid?: string; hidepid?: string; uid?: number } = {},
): ProcAccess {
  const root = join(tempDir("cis490-fakeproc-"), "proc");
  mkdirSync(join(root, "self"), { recursive: true });
  writeFileSync(join(root, "self", "status"), `Name:\tnode\nNSpid:\t${o.nspid ?? "4000"}\n`);
  writeFileSync(join(root, "mounts"), `proc ${root} proc rw,relatime${o.hidepid ? `,hidepid=${o.hidepid}` : ""} 0 0\n`);
  const denied = new Set<string>();
  for (const p of procs) {
    const dir = join(root, String(p.pid));
    mkdirSync(join(dir, "fd"), { recursive: true });
    mkdirSync(join(dir, "fdinfo"));
    writeFileSync(join(dir, "comm"), p.comm + "\n");
    writeFileSync(join(dir, "cmdline"), `/usr/bin/${p.comm}\0--spool\0/srv\0`);
    writeFileSync(join(dir, "maps"), p.maps ?? "");
    (p.fds ?? []).forEach((fd, i) => {
      symlinkSync(fd.to ?? target, join(dir, "fd", String(i + 3)));
      writeFileSync(join(dir, "fdinfo", String(i + 3)), `pos:\t0\nflags:\t${fd.flags}\nmnt_id:\t20\n`);
    });
    if (p.unreadable) denied.add(join(dir, "fd"));
  }
  const eacces = (path: string): Error => Object.assign(new Error(`EACCES: permission denied, scandir '${path}'`), { code: "EACCES" });
  return {
    root,
    readdir: async (path) => {
      if (denied.has(path)) throw eacces(path);
      return fsp.readdir(path);
    },
    stat: (path) => fsp.stat(path),
    readFile: (path) => fsp.readFile(path, "utf8"),
    uid: o.uid ?? 0,
  };
}

/** Linux dev_t as /proc/<pid>/maps prints it. */
function mapsDev(dev: number): string {
  const major = ((dev >> 8) & 0xfff) | Math.floor(dev / 2 ** 32) & ~0xfff;
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  return `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}`;
}

describe("what /proc cannot show counts as a possible writer", () => {
  it("classifies writers, readers, unreadable processes and blind spots", async () => {
    const s = smallStore();
    const st = statSync(s.index);
    const other = join(s.base, "other.txt");
    writeFileSync(other, "");
    const scan = await scanWriters(
      st.dev,
      st.ino,
      fakeProc(s.index, [
        { pid: 10, comm: "receiverd", fds: [{ flags: "02102001" }] }, // O_WRONLY|O_APPEND|O_CLOEXEC...
        { pid: 11, comm: "tail", fds: [{ flags: "0100000" }] }, // read-only
        { pid: 12, comm: "editor", fds: [{ flags: "02", to: other }] },
        { pid: 13, comm: "hidden", unreadable: true },
        { pid: 14, comm: "mapper", maps: `7f00-7f10 rw-s 00000000 ${mapsDev(st.dev)} ${st.ino}    ${s.index}\n` },
      ]),
    );
    expect(scan.writers.map((w) => [w.pid, w.comm])).toEqual([
      [10, "receiverd"],
      [14, "mapper"],
    ]);
    expect(scan.writers[0].cmdline).toBe("/usr/bin/receiverd --spool /srv");
    expect(scan.unreadable.map((p) => [p.pid, p.comm])).toEqual([[13, "hidden"]]);
    expect(scan.unreadable[0].reason).toContain("EACCES");
    expect(scan.blind).toEqual([]);
    expect(scanProvesNoWriter(scan)).toBe(false);

    const nested = await scanWriters(st.dev, st.ino, fakeProc(s.index, [], { nspid: "4000 7" }));
    expect(nested.blind.join()).toContain("child PID namespace");
    const hidden = await scanWriters(st.dev, st.ino, fakeProc(s.index, [], { hidepid: "2", uid: 1000 }));
    expect(hidden.blind.join()).toContain("hidepid=2");
    const rootSees = await scanWriters(st.dev, st.ino, fakeProc(s.index, [], { hidepid: "2", uid: 0 }));
    expect(scanProvesNoWriter(rootSees)).toBe(true);
    const noProc: ProcAccess = { ...realProc, root: join(s.base, "no-such-proc") };
    expect((await scanWriters(st.dev, st.ino, noProc)).blind.join()).toContain("cannot list");
  });

  it("prune refuses on an unreadable process unless told to assume it does not write, and always on a writer", async () => {
    const engine = await loadInspector("reference");
    const run = (store: string, proc: ProcAccess, assume: boolean) =>
      runPruneCommand({
        store,
        mode: "archive",
        archiveRoot: `${store}-archive`,
        selected: new Set(QUALITY_REASONS),
        engine,
        jobs: 1,
        waitForWritersMs: 300,
        assumeNoHiddenWriters: assume,
        proc,
      } satisfies PruneRunOptions);
    const s = smallStore();
    const before = tarballs(s.store);
    const originalIndex = readFileSync(s.index);
    const hiddenProc = fakeProc(s.index, [{ pid: 4242, comm: "receiverd", unreadable: true }]);

    const refused = await run(s.store, hiddenProc, false);
    expect(refused.status).toBe("refused");
    expect(refused.reason).toContain("pid 4242 (receiverd: /usr/bin/receiverd --spool /srv)");
    expect(refused.reason).toContain("cannot be inspected");
    expect(refused.reason).toContain("--assume-no-hidden-writers");
    expect(refused.executed).toBeNull();
    expect(tarballs(s.store)).toEqual(before);
    expect(readFileSync(s.index).equals(originalIndex)).toBe(true);
    expect(readdirSync(s.store).sort()).toEqual(["index.jsonl", "lab-a"]);

    const writerProc = fakeProc(s.index, [{ pid: 4243, comm: "receiverd", fds: [{ flags: "02001" }] }]);
    const stillRefused = await run(s.store, writerProc, true);
    expect(stillRefused.status).toBe("refused");
    expect(stillRefused.reason).toContain("held open for writing by pid 4243");
    expect(tarballs(s.store)).toEqual(before);

    const done = await run(s.store, hiddenProc, true);
    expect(done.status, done.reason ?? "").toBe("ok");
    expect(done.executed?.moved).toBe(3);
    const counts = await rowCounts(s.index);
    expectExactlyOnce(counts, ["ep-0", "ep-2", "ep-4"], "ep-");
    expect(Object.keys(tarballs(s.archive)).length + Object.keys(tarballs(s.store)).length).toBe(6);
  });
});

describe("a planted journal cannot touch anything outside the store and the archive root", () => {
  const journalOf = (s: ReturnType<typeof smallStore>, over: Partial<PruneJournal>): PruneJournal => ({
    version: 1,
    created_at: "x",
    mode: "delete",
    archive_root: null,
    actions: [],
    drop_rows: [],
    ...over,
  });

  it("refuses every escape and leaves the outside files alone", async () => {
    const cases: Array<[string, (s: ReturnType<typeof smallStore>, victimDir: string) => PruneJournal]> = [
      ["a source climbing out", (s) => journalOf(s, { actions: [{ episode_id: "victim", host_id: "lab-a", src: "../../outside/victim.tar.zst", dst: null }] })],
      ["an absolute source", (s, v) => journalOf(s, { actions: [{ episode_id: "victim", host_id: "lab-a", src: join(v, "victim.tar.zst"), dst: null }] })],
      ["a host id of '..'", (s) => journalOf(s, { actions: [{ episode_id: "victim", host_id: "..", src: "../victim.tar.zst", dst: null }] })],
      [
        "a symlinked host directory",
        (s, v) => {
          symlinkSync(v, join(s.store, "lab-evil"));
          return journalOf(s, { actions: [{ episode_id: "victim", host_id: "lab-evil", src: "lab-evil/victim.tar.zst", dst: null }] });
        },
      ],
      [
        "an archive root elsewhere",
        (s, v) =>
          journalOf(s, {
            mode: "archive",
            archive_root: v,
            actions: [{ episode_id: "ep-1", host_id: "lab-a", src: "lab-a/ep-1.tar.zst", dst: join(v, "lab-a", "ep-1.tar.zst") }],
          }),
      ],
      [
        "a destination outside the archive root",
        (s, v) =>
          journalOf(s, {
            mode: "archive",
            archive_root: s.archive,
            actions: [{ episode_id: "ep-1", host_id: "lab-a", src: "lab-a/ep-1.tar.zst", dst: join(v, "victim.tar.zst") }],
          }),
      ],
      [
        "a symlinked archive host directory",
        (s, v) => {
          mkdirSync(s.archive);
          symlinkSync(v, join(s.archive, "lab-a"));
          return journalOf(s, {
            mode: "archive",
            archive_root: s.archive,
            actions: [{ episode_id: "victim", host_id: "lab-a", src: "lab-a/victim.tar.zst", dst: join(s.archive, "lab-a", "victim.tar.zst") }],
          });
        },
      ],
      ["an old-index name climbing out", (s) => journalOf(s, { drop_rows: [{ episode_id: "ep-1", host_id: "lab-a" }], index_swap: { prev: "../../outside/victim.tar.zst", copied: 0, new_size: 0 } })],
    ];
    for (const [name, make] of cases) {
      const s = smallStore();
      const victimDir = join(s.base, "outside");
      mkdirSync(victimDir);
      writeFileSync(join(victimDir, "victim.tar.zst"), "precious");
      // A same-named tarball inside the store, so a move would have something to do.
      writeFileSync(join(s.store, "lab-a", "victim.tar.zst"), "store copy");
      await writeJournal(s.store, make(s, victimDir));
      const beforeStore = hashTree(s.store);
      const res = await runCli(["prune", "--store", s.store, "--archive", ...(await writerFlags()), "--engine", "reference"]);
      expect(res.code, name).toBe(1);
      expect(res.stderr, name).toContain("unsafe");
      expect(readFileSync(join(victimDir, "victim.tar.zst"), "utf8"), name).toBe("precious");
      expect(readdirSync(victimDir), name).toEqual(["victim.tar.zst"]);
      expect(hashTree(s.store), name).toEqual(beforeStore);
      expect(existsSync(join(s.store, JOURNAL_FILE)), name).toBe(true);
    }
  });
});
