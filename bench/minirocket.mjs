// MiniRocket transform: native (crates/cis490-core via the addon, rayon over
// windows) vs its TypeScript twin (src/reference/minirocket.ts, one thread),
// ms per window and the ratio, on the realistic shape (29 channels x 100
// steps, 10% masked). Checks the two agree on the measured batch.
// Then the logistic head (minirocketHeadFit vs src/reference/minirocket-head.ts)
// on the first --head-rows windows' features (6 classes, batch 256,
// --head-epochs epochs, no early stopping): seconds per epoch, the ratio,
// and the largest relative difference of the weights.
// Usage: node bench/minirocket.mjs [--windows 2000] [--features 10000] [--channels 29] [--twin-windows 100] [--jobs 0]
//                                  [--head-rows 2000] [--head-epochs 2]
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { arg, root } from "./common.mjs";

const n = Number(arg("windows", "2000"));
const nTwin = Number(arg("twin-windows", "100"));
const nf = Number(arg("features", "10000"));
const C = Number(arg("channels", "29"));
const L = 100;
const jobs = Number(arg("jobs", "0"));
const headRows = Math.min(n, Number(arg("head-rows", "2000")));
const headEpochs = Number(arg("head-epochs", "2"));

const { loadCis490Addon } = await import(join(root, "dist", "native", "addon.js"));
const twin = await import(join(root, "dist", "reference", "minirocket.js"));
const headTwin = await import(join(root, "dist", "reference", "minirocket-head.js"));
const addon = loadCis490Addon();

const rng = new twin.Mulberry32(11);
const x = new Float32Array(n * C * L);
const mask = new Uint8Array(n * C * L);
for (let i = 0; i < x.length; i++) {
  const c = Math.floor(i / L) % C;
  x[i] = (c % 4) * 10 + Math.sin(i / (3 + c)) * (1 + c) + rng.uniform();
  mask[i] = rng.uniform() < 0.9 ? 1 : 0;
}
const opts = JSON.stringify({ num_features: nf, max_dilations_per_kernel: 32, seed: 1 });
let t0 = performance.now();
const json = await addon.minirocketFit(x, mask, n, C, L, opts);
const fitMs = performance.now() - t0;
t0 = performance.now();
// CPU time too: on a shared machine wall time mostly measures the neighbours.
let cpu0 = process.cpuUsage();
const fNative = await addon.minirocketTransform(json, x, mask, n, jobs);
const nativeMs = (performance.now() - t0) / n;
let cpu = process.cpuUsage(cpu0);
const nativeCpuMs = (cpu.user + cpu.system) / 1000 / n;
const model = JSON.parse(json);
const per = C * L;
t0 = performance.now();
cpu0 = process.cpuUsage();
const fTwin = twin.transformMiniRocket(model, x.subarray(0, nTwin * per), mask.subarray(0, nTwin * per), nTwin);
const twinMs = (performance.now() - t0) / nTwin;
cpu = process.cpuUsage(cpu0);
const twinCpuMs = (cpu.user + cpu.system) / 1000 / nTwin;
const F = model.biases.length;
let same = true;
for (let i = 0; i < nTwin * F; i++) if (fTwin[i] !== fNative[i]) same = false;
const threads = jobs || availableParallelism();
console.log(`minirocket: ${n} windows of [${C}, ${L}], ${F} features, ${model.dilations.length} dilations`);
console.log(`fit (native):                 ${fitMs.toFixed(0)} ms`);
console.log(`transform native (${threads} threads): ${nativeMs.toFixed(3)} ms/window wall, ${nativeCpuMs.toFixed(3)} ms/window CPU`);
console.log(`transform twin (1 thread):     ${twinMs.toFixed(3)} ms/window wall, ${twinCpuMs.toFixed(3)} ms/window CPU`);
console.log(`ratio twin/native:             ${(twinMs / nativeMs).toFixed(1)}x; features identical on ${nTwin} windows: ${same}`);

// The head on the native features: labels from a seeded draw nudged by the features (so it has something to learn).
const K = 6;
const y = new Int32Array(headRows);
for (let i = 0; i < headRows; i++) y[i] = (Math.floor(fNative[i * F + (i % 7)] * 3) + rng.below(4)) % K;
const nVal = Math.max(1, Math.floor(headRows / 5));
const nFit = headRows - nVal;
const cw = Float32Array.from({ length: K }, (_, k) => 0.5 + k / K);
const headOpts = { epochs: headEpochs, patience: 0, batch_size: 256, lr: 1e-3, l2: 1e-3, seed: 1 };
const trainX = fNative.slice(0, nFit * F);
const valX = fNative.slice(nFit * F, headRows * F);
t0 = performance.now();
cpu0 = process.cpuUsage();
const headNative = await addon.minirocketHeadFit(trainX, y.subarray(0, nFit), valX, y.subarray(nFit), F, cw, JSON.stringify(headOpts), jobs);
const headNativeS = (performance.now() - t0) / 1000 / headEpochs;
cpu = process.cpuUsage(cpu0);
const headNativeCpuS = (cpu.user + cpu.system) / 1e6 / headEpochs;
t0 = performance.now();
cpu0 = process.cpuUsage();
const headRef = headTwin.fitMiniRocketHead({ x: trainX, y: y.subarray(0, nFit) }, { x: valX, y: y.subarray(nFit) }, F, cw, headOpts);
const headTwinS = (performance.now() - t0) / 1000 / headEpochs;
cpu = process.cpuUsage(cpu0);
const headTwinCpuS = (cpu.user + cpu.system) / 1e6 / headEpochs;
let headRel = 0;
for (let q = 0; q < headRef.weights.length; q++) headRel = Math.max(headRel, Math.abs(headNative.weights[q] - headRef.weights[q]) / Math.max(1e-300, Math.abs(headRef.weights[q])));
console.log(`head: ${nFit} train + ${nVal} val rows x ${F} features, ${K} classes, ${headEpochs} epochs of batch 256`);
console.log(`head native (${threads} threads):      ${headNativeS.toFixed(3)} s/epoch wall, ${headNativeCpuS.toFixed(3)} s/epoch CPU`);
console.log(`head twin (1 thread):          ${headTwinS.toFixed(3)} s/epoch wall, ${headTwinCpuS.toFixed(3)} s/epoch CPU`);
console.log(`ratio twin/native:             ${(headTwinS / headNativeS).toFixed(1)}x wall, ${(headTwinCpuS / headNativeCpuS).toFixed(1)}x CPU; weights max relative difference ${headRel.toExponential(1)}`);
console.log(JSON.stringify({ windows: n, channels: C, features: F, fit_ms: fitMs, native_ms_per_window: nativeMs, native_cpu_ms_per_window: nativeCpuMs, twin_ms_per_window: twinMs, twin_cpu_ms_per_window: twinCpuMs, ratio: twinMs / nativeMs, identical: same, threads, head: { rows: nFit, val_rows: nVal, epochs: headEpochs, native_s_per_epoch: headNativeS, native_cpu_s_per_epoch: headNativeCpuS, twin_s_per_epoch: headTwinS, twin_cpu_s_per_epoch: headTwinCpuS, ratio: headTwinS / headNativeS, cpu_ratio: headTwinCpuS / headNativeCpuS, weights_max_rel_diff: headRel } }));
