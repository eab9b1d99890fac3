// Crash safety: `prune --archive` in a child process, killed with SIGKILL
// after a seeded random delay, again and again. After every kill no tarball
// and no unplanned index row may be lost; a final rerun completes the job.

import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readIndex } from "../src/store/index-file.js";
import { JOURNAL_FILE, LOCK_FILE } from "../src/store/prune-journal.js";
import { runCli } from "./helpers/cli.js";
import { startAppender, writerFlags } from "./helpers/prune.js";
import { hashTree, indexRow, writeStore, type StoreItem } from "./helpers/store-fixture.js";


const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
// Inside the repository (ignored .cache/) so the compiled files resolve node_modules.
const BUILD = join(ROOT, ".cache", `store-tests-dist-${process.pid}`);
const ENTRY = join(BUILD, "prune-child.mjs");

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  // Compile the sources (tsc emits even if a file elsewhere does not type-check yet).
  spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", BUILD], { encoding: "utf8" });
  if (!existsSync(join(BUILD, "cli", "commands", "prune.js"))) throw new Error(`could not compile the prune command into ${BUILD}`);
  writeFileSync(
    ENTRY,
    `import { Cli } from "clipanion";
import { PruneCommand } from "./cli/commands/prune.js";
const cli = new Cli({ binaryName: "cis490" });
cli.register(PruneCommand);
process.exitCode = await cli.run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
`,
  );
});

afterAll(() => rmSync(BUILD, { recursive: true, force: true }));

function buildPristine(dir: string): void {
  const items: StoreItem[] = [];
  for (let i = 0; i < 40; i++) {
    const host = i % 3 === 0 ? "lab-b" : "lab-a";
    // every other episode is flagged, for varied reasons
    const kind = i % 2 === 0 ? "good" : ["flat", "nosample", "failed", "noevents"][(i >> 1) % 4];
    items.push({
      spec: {
        episode_id: `ep-${String(i).padStart(3, "0")}`,
        host_id: host,
        character: kind === "flat" ? "flat" : "signal",
        meta: kind === "nosample" ? { sample: null } : undefined,
        events: kind === "failed" ? [{ t: 31, event: "workload_failed", error: "x" }] : kind === "noevents" ? [] : undefined,
        durationS: 30,
        labels: [["clean", 0], ["armed", 5], ["infected_running", 10], ["dormant", 25]],
      },
    });
  }
  // Index extras that must survive verbatim: a torn line of two kept records, junk, a half record.
  const torn = JSON.stringify(indexRow("ghost-1", "lab-c", Buffer.from("1"))) + JSON.stringify(indexRow("ghost-2", "lab-c", Buffer.from("2")));
  writeStore(dir, items, `${torn}\nnot json at all\n{"episode_id":"half`);
}

interface Truth {
  files: Record<string, string>;
  indexLines: string[];
  flagged: Set<string>; // relative tarball paths
}

function checkInvariant(store: string, archive: string, truth: Truth, context: string): void {
  const now = hashTree(store);
  const archived = hashTree(archive);
  for (const [rel, sha] of Object.entries(truth.files)) {
    const inStore = now[rel] === sha;
    const inArchive = archived[rel] === sha;
    expect(inStore || inArchive, `${context}: ${rel} lost`).toBe(true);
    if (inArchive || !inStore) expect(truth.flagged.has(rel), `${context}: ${rel} archived but not flagged`).toBe(true);
  }
  for (const rel of Object.keys(archived)) expect(truth.flagged.has(rel), `${context}: unexpected ${rel} in the archive`).toBe(true);
  const lines = new Set(readFileSync(join(store, "index.jsonl"), "utf8").split("\n"));
  for (const line of truth.indexLines) {
    const flaggedRow = [...truth.flagged].some((rel) => line.startsWith(`{"episode_id":"${rel.split("/")[1].replace(".tar.zst", "")}"`));
    if (!flaggedRow) expect(lines.has(line), `${context}: index line lost: ${line.slice(0, 60)}`).toBe(true);
  }
}

async function checkDone(store: string, archive: string, truth: Truth): Promise<void> {
  checkInvariant(store, archive, truth, "final");
  const now = hashTree(store);
  const archived = hashTree(archive);
  for (const rel of truth.flagged) {
    expect(now[rel], `${rel} still in the store`).toBeUndefined();
    expect(archived[rel]).toBe(truth.files[rel]);
  }
  const ids = new Set((await readIndex(join(store, "index.jsonl"))).entries.map((e) => e.record.episode_id));
  for (const rel of truth.flagged) expect(ids.has(rel.split("/")[1].replace(".tar.zst", ""))).toBe(false);
  expect(readdirSync(store).filter((n) => n.startsWith("."))).toEqual([]);
  expect(existsSync(join(store, JOURNAL_FILE))).toBe(false);
  expect(existsSync(join(store, LOCK_FILE))).toBe(false);
}

const FLAGS = await writerFlags("20s");

function startPrune(store: string) {
  const child = spawn(process.execPath, [ENTRY, "prune", "--store", store, "--archive", ...FLAGS, "--json", "--engine", "reference", "--jobs", "1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, exited, stderr: () => stderr, stdout: () => stdout };
}

async function truthOf(pristine: string): Promise<Truth> {
  const dry = JSON.parse((await runCli(["prune", "--store", pristine, "--json", "--engine", "reference"])).stdout);
  return {
    files: Object.fromEntries(Object.entries(hashTree(pristine)).filter(([rel]) => rel !== "index.jsonl")),
    indexLines: readFileSync(join(pristine, "index.jsonl"), "utf8").split("\n").filter((l) => l.length > 0),
    flagged: new Set(dry.flagged_episodes.map((f: { host: string; episode: string }) => `${f.host}/${f.episode}.tar.zst`)),
  };
}

/** Each receiver row `<prefix>0..n-1` exactly once in the index, and no other. */
async function expectReceiverRows(store: string, prefix: string, n: number): Promise<void> {
  const counts = new Map<string, number>();
  for (const e of (await readIndex(join(store, "index.jsonl"))).entries) {
    if (e.record.episode_id.startsWith(prefix)) counts.set(e.record.episode_id, (counts.get(e.record.episode_id) ?? 0) + 1);
  }
  const bad = Array.from({ length: n }, (_, i) => `${prefix}${i}`).filter((id) => counts.get(id) !== 1);
  expect(bad.length, `receiver rows lost or duplicated: ${bad.slice(0, 5).join(", ")}`).toBe(0);
  expect(counts.size).toBe(n);
}

describe("prune --archive under SIGKILL", () => {
  it("loses nothing at any kill point, and a rerun completes the job", { timeout: 120_000 }, async () => {
    const base = mkdtempSync(join(tmpdir(), "cis490-crash-"));
    const pristine = join(base, "pristine");
    buildPristine(pristine);
    const truth = await truthOf(pristine);
    expect(truth.flagged.size).toBe(20);

    // Time one uninterrupted run: when its journal appears, and when it ends.
    const timing = join(base, "timing", "store");
    mkdirSync(join(base, "timing"));
    cpSync(pristine, timing, { recursive: true });
    const t0 = Date.now();
    const probe = startPrune(timing);
    let tJournal = -1;
    let finished = false;
    probe.exited.then(() => (finished = true));
    while (!finished) {
      if (tJournal < 0 && existsSync(join(timing, JOURNAL_FILE))) tJournal = Date.now() - t0;
      await sleep(1);
    }
    expect(await probe.exited, probe.stderr()).toBe(0);
    const tTotal = Date.now() - t0;
    expect(tJournal).toBeGreaterThan(0);
    await checkDone(timing, join(base, "timing", "store-archive"), truth);

    const rng = mulberry32(490);
    let kills = 0;
    let killsDuringExecution = 0;
    for (let copy = 0; copy < 4; copy++) {
      const store = join(base, `copy-${copy}`, "store");
      const archive = join(base, `copy-${copy}`, "store-archive");
      mkdirSync(join(base, `copy-${copy}`));
      cpSync(pristine, store, { recursive: true });
      for (let k = 0; k < 5; k++) {
        const run = startPrune(store);
        let exited = false;
        run.exited.then(() => (exited = true));
        if (rng() < 0.2) {
          await sleep(rng() * tJournal); // during startup / the sweep
        } else {
          // wait for the journal (the start of execution), then kill somewhere inside execution
          const deadline = Date.now() + tTotal * 3 + 2000;
          while (!exited && !existsSync(join(store, JOURNAL_FILE)) && Date.now() < deadline) await sleep(1);
          await sleep(rng() * Math.max(5, tTotal - tJournal));
          if (!exited) killsDuringExecution++;
        }
        if (!exited) run.child.kill("SIGKILL");
        await run.exited;
        kills++;
        checkInvariant(store, archive, truth, `copy ${copy} kill ${k}`);
      }
      const rerun = startPrune(store);
      expect(await rerun.exited, rerun.stderr()).toBe(0);
      await checkDone(store, archive, truth);
    }
    expect(kills).toBe(20);
    // The test is only meaningful if some kills landed while files were moving.
    expect(killsDuringExecution).toBeGreaterThan(3);
    rmSync(base, { recursive: true, force: true });
  });

  it("loses no row of a receiver appending throughout, kill after kill, and a final run completes", { timeout: 120_000 }, async () => {
    const base = mkdtempSync(join(tmpdir(), "cis490-crash-recv-"));
    const pristine = join(base, "pristine");
    buildPristine(pristine);
    const truth = await truthOf(pristine);
    const store = join(base, "run", "store");
    const archive = join(base, "run", "store-archive");
    mkdirSync(join(base, "run"));
    cpSync(pristine, store, { recursive: true });
    // End the pristine half record, so the receiver's rows do not glue onto it (a torn line the invariant check would not recognise).
    writeFileSync(join(store, "index.jsonl"), readFileSync(join(store, "index.jsonl"), "utf8") + "\n");
    // The receiver that lost nothing in the field: open, append one row, close, every ~2 ms.
    const receiver = startAppender(join(store, "index.jsonl"), { style: "open-append-close", prefix: "recv-", everyMs: 2, maxMs: 100_000, dir: base });
    await receiver.ready;
    const rng = mulberry32(8);
    let killsDuringExecution = 0;
    try {
      for (let k = 0; k < 10; k++) {
        const run = startPrune(store);
        let exited = false;
        run.exited.then(() => (exited = true));
        const deadline = Date.now() + 15_000;
        while (!exited && !existsSync(join(store, JOURNAL_FILE)) && Date.now() < deadline) await sleep(1);
        await sleep(rng() * 250);
        if (!exited) {
          killsDuringExecution++;
          run.child.kill("SIGKILL");
        }
        await run.exited;
        checkInvariant(store, archive, truth, `kill ${k}`);
      }
      const rerun = startPrune(store);
      expect(await rerun.exited, rerun.stderr()).toBe(0);
    } catch (error) {
      receiver.kill();
      throw error;
    }
    const n = await receiver.stop();
    expect(n).toBeGreaterThan(500);
    await expectReceiverRows(store, "recv-", n);
    await checkDone(store, archive, truth);
    expect(killsDuringExecution).toBeGreaterThan(5);
    rmSync(base, { recursive: true, force: true });
  });

  it("two prunes started together: only one acts, the other says why, nothing lost", { timeout: 120_000 }, async () => {
    const base = mkdtempSync(join(tmpdir(), "cis490-crash-pair-"));
    const pristine = join(base, "pristine");
    buildPristine(pristine);
    const truth = await truthOf(pristine);
    for (let round = 0; round < 3; round++) {
      const store = join(base, `r${round}`, "store");
      mkdirSync(join(base, `r${round}`));
      cpSync(pristine, store, { recursive: true });
      const runs = [startPrune(store), startPrune(store)];
      const codes = await Promise.all(runs.map((r) => r.exited));
      const acted = runs.filter((r, i) => codes[i] === 0 && JSON.parse(r.stdout()).result !== null);
      expect(acted.length, runs.map((r) => r.stderr()).join("\n")).toBe(1);
      runs.forEach((r, i) => {
        if (codes[i] !== 0) {
          expect(codes[i]).toBe(1);
          expect(r.stderr()).toContain("another prune is running");
          expect(r.stderr()).toMatch(/prune pid \d+ on /);
        }
      });
      await checkDone(store, join(base, `r${round}`, "store-archive"), truth);
    }
    rmSync(base, { recursive: true, force: true });
  });
});
