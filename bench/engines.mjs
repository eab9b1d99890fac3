// Times the model engines on realistic shapes: training steps per torch
// architecture (batch 256 of 46 channels x 100 steps + mask channels, or 230
// summary features for the mlp), extrapolated to an epoch over 18,000
// windows, next to the same architectures in PyTorch (bench/engines_torch.py,
// when Debian's python3-torch is installed: a comparison column only), and
// XGBoost training (18,000 x 230, 6 classes, 200 rounds) per nthread.
//
// Usage: node bench/engines.mjs [--kinds mlp,cnn,gru,lstm,transformer] [--steps 20]
//          [--threads N] [--windows 18000] [--gbt-rows 18000] [--rounds 200]
//          [--nthreads 1,2] [--repeat 2] [--no-pytorch] [--no-gbt]
// The build machines' cores are shared with other jobs, so every number is
// the best of --repeat interleaved runs (ours, then PyTorch). PyTorch runs
// twice per repeat, with libgomp's default spinning and with
// OMP_WAIT_POLICY=passive, and its better time is the bar: a single busy
// OpenMP team spins badly on a contended machine (see SetThreads in
// engines/src/torch_model.cc).
// Prints a table and one JSON line (prefix "@@engines-bench ").
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { root, arg, flag } from "./common.mjs";


const shapes = {
  kinds: arg("kinds", "mlp,cnn,gru,lstm,transformer").split(","),
  threads: Number(arg("threads", String(availableParallelism()))),
  steps: Number(arg("steps", "20")),
  warmup: 3,
  batch: 256,
  n_channels: 46,
  seq_len: 100,
  n_features: 230,
  n_classes: 6,
  hidden: 64,
  layers: 2,
  heads: 4,
  dropout: 0.1,
};
const windows = Number(arg("windows", "18000"));
const stepsPerEpoch = Math.ceil(windows / shapes.batch);

const path = join(root, "native", "engines.node");
if (!existsSync(path)) {
  console.error(`bench/engines: ${path} missing; run \`make build\` (or scripts/build-engines.sh)`);
  process.exit(1);
}
process.env.OPENBLAS_NUM_THREADS ??= "1"; // as src/engines/load.ts does
const engines = createRequire(import.meta.url)(path);
const info = engines.info();

let seed = 1;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

function batchOf(kind) {
  const per = kind === "mlp" ? shapes.n_features : shapes.n_channels * shapes.seq_len;
  const x = new Float32Array(shapes.batch * per);
  const mask = kind === "mlp" ? null : new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const seen = !mask || rand() > 0.15;
    if (mask) mask[i] = seen ? 1 : 0;
    x[i] = seen ? gauss() : 0;
  }
  const y = Int32Array.from({ length: shapes.batch }, () => Math.floor(rand() * shapes.n_classes));
  return { x, mask, y };
}

const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

async function torchBench(kind) {
  const m = new engines.TorchModel({
    kind, n_features: shapes.n_features, n_channels: shapes.n_channels, seq_len: shapes.seq_len,
    n_classes: shapes.n_classes, hidden: shapes.hidden, layers: shapes.layers, heads: shapes.heads,
    dropout: shapes.dropout, weight_decay: 0.01, seed: 0, threads: shapes.threads, device: "auto",
  });
  const batches = Array.from({ length: 4 }, () => batchOf(kind));
  const w = new Float32Array(shapes.n_classes).fill(1);
  for (let i = 0; i < shapes.warmup; i++) {
    const b = batches[i % 4];
    await m.trainStep(b.x, b.mask, b.y, w, 1e-3, 1);
  }
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < shapes.steps; i++) {
    const b = batches[i % 4];
    await m.trainStep(b.x, b.mask, b.y, w, 1e-3, 1);
  }
  const msPerStep = (seconds(t0) * 1000) / shapes.steps;
  // Inference throughput over 8 batches at once (predictProba chunks internally).
  const per = batches[0].x.length / shapes.batch;
  const big = new Float32Array(8 * batches[0].x.length);
  const bigMask = batches[0].mask ? new Uint8Array(big.length) : null;
  for (let i = 0; i < 8; i++) {
    big.set(batches[i % 4].x, i * batches[0].x.length);
    if (bigMask) bigMask.set(batches[i % 4].mask, i * batches[0].x.length);
  }
  t0 = process.hrtime.bigint();
  await m.predictProba(big, bigMask);
  const predictPerS = big.length / per / seconds(t0);
  return { kind, params: m.numParameters, device: m.device, msPerStep, epochS: (msPerStep * stepsPerEpoch) / 1000, predictPerS };
}

// Debian's python3-torch lives under /usr/bin/python3 (a pyenv shim may shadow it).
const python = flag("no-pytorch")
  ? null
  : ["/usr/bin/python3", "python3"].find((py) => spawnSync(py, ["-c", "import torch"], { encoding: "utf8" }).status === 0) ?? null;

function pytorchBench(env) {
  const res = spawnSync(python, [join(root, "bench", "engines_torch.py"), JSON.stringify(shapes)], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  if (res.status !== 0) throw new Error(`engines_torch.py failed: ${res.stderr.slice(-500)}`);
  return JSON.parse(res.stdout.trim().split("\n").pop());
}

async function gbtBench() {
  if (flag("no-gbt")) return [];
  const rows = Number(arg("gbt-rows", String(windows)));
  const cols = 230;
  const k = 6;
  const rounds = Number(arg("rounds", "200"));
  const nValRows = Math.round(rows / 5);
  const make = (n) => {
    const x = new Float32Array(n * cols);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(rand() * k);
      y[i] = c;
      for (let j = 0; j < cols; j++) x[i * cols + j] = rand() < 0.05 ? NaN : gauss() + (j % k === c ? 0.3 : 0);
    }
    return { x, y };
  };
  const tr = make(rows);
  const va = make(nValRows);
  const out = [];
  for (const nthread of arg("nthreads", "1,2").split(",").map(Number)) {
    const t0 = process.hrtime.bigint();
    const r = await engines.trainGbt({
      x: tr.x, nRows: rows, nCols: cols, y: tr.y, numClass: k, xVal: va.x, nValRows, yVal: va.y,
      params: { max_depth: 6, eta: 0.1, nthread, seed: 0 }, rounds, earlyStoppingRounds: 0,
    });
    out.push({ nthread, rows, cols, classes: k, rounds: r.roundsTrained, trainS: seconds(t0) });
  }
  return out;
}

console.log(`engines bench: libtorch ${info.torch.torchVersion}, xgboost ${info.xgboost.version}, threads ${shapes.threads}, ` +
  `openblas threads ${info.torch.openblasThreads}, batch ${shapes.batch}, ${shapes.steps} timed steps (+${shapes.warmup} warm-up), ` +
  `best of ${arg("repeat", "2")}`);
const repeat = Number(arg("repeat", "2"));
const best = new Map(); // kind -> our best row
const py = python ? { ms_per_step: {}, runs: [] } : { skipped: flag("no-pytorch") ? "--no-pytorch" : "no python3 with torch (apt-get install python3-torch)" };
for (let r = 0; r < repeat; r++) {
  for (const kind of shapes.kinds) {
    const row = await torchBench(kind);
    if (!best.has(kind) || row.msPerStep < best.get(kind).msPerStep) best.set(kind, row);
  }
  if (!python) continue;
  for (const env of [{}, { OMP_WAIT_POLICY: "passive" }]) {
    const run = pytorchBench(env);
    py.torch = run.torch;
    py.runs.push({ env, ms_per_step: run.ms_per_step });
    for (const [kind, ms] of Object.entries(run.ms_per_step)) py.ms_per_step[kind] = Math.min(py.ms_per_step[kind] ?? Infinity, ms);
  }
}
const torchRows = shapes.kinds.map((k) => best.get(k));
console.log(`\nkind         params   ms/step  epoch(${windows} win) s  predict win/s  pytorch ms/step  ours/pytorch throughput`);
for (const r of torchRows) {
  const p = py.ms_per_step?.[r.kind];
  r.pytorchMsPerStep = p ?? null;
  r.ratio = p ? p / r.msPerStep : null;
  console.log(
    `${r.kind.padEnd(12)} ${String(r.params).padStart(7)} ${r.msPerStep.toFixed(1).padStart(9)} ${r.epochS.toFixed(1).padStart(20)} ` +
      `${r.predictPerS.toFixed(0).padStart(14)} ${p ? p.toFixed(1).padStart(16) : "n/a".padStart(16)} ${r.ratio ? r.ratio.toFixed(2).padStart(24) : "n/a".padStart(24)}`,
  );
}
if (py.skipped) console.log(`pytorch column: ${py.skipped}`);
const gbt = await gbtBench();
for (const g of gbt) console.log(`xgboost ${g.rows} x ${g.cols}, ${g.classes} classes, ${g.rounds} rounds, nthread ${g.nthread}: ${g.trainS.toFixed(1)} s`);
console.log("@@engines-bench " + JSON.stringify({ shapes, windows, stepsPerEpoch, info: { torch: info.torch.torchVersion, xgboost: info.xgboost.version }, torch: torchRows, pytorch: py, gbt }));
