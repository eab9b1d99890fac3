// Data-parallel training over c10d (issue 10, section 3) on one machine:
// the epoch time of a sequence model with 1 rank vs 2 ranks (separate
// processes over loopback), the measured all-reduce time of the model's
// gradient bytes, and from that cost a projection on paper for N machines.
//
// Usage: node bench/distributed.mjs [--episodes 600] [--dir data/bench-dist-N]
//          [--model gru] [--epochs 1] [--batch-size 256] [--reps 50]
// Builds a small synthetic store once (synth -> validate -> features
// --tensors -> split, via bin/cis490), then trains:
//   1 rank x 2 threads, 1 rank x 1 thread, 2 ranks x 1 thread each.
// Prints a table and one JSON line (prefix "@@distributed-bench ").
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { arg, root } from "./common.mjs";

const cli = join(root, "bin", "cis490");

// --- child mode: one rank of the all-reduce measurement -------------------
if (process.argv[2] === "--allreduce-child") {
  const [rank, port, world, n, reps] = process.argv.slice(3).map(Number);
  const { ProcessGroup } = await import(join(root, "dist", "engines", "distributed.js"));
  const g = await ProcessGroup.connect({ rank, worldSize: world, host: "127.0.0.1", port, timeoutMs: 60000, rendezvousTimeoutMs: 60000 });
  const data = new Float32Array(n).fill(1);
  for (let i = 0; i < 3; i++) await g.allReduceSum(data, "warm-up");
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await g.allReduceSum(data, `rep ${i}`);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  if (rank === 0) process.stdout.write(JSON.stringify({ median_ms: ms[Math.floor(ms.length / 2)], p10_ms: ms[Math.floor(ms.length * 0.1)], p90_ms: ms[Math.floor(ms.length * 0.9)] }) + "\n");
  g.close();
  process.exit(0);
}

const episodes = Number(arg("episodes", "600"));
const dir = arg("dir", join(root, "data", `bench-dist-${episodes}`));
const model = arg("model", "gru");
const epochs = arg("epochs", "1");
const batch = arg("batch-size", "256");
const reps = Number(arg("reps", "50"));
const P = (...p) => join(dir, ...p);
const features = P("processed", "features_window.parquet");
const tensors = P("processed", "tensors");
const split = P("split_host.parquet");

function cis490(args) {
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`bench-distributed: cis490 ${args[0]} failed (${r.status})`);
}

if (!existsSync(split)) {
  process.stderr.write(`bench-distributed: building a ${episodes}-episode store in ${dir}\n`);
  if (!existsSync(P("corpus", "index.jsonl"))) cis490(["synth", "--out", P("corpus"), "--episodes", String(episodes), "--seed", "490", "--faults", "none"]);
  cis490(["validate", "--store", P("corpus"), "--out", P("acceptance.parquet")]);
  cis490(["features", "--store", P("corpus"), "--acceptance", P("acceptance.parquet"), "--out", P("processed"), "--tensors"]);
  cis490(["split", "--features", features, "--recipe", "host", "--out", split]);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

const trainArgs = (out, threads, extra = []) => [cli, "train", "--model", model, "--mode", "realistic", "--features", features, "--tensors", tensors, "--split", split, "--out", out, "--epochs", epochs, "--batch-size", batch, "--threads", String(threads), "--device", "cpu", "--force", "--json", ...extra];

function summarise(label, ranks, threads, results) {
  for (const r of results) if (r.code !== 0) throw new Error(`bench-distributed: ${label} failed: ${r.err.trim().split("\n").slice(-3).join(" | ")}`);
  const docs = results.map((r) => JSON.parse(r.out).results[0]);
  const d = docs[0];
  const io = JSON.parse(readFileSync(d.checkpoint, "utf8")).training.tensor_io;
  const epochS = d.epochs_run > 0 ? JSON.parse(readFileSync(d.checkpoint, "utf8")).history.reduce((a, h) => a + h.seconds, 0) / d.epochs_run : NaN;
  return { run: label, ranks, threads_per_rank: threads, epoch_s: +epochS.toFixed(2), step_s_total: +io.step_seconds.toFixed(2), val_macro_f1: +d.best.val_macro_f1.toFixed(4), n_train: d.n_train, source: io.source };
}

const load0 = loadavg();
const rows = [];
process.stderr.write("bench-distributed: 1 rank, 2 threads\n");
rows.push(summarise("1 rank x 2 threads", 1, 2, [await run(trainArgs(P("art-1x2"), 2))]));
process.stderr.write("bench-distributed: 1 rank, 1 thread\n");
rows.push(summarise("1 rank x 1 thread", 1, 1, [await run(trainArgs(P("art-1x1"), 1))]));
process.stderr.write("bench-distributed: 2 ranks, 1 thread each\n");
{
  const port = await freePort();
  const dist = (rank) => run(trainArgs(P(`art-2x1-r${rank}`), 1, ["--world-size", "2", "--rank", String(rank), "--master-addr", `127.0.0.1:${port}`]));
  const [a, b] = await Promise.all([dist(0), dist(1)]);
  rows.push(summarise("2 ranks x 1 thread", 2, 1, [a, b]));
}

// The gradient bytes one step all-reduces: every parameter, float32 (the ranks' flat buffer, + 2 scalars).
const sc = JSON.parse(readFileSync(join(P("art-1x1"), `${model}_realistic.ckpt.json`), "utf8"));
const { TorchModel } = await import(join(root, "dist", "engines", "index.js"));
const probe = new TorchModel({ ...sc.hyper_parameters.torch_config, threads: 1, device: "cpu" });
const nParams = probe.numParameters;
await probe.dispose();
const floats = nParams + 2;
process.stderr.write(`bench-distributed: all-reduce of ${floats} float32 (${(floats * 4 / 2 ** 20).toFixed(2)} MiB), 2 ranks over loopback, ${reps} reps\n`);
const port = await freePort();
const child = (rank) => run([join(root, "bench", "distributed.mjs"), "--allreduce-child", String(rank), String(port), "2", String(floats), String(reps)]);
const [c0, c1] = await Promise.all([child(0), child(1)]);
if (c0.code !== 0 || c1.code !== 0) throw new Error(`bench-distributed: all-reduce children failed: ${c0.err}${c1.err}`);
const allreduce = JSON.parse(c0.out.trim().split("\n").pop());
const load1 = loadavg();

// Projection on paper: N machines like this one, each rank on its own
// machine with all its cores. One step's compute splits N ways (each rank
// has 1/N of the global batch); a ring all-reduce moves 2(N-1)/N of the
// buffer over each link, so from the 2-rank measurement (factor 1):
//   allreduce(N) = measured * 2(N-1)/N        (same link speed as measured)
// and for real networks, latency a = 50 us per hop, bandwidth B:
//   allreduce(N) = 2(N-1) a + 2(N-1)/N * bytes / B
const steps = Math.floor(rows[0].n_train / Number(batch)) + (rows[0].n_train % Number(batch) >= 2 ? 1 : 0);
// The machine's speed: the faster of the two 1-rank runs (on a loaded machine two OpenMP threads can be the slower).
const stepCompute = Math.min(rows[0].step_s_total, rows[1].step_s_total) / steps;
const bytes = floats * 4;
const arModels = {
  "loopback (measured)": (n) => (n === 1 ? 0 : (allreduce.median_ms / 1000) * (2 * (n - 1)) / n),
  "1 GbE": (n) => (n === 1 ? 0 : 2 * (n - 1) * 50e-6 + ((2 * (n - 1)) / n) * (bytes / 125e6)),
  "10 GbE": (n) => (n === 1 ? 0 : 2 * (n - 1) * 50e-6 + ((2 * (n - 1)) / n) * (bytes / 1.25e9)),
};
const projection = [1, 2, 4, 8, 16, 32].map((n) => {
  const row = { machines: n };
  for (const [name, ar] of Object.entries(arModels)) {
    const t = stepCompute / n + ar(n);
    row[name] = { step_ms: +(t * 1000).toFixed(2), speedup: +(stepCompute / t).toFixed(2) };
  }
  return row;
});

const cores = availableParallelism();
process.stdout.write(`\nbench-distributed: ${model}, ${rows[0].n_train} train windows, global batch ${batch}, ${epochs} epoch(s), ${cores} cores, load average ${load0.map((x) => x.toFixed(2)).join(" ")} -> ${load1.map((x) => x.toFixed(2)).join(" ")}\n\n`);
process.stdout.write("| run | epoch s (train + val) | engine step s | val macro F1 |\n|---|---|---|---|\n");
for (const r of rows) process.stdout.write(`| ${r.run} | ${r.epoch_s} | ${r.step_s_total} | ${r.val_macro_f1} |\n`);
process.stdout.write(`\nall-reduce of ${nParams} parameters (${(bytes / 1024).toFixed(1)} KiB float32), 2 ranks, loopback: median ${allreduce.median_ms.toFixed(3)} ms (p10 ${allreduce.p10_ms.toFixed(3)}, p90 ${allreduce.p90_ms.toFixed(3)}) per step; one step's compute at 1 rank: ${(stepCompute * 1000).toFixed(1)} ms\n\n`);
process.stdout.write(`| machines | ${Object.keys(arModels).map((k) => `${k}: step ms (speedup)`).join(" | ")} |\n|---|${Object.keys(arModels).map(() => "---").join("|")}|\n`);
for (const p of projection) process.stdout.write(`| ${p.machines} | ${Object.keys(arModels).map((k) => `${p[k].step_ms} (${p[k].speedup}x)`).join(" | ")} |\n`);
process.stdout.write("@@distributed-bench " + JSON.stringify({ model, episodes, batch: Number(batch), epochs: Number(epochs), cores, loadavg: [load0, load1], runs: rows, params: nParams, allreduce_bytes: bytes, allreduce, step_compute_s: stepCompute, projection }) + "\n");
