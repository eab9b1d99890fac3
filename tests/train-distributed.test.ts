// Data-parallel training over c10d (issue 10, section 3): how ranks split
// the data (in-process, with a fake two-rank world), and `cis490 train
// --world-size 2` as two real processes over loopback: the same weights as
// one process, nothing written by rank 1, and a dead or stalled peer turned
// into a clear non-zero exit within the timeout, never a hang.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TorchModel } from "../src/engines/index.js";
import { f1Scores } from "../src/stats/metrics.js";
import { chunkedPlan, macroF1FromConfusion, runTrainingLoop, shareOf, stepsPerEpoch, type LoopDistribution, type LoopOptions, type StepModel } from "../src/train/loop.js";
import type { ChunkedData, SequenceChunk } from "../src/train/sequence-data.js";
import { runCli } from "./helpers/cli.js";
import { describeWith } from "./helpers/prerequisites.js";
import { makeToy, type Toy } from "./helpers/train-toy.js";

const ROOT = join(import.meta.dirname, "..");
const root = mkdtempSync(join(tmpdir(), "cis490-train-dist-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe("how ranks split the work", () => {
  it("shareOf covers a batch exactly once, contiguous, sizes within one", () => {
    for (const [size, world] of [[32, 2], [7, 3], [2, 2], [5, 1], [3, 4]]) {
      const parts = Array.from({ length: world }, (_, r) => shareOf(size, world, r));
      expect(parts.reduce((a, p) => a + p.count, 0)).toBe(size);
      parts.forEach((p, r) => {
        if (r > 0) expect(p.offset).toBe(parts[r - 1].offset + parts[r - 1].count);
        expect(Math.abs(p.count - Math.floor(size / world))).toBeLessThanOrEqual(1);
      });
    }
    // A last partial batch is kept only when every rank gets a row of it (and never a batch of one).
    expect(stepsPerEpoch(65, 32, 2)).toBe(2);
    expect(stepsPerEpoch(66, 32, 2)).toBe(3);
    expect(stepsPerEpoch(66, 32, 3)).toBe(2);
    expect(stepsPerEpoch(67, 32, 3)).toBe(3);
  });

  it("chunkedPlan: rank r owns every N-th chunk, and all ranks take the same number of full local steps", () => {
    const rows = [10, 3, 7, 9, 4];
    const a = chunkedPlan(rows, 4, 2, 0);
    const b = chunkedPlan(rows, 4, 2, 1);
    expect(a.owned).toEqual([0, 2, 4]);
    expect(b.owned).toEqual([1, 3]);
    expect(a.localBatch + b.localBatch).toBe(4);
    // rank 0: 21 rows / 2 = 10 batches; rank 1: 12 rows / 2 = 6: both take 6.
    expect(a.steps).toBe(6);
    expect(b.steps).toBe(6);
  });

  it("macro F1 from summed confusion counts equals f1Scores on the concatenated labels", () => {
    const r = lcg(5);
    for (let trial = 0; trial < 20; trial++) {
      const k = 6;
      const n = 1 + Math.floor(r() * 80);
      const y = Int32Array.from({ length: n }, () => Math.floor(r() * (trial % 2 ? 3 : k)));
      const p = Int32Array.from({ length: n }, () => Math.floor(r() * k));
      const counts = new Float64Array(k * k);
      for (let i = 0; i < n; i++) counts[y[i] * k + p[i]]++;
      expect(macroF1FromConfusion(counts, k)).toBe(f1Scores(y, p).macroF1);
    }
  });
});

/** N ranks in one process: each collective resolves once every rank has called it (same `what`, in order). */
function fakeWorld(n: number): LoopDistribution[] {
  const waiting = new Map<string, Array<{ data: Float64Array; resolve: (v: Float64Array) => void; rank: number }>>();
  const meet = (rank: number, what: string, data: Float64Array, combine: (all: Float64Array[]) => Float64Array): Promise<Float64Array> =>
    new Promise((resolve) => {
      const list = waiting.get(what) ?? [];
      list.push({ data, resolve, rank });
      waiting.set(what, list);
      if (list.length === n) {
        waiting.delete(what);
        const sorted = [...list].sort((a, b) => a.rank - b.rank);
        const out = combine(sorted.map((e) => e.data));
        for (const e of list) e.resolve(out.slice());
      }
    });
  return Array.from({ length: n }, (_, rank) => ({
    rank,
    worldSize: n,
    allReduceSum: (d, what) => meet(rank, `sum:${what}`, d, (all) => all.reduce((acc, v) => acc.map((x, i) => x + v[i]))),
    broadcast: (d, root, what) => meet(rank, `bcast:${what}`, d, (all) => all[root]),
  }));
}

/** A model that records the row ids (x[row * rowLen]) of every batch it steps on. */
function recorder(rowLen: number, nClasses: number): StepModel & { seen: number[][]; saves: number } {
  const m = {
    seen: [] as number[][],
    saves: 0,
    async trainStep(x: Float32Array) {
      m.seen.push(Array.from({ length: x.length / rowLen }, (_, k) => x[k * rowLen]));
      return { loss: 1, skipped: false };
    },
    async predictProba(x: Float32Array) {
      return new Float32Array((x.length / rowLen) * nClasses).fill(1 / nClasses);
    },
    async save() {
      m.saves++;
    },
  };
  return m;
}

const loopOptions = (extra: Partial<LoopOptions>): LoopOptions => ({ epochs: 2, batchSize: 6, lr: 1e-3, warmupFraction: 0, clipNorm: 0, patience: 0, maxMinutes: 0, seed: 9, nClasses: 2, classWeights: new Float32Array([1, 1]), bestPath: "/dev/null", shuffleBuffer: 5, ...extra });

describe("the loop across ranks (a fake two-rank world)", () => {
  it("in memory: the ranks' shares of each step are, together, exactly one process's batch", async () => {
    const n = 40;
    const x = Float32Array.from({ length: n }, (_, i) => i);
    const data = { n, rowLen: 1, x, mask: null, y: Int32Array.from({ length: n }, (_, i) => i % 2) };
    const single = recorder(1, 2);
    await runTrainingLoop(single, data, data, loopOptions({}));
    const [d0, d1] = fakeWorld(2);
    const r0 = recorder(1, 2);
    const r1 = recorder(1, 2);
    const [a, b] = await Promise.all([runTrainingLoop(r0, data, data, loopOptions({ dist: d0 })), runTrainingLoop(r1, data, data, loopOptions({ dist: d1 }))]);
    expect(r0.seen.length).toBe(single.seen.length);
    expect(r0.seen.map((s, i) => [...s, ...r1.seen[i]])).toEqual(single.seen);
    // Validation shares are disjoint, the counts summed: the same F1 as one process; only rank 0 saves.
    expect(a.history.map((h) => h.val_macro_f1)).toEqual(b.history.map((h) => h.val_macro_f1));
    expect(r0.saves).toBeGreaterThan(0);
    expect(r1.saves).toBe(0);
  });

  it("chunked: each rank reads only its own chunks, the steps match, no row is seen twice in an epoch", async () => {
    const sizes = [9, 4, 7, 11, 6, 5];
    let id = 0;
    const chunks: SequenceChunk[] = sizes.map((n) => {
      const x = Float32Array.from({ length: n }, () => id++);
      return { n, x, mask: new Uint8Array(n).fill(1), y: Int32Array.from({ length: n }, (_, i) => i % 2) };
    });
    const loaded: number[][] = [[], []];
    const data = (rank: number): ChunkedData => ({ n: id, rowLen: 1, chunkCount: chunks.length, chunkRows: sizes, io: { seconds: 0, bytes: 0, chunks: 0 }, load: async (c) => (loaded[rank].push(c), chunks[c]) });
    const [d0, d1] = fakeWorld(2);
    const r0 = recorder(1, 2);
    const r1 = recorder(1, 2);
    const [a, b] = await Promise.all([runTrainingLoop(r0, data(0), data(0), loopOptions({ dist: d0 })), runTrainingLoop(r1, data(1), data(1), loopOptions({ dist: d1 }))]);
    expect(new Set(loaded[0])).toEqual(new Set([0, 2, 4]));
    expect(new Set(loaded[1])).toEqual(new Set([1, 3, 5]));
    const steps = chunkedPlan(sizes, 6, 2, 0).steps;
    expect(r0.seen.length).toBe(2 * steps);
    expect(r1.seen.length).toBe(2 * steps);
    for (let e = 0; e < 2; e++) {
      const rows = [...r0.seen.slice(e * steps, (e + 1) * steps).flat(), ...r1.seen.slice(e * steps, (e + 1) * steps).flat()];
      expect(rows.length).toBe(steps * 6);
      expect(new Set(rows).size).toBe(rows.length);
    }
    expect(a.history).toHaveLength(2);
    expect(b.history.map((h) => h.val_macro_f1)).toEqual(a.history.map((h) => h.val_macro_f1));
  });
});

describe("train --world-size: usage", () => {
  it("refuses the models that do not train data-parallel, and incomplete or inconsistent rank options", async () => {
    const gbt = await runCli(["train", "--model", "gbt", "--world-size", "2", "--rank", "0", "--master-addr", "127.0.0.1:29500"]);
    expect(gbt.code).toBe(2);
    expect(gbt.stderr).toMatch(/--world-size trains the neural classifiers.*gbt/);
    const rocket = await runCli(["train", "--model", "minirocket", "--world-size", "2", "--rank", "0", "--master-addr", "127.0.0.1:29500"]);
    expect(rocket.stderr).toMatch(/minirocket/);
    expect((await runCli(["train", "--model", "mlp", "--world-size", "2", "--master-addr", "127.0.0.1:29500"])).stderr).toMatch(/needs --rank/);
    expect((await runCli(["train", "--model", "mlp", "--world-size", "2", "--rank", "2", "--master-addr", "127.0.0.1:29500"])).stderr).toMatch(/--rank must be in 0..1/);
    expect((await runCli(["train", "--model", "mlp", "--world-size", "2", "--rank", "0", "--master-addr", "nohostport"])).stderr).toMatch(/HOST:PORT/);
    expect((await runCli(["train", "--model", "mlp", "--mode", "realistic,oracle", "--world-size", "2", "--rank", "0", "--master-addr", "127.0.0.1:1"])).stderr).toMatch(/one model in one mode/);
    const lone = await runCli(["train", "--model", "mlp", "--rank", "1"]);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toMatch(/go with --world-size/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Rank {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; seconds: number }>;
  stderr: () => string;
}

function startRank(args: string[]): Rank {
  const child = spawn(process.execPath, [join(ROOT, "bin", "cis490"), "train", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, OMP_NUM_THREADS: "1" } });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const t0 = Date.now();
  const done = new Promise<Awaited<Rank["done"]>>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout: out, stderr: err, seconds: (Date.now() - t0) / 1000 })));
  return { child, done, stderr: () => err };
}

async function until(what: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function weightsOf(sidecarPath: string): Promise<Float32Array[]> {
  const sc = JSON.parse(readFileSync(sidecarPath, "utf8")) as { hyper_parameters: { torch_config: Record<string, unknown> }; weights_file: string };
  const m = new TorchModel({ ...(sc.hyper_parameters.torch_config as never), threads: 1, device: "cpu" });
  await m.load(join(sidecarPath, "..", sc.weights_file));
  const t = await m.namedTensors();
  await m.dispose();
  return t.map((e) => e.data);
}

describeWith("build", "train --world-size 2 over loopback (two processes, c10d/Gloo)", () => {
  let toy: Toy;
  const base = (out: string, extra: string[] = []) => [
    "--model", "mlp", "--features", toy.features, "--split", toy.split, "--out", out,
    "--batch-size", "32", "--dropout", "0", "--hidden", "16", "--layers", "1", "--seed", "3", "--patience", "0", "--threads", "1", "--device", "cpu", "--json", ...extra,
  ];
  beforeAll(async () => {
    toy = await makeToy(join(root, "toy"));
  });

  it("two ranks train the mlp to the weights of one process on the same global batches (1e-5); rank 1 writes nothing", async () => {
    // 288 train windows, global batch 32: 9 steps an epoch, 18 steps in all.
    const single = startRank(base(join(root, "single"), ["--epochs", "2"]));
    const port = await freePort();
    const dist = (rank: number) => startRank(base(join(root, `rank${rank}`), ["--epochs", "2", "--world-size", "2", "--rank", String(rank), "--master-addr", `127.0.0.1:${port}`, "--dist-timeout", "20", "--rendezvous-timeout", "60"]));
    const [s, a, b] = await Promise.all([single.done, dist(0).done, dist(1).done]);
    expect(s.code, s.stderr).toBe(0);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ja = JSON.parse(a.stdout);
    const jb = JSON.parse(b.stdout);
    const js = JSON.parse(s.stdout);
    expect(ja.results[0].distributed).toMatchObject({ world_size: 2, global_batch: 32 });
    expect(jb.results[0].worker).toEqual({ rank: 1, world_size: 2 });
    expect(jb.results[0].registered).toBeNull();
    expect(existsSync(join(root, "rank1"))).toBe(false);
    expect(ja.results[0].best).toEqual(js.results[0].best);
    const [ws, wd] = await Promise.all([weightsOf(js.results[0].checkpoint), weightsOf(ja.results[0].checkpoint)]);
    expect(wd.length).toBe(ws.length);
    let max = 0;
    ws.forEach((t, i) => t.forEach((v, j) => (max = Math.max(max, Math.abs(v - wd[i][j])))));
    expect(max).toBeLessThan(1e-5);
    // ...and training moved them (the comparison is not between two initialisations).
    const fresh = new TorchModel({ ...(JSON.parse(readFileSync(ja.results[0].checkpoint, "utf8")).hyper_parameters.torch_config as never), threads: 1, device: "cpu" });
    const init = (await fresh.namedTensors()).map((e) => e.data);
    await fresh.dispose();
    let moved = 0;
    init.forEach((t, i) => t.forEach((v, j) => (moved = Math.max(moved, Math.abs(v - wd[i][j])))));
    expect(moved).toBeGreaterThan(1e-3);
  }, 120_000);

  it("two ranks train a GRU streamed from the shard files: the same history on both, rank 0's checkpoint records it", async () => {
    const port = await freePort();
    const args = (rank: number) => [
      "--model", "gru", "--features", toy.features, "--tensors", toy.tensors, "--split", toy.split, "--out", join(root, `gru${rank}`),
      "--epochs", "2", "--batch-size", "16", "--hidden", "8", "--layers", "1", "--seed", "3", "--patience", "0", "--threads", "1", "--device", "cpu",
      "--tensor-budget-mb", "0", "--json", "--world-size", "2", "--rank", String(rank), "--master-addr", `127.0.0.1:${port}`, "--dist-timeout", "20", "--rendezvous-timeout", "60",
    ];
    const [a, b] = await Promise.all([startRank(args(0)).done, startRank(args(1)).done]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ra = JSON.parse(a.stdout).results[0];
    const rb = JSON.parse(b.stdout).results[0];
    expect(rb.worker).toEqual({ rank: 1, world_size: 2 });
    expect(existsSync(join(root, "gru1"))).toBe(false);
    expect(rb.best).toEqual(ra.best);
    const sc = JSON.parse(readFileSync(ra.checkpoint, "utf8"));
    expect(sc.training.distributed).toMatchObject({ world_size: 2, global_batch: 16 });
    expect(sc.training.tensor_io.source).toBe("stream");
    expect(sc.history).toHaveLength(2);
    expect((await weightsOf(ra.checkpoint)).length).toBeGreaterThan(0);
  }, 120_000);

  it("a rank killed mid-epoch makes the other exit 1 naming its rank and the collective, within the timeout", async () => {
    const port = await freePort();
    const args = (rank: number) => base(join(root, `kill${rank}`), ["--epochs", "100000", "--world-size", "2", "--rank", String(rank), "--master-addr", `127.0.0.1:${port}`, "--dist-timeout", "5", "--rendezvous-timeout", "60"]);
    const r0 = startRank(args(0));
    const r1 = startRank(args(1));
    await until(() => /epoch [1-9]/.test(r1.stderr()), 60_000);
    const killedAt = Date.now();
    r1.child.kill("SIGKILL");
    const a = await r0.done;
    expect(a.code).toBe(1);
    expect((Date.now() - killedAt) / 1000).toBeLessThan(5 * 1.5 + 3);
    expect(a.stderr).toMatch(/rank 0 of 2: (all-reduce|broadcast) \((gradients of step \d+|validation counts of epoch \d+|stop decision after epoch \d+)\) failed/);
    expect(a.stderr).toMatch(/a peer rank exited or stalled/);
    expect(JSON.parse(a.stdout).failures).toHaveLength(1);
  }, 120_000);

  it("a stalled rank (SIGSTOP) makes the other fail after the collective timeout, not hang", async () => {
    const port = await freePort();
    const args = (rank: number) => base(join(root, `stall${rank}`), ["--epochs", "100000", "--world-size", "2", "--rank", String(rank), "--master-addr", `127.0.0.1:${port}`, "--dist-timeout", "3", "--rendezvous-timeout", "60"]);
    const r0 = startRank(args(0));
    const r1 = startRank(args(1));
    try {
      await until(() => /epoch [1-9]/.test(r1.stderr()), 60_000);
      const stoppedAt = Date.now();
      r1.child.kill("SIGSTOP");
      const a = await r0.done;
      const waited = (Date.now() - stoppedAt) / 1000;
      expect(a.code).toBe(1);
      expect(waited).toBeGreaterThan(2.5);
      expect(waited).toBeLessThan(3 * 1.5 + 3);
      expect(a.stderr).toMatch(/rank 0 of 2: (all-reduce|broadcast) .* failed after .*timeout 3 s/);
    } finally {
      r1.child.kill("SIGKILL");
      await r1.done;
    }
  }, 120_000);

  it("a rank whose peers never come fails the rendezvous after its timeout", async () => {
    const port = await freePort();
    const r1 = startRank(base(join(root, "alone"), ["--epochs", "1", "--world-size", "2", "--rank", "1", "--master-addr", `127.0.0.1:${port}`, "--rendezvous-timeout", "2"]));
    const b = await r1.done;
    expect(b.code).toBe(1);
    expect(b.seconds).toBeLessThan(20);
    expect(b.stderr).toMatch(/rank 1 of 2: rendezvous at 127\.0\.0\.1:\d+ failed/);
  }, 60_000);
});
