// Deployment benchmark (docs/deployment.md): for every model kind, per-window
// latency at batch 1 through onnxruntime-node (the exported .onnx) and
// through the training engine (libtorch / XGBoost / the native MiniRocket
// transform), on 1 and 2 threads;
// event-loop lag while scoring 100 windows/s with inference in the worker
// thread vs on the main thread; and the time from a tarball landing in a
// followed store to its first alert.
//
// Models come from a small CLI pipeline on a clean synthetic corpus
// (weights barely trained: latency does not depend on them), default
// architecture sizes (hidden 64, 2 layers, 46 channels x 100 steps).
//
// Usage: node bench/deploy.mjs [--episodes 40] [--windows 300] [--kinds gbt,mlp,...] [--lag-seconds 5]
// Needs `make build`. Prints tables and one JSON line (prefix "@@deploy-bench ").
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { arg, benchCorpus, root } from "./common.mjs";

const dist = (p) => import(join(root, "dist", p));
const { exportCheckpoint } = await dist("deploy/export.js");
const { OnnxModel } = await dist("deploy/session.js");
const { WorkerScorer } = await dist("deploy/inference-worker.js");
const { follow } = await dist("deploy/follow.js");
const { loadCheckpoint } = await dist("train/checkpoint.js");
const { GbtEstimator } = await dist("train/gbt.js");
const { NeuralEstimator } = await dist("train/neural.js");
const { MiniRocketEstimator } = await dist("train/minirocket.js");
const { inputChannels, inputFeatureNames } = await dist("train/checkpoint.js");

const episodes = Number(arg("episodes", "40"));
const nWindows = Number(arg("windows", "300"));
const kinds = arg("kinds", "gbt,mlp,cnn,gru,lstm,transformer,minirocket").split(",");
const lagSeconds = Number(arg("lag-seconds", "5"));
const work = join(root, "data", `bench-deploy-${episodes}`);
const cli = (...a) => {
  const r = spawnSync("node", [join(root, "bin", "cis490"), ...a], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cis490 ${a.join(" ")}: ${r.stderr}`);
};

const { dir: corpus, paths } = benchCorpus(episodes);
const proc = join(work, "proc");
const artifacts = join(work, "artifacts");
if (!existsSync(join(proc, "split_host.parquet"))) {
  mkdirSync(work, { recursive: true });
  cli("validate", "--store", corpus, "--out", join(work, "acc.parquet"));
  cli("features", "--store", corpus, "--acceptance", join(work, "acc.parquet"), "--out", proc, "--tensors");
  cli("split", "--features", join(proc, "features_window.parquet"), "--recipe", "host", "--out", join(proc, "split_host.parquet"), "--allow-missing-class");
}
for (const k of kinds) {
  if (existsSync(join(artifacts, `${k}_realistic.ckpt.json`))) continue;
  process.stderr.write(`bench: training a ${k} (1 epoch / 20 rounds)\n`);
  cli("train", "--model", k, "--features", join(proc, "features_window.parquet"), "--split", join(proc, "split_host.parquet"), "--out", artifacts, "--epochs", "1", "--rounds", "20", "--allow-missing-class");
}

const { readFeatureSchema } = await dist("features/schema.js");
const { loadWindowSet, readFeatureRows } = await dist("train/windows.js");
const { streamTensorRows } = await dist("train/tensors.js");
const { FEATURE_NAMES, N_CHANNELS } = await dist("features/channels.js");
const schema = await readFeatureSchema(join(proc, "feature_schema.json"));
const test = await loadWindowSet(join(proc, "features_window.parquet"), join(proc, "split_host.parquet"), "train");
const n = Math.min(nWindows, test.episode_id.length);
const pick = { ...test, episode_id: test.episode_id.slice(0, n), window: test.window.slice(0, n), host_id: test.host_id.slice(0, n), label: test.label.slice(0, n) };
const summary = await readFeatureRows(join(proc, "features_window.parquet"), pick, FEATURE_NAMES);
const T = schema.tensor_len;
const X = new Float32Array(n * N_CHANNELS * T);
const M = new Uint8Array(n * N_CHANNELS * T);
await streamTensorRows(join(proc, "tensors"), schema.hash, [pick], Array.from({ length: N_CHANNELS }, (_, c) => c), T, N_CHANNELS, (_t, rows, x, m) => {
  const per = N_CHANNELS * T;
  rows.forEach((row, k) => {
    X.set(x.subarray(k * per, (k + 1) * per), row * per);
    M.set(m.subarray(k * per, (k + 1) * per), row * per);
  });
});
const oneWindow = (kind, i) => {
  if (kind === "gbt" || kind === "mlp") return { n: 1, features: summary.slice(i * FEATURE_NAMES.length, (i + 1) * FEATURE_NAMES.length) };
  const per = N_CHANNELS * T;
  return { n: 1, x: X.slice(i * per, (i + 1) * per), mask: M.slice(i * per, (i + 1) * per) };
};

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
async function timeIt(fn) {
  for (let i = 0; i < 10; i++) await fn(i % n); // warm-up
  const ms = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  return { p50: pct(ms, 50), p99: pct(ms, 99), per_s: n / ((performance.now() - t0) / 1000) };
}

// The engine at batch 1, fed the checkpoint's own columns/channels (what loadCheckpoint does).
async function engineScorer(kind, sidecarPath, threads) {
  const model = await loadCheckpoint(sidecarPath, schema, { threads, device: "cpu" });
  const sc = model.sidecar;
  const weights = join(sidecarPath, "..", sc.weights_file);
  if (kind === "gbt") {
    const cols = sc.feature_mask.flatMap((m, i) => (m === 1 ? [i] : []));
    const est = GbtEstimator.fromModel({ ...sc.hyper_parameters, nthread: threads }, sc.seed, 6, readFileSync(weights, "utf8"), cols.length);
    return { run: (i) => est.predictProba({ x: Float32Array.from(cols, (c) => summary[i * FEATURE_NAMES.length + c]), n: 1 }), close: async () => {} };
  }
  const seq = kind !== "mlp";
  const cols = seq ? inputChannels(sc) : sc.feature_mask.flatMap((m, i) => (m === 1 ? [i] : []));
  const shape = seq ? { channels: cols.length, steps: T } : { features: inputFeatureNames(sc).length };
  const est =
    kind === "minirocket"
      ? MiniRocketEstimator.fromState({ ...sc.hyper_parameters, threads }, shape, 6, sc.seed, JSON.parse(readFileSync(weights, "utf8")))
      : await NeuralEstimator.restore(kind, sc.hyper_parameters, shape, 6, sc.seed, sc.standardisation, weights, { threads, device: "cpu" });
  return {
    run: (i) => {
      if (!seq) return est.predictProba({ x: Float32Array.from(cols, (c) => summary[i * FEATURE_NAMES.length + c]), n: 1 });
      const x = new Float32Array(cols.length * T);
      const m = new Uint8Array(cols.length * T);
      cols.forEach((c, k) => {
        const from = (i * N_CHANNELS + c) * T;
        x.set(X.subarray(from, from + T), k * T);
        m.set(M.subarray(from, from + T), k * T);
      });
      return est.predictProba({ x, mask: m, n: 1 });
    },
    close: async () => est.dispose?.(),
  };
}

const latency = [];
mkdirSync(join(work, "models"), { recursive: true });
for (const kind of kinds) {
  const ckpt = join(artifacts, `${kind}_realistic.ckpt.json`);
  const onnx = join(work, "models", `${kind}.onnx`);
  await exportCheckpoint(ckpt, onnx);
  for (const threads of [1, 2]) {
    const m = await OnnxModel.load(onnx, { threads });
    const o = await timeIt((i) => m.predict(oneWindow(kind, i)));
    await m.close();
    const e = await engineScorer(kind, ckpt, threads);
    const t = await timeIt((i) => e.run(i));
    await e.close();
    latency.push({ kind, threads, onnx: o, engine: t });
  }
}

// Event-loop lag at 100 windows/s (10 windows every 100 ms), heaviest model.
async function lagRun(scorer, kind) {
  const h = monitorEventLoopDelay({ resolution: 2 });
  h.enable();
  const end = Date.now() + lagSeconds * 1000;
  let i = 0;
  let scored = 0;
  while (Date.now() < end) {
    const t = Date.now();
    const batch = [];
    for (let k = 0; k < 10; k++) batch.push(scorer.predict(oneWindow(kind, i++ % n)).then(() => scored++));
    await Promise.all(batch);
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - t))));
  }
  h.disable();
  return { p50_ms: h.percentile(50) / 1e6, p99_ms: h.percentile(99) / 1e6, max_ms: h.max / 1e6, windows_per_s: scored / lagSeconds };
}
// Baseline: an idle event loop on this machine right now (contention shows here first).
const idle = monitorEventLoopDelay({ resolution: 2 });
idle.enable();
await new Promise((r) => setTimeout(r, lagSeconds * 1000));
idle.disable();
const lagIdle = { p50_ms: idle.percentile(50) / 1e6, p99_ms: idle.percentile(99) / 1e6, max_ms: idle.max / 1e6 };
const lagKind = kinds.includes("transformer") ? "transformer" : kinds[kinds.length - 1];
const lagModel = join(work, "models", `${lagKind}.onnx`);
const worker = await WorkerScorer.start(lagModel);
const lagWorker = await lagRun(worker, lagKind);
await worker.close();
const inThread = await OnnxModel.load(lagModel);
const lagMain = await lagRun(inThread, lagKind);
await inThread.close();

// detect --follow with the heaviest model while the store receives ~100 windows/s
// (an episode of ~9 windows every 90 ms, the whole corpus): the follow loop's own
// event-loop lag, and each tarball's landing -> first alert. Policy: threshold 0,
// one window, so the first scored window alerts: this times the pipeline, not the model.
const store = join(work, "follow-store");
rmSync(store, { recursive: true, force: true });
mkdirSync(store, { recursive: true });
const outFile = join(work, "follow.jsonl");
rmSync(outFile, { force: true });
rmSync(`${outFile}.state.json`, { force: true });
const followKind = lagKind;
const scorer = await WorkerScorer.start(join(work, "models", `${followKind}.onnx`));
const abort = new AbortController();
const landed = new Map();
const landing = [];
let followWindows = 0;
const index = readFileSync(join(corpus, "index.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
const running = follow(scorer, {
  store, out: outFile, statePath: `${outFile}.state.json`, policy: { threshold: 0, consecutive: 1, infectedPhases: ["infecting", "infected_running"] },
  jobs: 1, pollMs: 50, signal: abort.signal, modelName: "bench",
  onScored: (s) => {
    followWindows += s.windows.length;
    if (s.summary.verdict === "alert" && landed.has(s.episode.episode_id)) landing.push(performance.now() - landed.get(s.episode.episode_id));
  },
});
const landStart = performance.now();
for (const rec of index) {
  const src = paths.find((p) => p.endsWith(`/${rec.host_id}/${rec.episode_id}.tar.zst`));
  if (!src) continue;
  mkdirSync(join(store, rec.host_id), { recursive: true });
  landed.set(rec.episode_id, performance.now());
  copyFileSync(src, join(store, rec.host_id, `${rec.episode_id}.tar.zst`));
  appendFileSync(join(store, "index.jsonl"), JSON.stringify(rec) + "\n");
  await new Promise((r) => setTimeout(r, 90));
}
while (landing.length < landed.size && performance.now() - landStart < 60_000) await new Promise((r) => setTimeout(r, 50));
const followSeconds = (performance.now() - landStart) / 1000;
abort.abort();
const followResult = await running;
await scorer.close();

const f = (v) => v.toFixed(2);
console.log("\nPer-window latency at batch 1 (ms), windows/s");
console.log("kind         thr  onnx p50  onnx p99  onnx w/s   engine p50  engine p99  engine w/s");
for (const r of latency) console.log(`${r.kind.padEnd(12)} ${String(r.threads).padStart(3)}  ${f(r.onnx.p50).padStart(8)}  ${f(r.onnx.p99).padStart(8)}  ${r.onnx.per_s.toFixed(0).padStart(8)}   ${f(r.engine.p50).padStart(10)}  ${f(r.engine.p99).padStart(10)}  ${r.engine.per_s.toFixed(0).padStart(10)}`);
console.log(`\nEvent-loop lag scoring ~100 windows/s with ${lagKind} for ${lagSeconds} s (ms):`);
console.log(`  idle (baseline): p50 ${f(lagIdle.p50_ms)}  p99 ${f(lagIdle.p99_ms)}  max ${f(lagIdle.max_ms)}`);
console.log(`  worker thread: p50 ${f(lagWorker.p50_ms)}  p99 ${f(lagWorker.p99_ms)}  max ${f(lagWorker.max_ms)}  (${lagWorker.windows_per_s.toFixed(0)} windows/s)`);
console.log(`  main thread:   p50 ${f(lagMain.p50_ms)}  p99 ${f(lagMain.p99_ms)}  max ${f(lagMain.max_ms)}  (${lagMain.windows_per_s.toFixed(0)} windows/s)`);
console.log(`\ndetect --follow with ${followKind}, ${landed.size} tarballs landing over ${followSeconds.toFixed(1)} s (${(followWindows / followSeconds).toFixed(0)} windows/s scored):`);
console.log(`  event-loop lag p50 ${f(followResult.event_loop_lag_ms.p50)}  p99 ${f(followResult.event_loop_lag_ms.p99)}  max ${f(followResult.event_loop_lag_ms.max)} ms`);
console.log(`  tarball landing -> first alert (poll 50 ms): median ${f(pct(landing, 50))} ms, p99 ${f(pct(landing, 99))} ms, max ${f(Math.max(...landing))} ms over ${landing.length} episodes`);
console.log("@@deploy-bench " + JSON.stringify({ episodes, windows: n, latency, lag: { kind: lagKind, idle: lagIdle, worker: lagWorker, main: lagMain }, follow: { kind: followKind, windows_per_s: followWindows / followSeconds, lag: followResult.event_loop_lag_ms, landing_ms: landing } }));
