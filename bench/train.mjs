// Times `cis490 train` on the default corpus (data/processed, host split):
// per neural model, the epoch time of the real training loop (batches
// gathered from the in-memory tensors, one engine step each, then the
// validation pass) and the loop's milliseconds per training step next to the
// same architecture and shapes in PyTorch (bench/engines_torch.py, when
// /usr/bin/python3 has torch; a comparison column only); GBT training time
// with nthread 1 vs 2 (Debian's XGBoost; see docs/training.md).
//
// Usage: node bench/train.mjs [--features data/processed/features_window.parquet]
//          [--split data/processed/split_host.parquet] [--tensors data/processed/tensors]
//          [--kinds mlp,cnn,gru,lstm,transformer] [--mode realistic] [--epochs 2]
//          [--threads N] [--nthreads 1,2] [--no-pytorch] [--no-gbt]
// Needs `make build` (dist/, native/engines.node). The header names the BLAS
// the engines mapped (run it with LD_LIBRARY_PATH=<lib>/openblas-openmp etc.
// to compare builds without switching the system alternative). Prints a table and one
// JSON line (prefix "@@train-bench ").
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { root, arg, flag } from "./common.mjs";


const features = arg("features", join(root, "data/processed/features_window.parquet"));
const split = arg("split", join(dirname(features), "split_host.parquet"));
const tensors = arg("tensors", join(dirname(features), "tensors"));
const kinds = arg("kinds", "mlp,cnn,gru,lstm,transformer").split(",").filter(Boolean);
const mode = arg("mode", "realistic");
const epochs = Number(arg("epochs", "2"));
const threads = Number(arg("threads", String(availableParallelism())));
const nthreads = arg("nthreads", "1,2").split(",").map(Number);

for (const [what, path] of [["features", features], ["split", split], ["engines", join(root, "native", "engines.node")], ["dist", join(root, "dist", "train", "run.js")]]) {
  if (!existsSync(path)) {
    console.error(`bench/train: ${what} missing at ${path} (make build; cis490 features --tensors; cis490 split)`);
    process.exit(1);
  }
}
const { trainModel } = await import(join(root, "dist", "train", "run.js"));
const { loadEngines } = await import(join(root, "dist", "engines", "index.js"));
const info = loadEngines().info();
// The BLAS the engines really mapped (what `cis490 doctor` reports): epoch times depend on it.
const { blasFromMaps } = await import(join(root, "dist", "system", "blas.js"));
const blas = blasFromMaps(readFileSync("/proc/self/maps", "utf8"));
const out = mkdtempSync(join(tmpdir(), "cis490-bench-train-"));
const HP = { batch_size: 256, hidden: 64, layers: 2, heads: 4, dropout: 0.1 };

const rows = [];
const result = { machine: { cores: availableParallelism(), threads, torch: info.torch.torchVersion, xgboost: info.xgboost.version, blas: blas.blas, lapack: blas.lapack, openblas_threads: info.torch.openblasThreads }, mode, neural: {}, gbt: {}, pytorch: null };
let channels = 0;
let seqLen = 0;
let nFeatures = 0;
try {
  for (const kind of kinds) {
    // ms per training step: from the loop's own step callbacks. Epochs after
    // the first when there are several; with --epochs 1, that epoch's steps
    // after its first three (allocator and thread-pool warm-up).
    const stepTimes = new Map();
    let last = 0;
    const r = await trainModel({
      kind, mode, features, split, tensors: kind === "mlp" ? null : tensors, out, seed: 0, threads,
      neural: { ...HP, epochs, patience: 0 },
      onStep: (epoch, step) => {
        const now = performance.now();
        if (step > 3) {
          if (!stepTimes.has(epoch)) stepTimes.set(epoch, []);
          stepTimes.get(epoch).push(now - last);
        }
        last = now;
      },
    });
    const sc = r.sidecar;
    if (kind === "mlp") nFeatures = sc.training.input_shape[0];
    else [channels, seqLen] = sc.training.input_shape;
    const epochSeconds = sc.history.slice(1).map((h) => h.seconds);
    const epochS = Math.min(...(epochSeconds.length ? epochSeconds : sc.history.map((h) => h.seconds)));
    const warm = [...stepTimes].filter(([e]) => stepTimes.size === 1 || e >= 2).flatMap(([, t]) => t).sort((a, b) => a - b);
    const msPerStep = warm.length ? warm[Math.floor(warm.length / 2)] : null;
    result.neural[kind] = { epoch_s: epochS, ms_per_step: msPerStep, steps_per_epoch: Math.ceil(sc.training.n_train / HP.batch_size), n_train: sc.training.n_train, n_val: sc.training.n_val, input_shape: sc.training.input_shape, setup_s: sc.training.total_seconds - sc.history.reduce((s, h) => s + h.seconds, 0) };
  }

  const python = flag("no-pytorch") ? null : ["/usr/bin/python3", "python3"].find((py) => spawnSync(py, ["-c", "import torch"], { encoding: "utf8" }).status === 0) ?? null;
  if (python && kinds.length) {
    const shapes = { kinds, threads, steps: 10, warmup: 2, batch: HP.batch_size, n_channels: channels || 29, seq_len: seqLen || 100, n_features: nFeatures || 145, n_classes: 6, hidden: HP.hidden, layers: HP.layers, heads: HP.heads, dropout: HP.dropout };
    const res = spawnSync(python, [join(root, "bench", "engines_torch.py"), JSON.stringify(shapes)], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
    if (res.status === 0) result.pytorch = JSON.parse(res.stdout.trim().split("\n").pop());
    else console.error(`bench/train: engines_torch.py failed: ${res.stderr.slice(-300)}`);
  }

  for (const kind of kinds) {
    const n = result.neural[kind];
    const pt = result.pytorch?.ms_per_step?.[kind] ?? null;
    rows.push([kind, n.input_shape.join("x"), n.steps_per_epoch, n.epoch_s.toFixed(1), n.ms_per_step === null ? "-" : n.ms_per_step.toFixed(1), pt === null ? "-" : pt.toFixed(1), pt === null || n.ms_per_step === null ? "-" : (n.ms_per_step / pt).toFixed(2)]);
  }

  if (!flag("no-gbt")) {
    for (const nthread of nthreads) {
      const r = await trainModel({ kind: "gbt", mode, features, split, tensors: null, out, seed: 0, threads: nthread });
      const t = r.sidecar.training;
      result.gbt[nthread] = { seconds: t.total_seconds, rounds: t.gbt.rounds_trained, val_macro_f1: r.sidecar.best.val_macro_f1 };
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

const pad = (cells, widths) => cells.map((c, i) => String(c).padStart(widths[i])).join("  ");
const header = ["model", "inputs", "steps/ep", "epoch s", "ms/step", "pytorch ms/step", "ratio"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
console.log(`train bench: ${mode} mode, ${threads} thread(s), libtorch ${info.torch.torchVersion}, xgboost ${info.xgboost.version}, BLAS ${blas.blas} (LAPACK ${blas.lapack})`);
console.log(pad(header, widths));
for (const r of rows) console.log(pad(r, widths));
for (const [nthread, g] of Object.entries(result.gbt)) console.log(`gbt nthread=${nthread}: ${g.seconds.toFixed(1)} s (${g.rounds} rounds, val macro F1 ${g.val_macro_f1.toFixed(4)})`);
console.log("@@train-bench " + JSON.stringify(result));
