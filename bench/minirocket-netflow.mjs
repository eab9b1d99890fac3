// Is a realistic MiniRocket's collapse on a host without netflow its
// netflow-only channel combinations? For one bench/loho.mjs held-out host:
// the standardised PPV features (the head's inputs) on val (training hosts)
// and on the test host, split by whether the feature's channel combination
// is netflow only, and the head's macro F1 with those features set to their
// training mean (standardised 0, i.e. no evidence either way).
//
// node bench/minirocket-netflow.mjs [--loho data/loho/k-gamingcom] [--features data/processed/features_window.parquet]
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { arg, root as repo } from "./common.mjs";
const d = (p) => import(join(repo, "dist", p));
const { loadWindowSet } = await d("train/windows.js");
const { readFeatureSchema } = await d("features/schema.js");
const { channelIndices } = await d("features/channels.js");
const { loadTensorRows } = await d("train/tensors.js");
const { MiniRocketEstimator, headProba } = await d("train/minirocket.js");
const { argmaxRows, macroF1 } = await d("train/loop.js");
const features = resolve(arg("features", join(repo, "data/processed/features_window.parquet")));
const root = dirname(features);
const dir = resolve(arg("loho", join(repo, "data/loho/k-gamingcom")));
const schema = await readFeatureSchema(join(root, "feature_schema.json"));
const model = JSON.parse(readFileSync(join(dir, "artifacts/minirocket_realistic.minirocket.json"), "utf8"));
const t = model.transform, h = model.head;
const F = h.n_features;
const inputs = JSON.parse(readFileSync(join(dir, "artifacts/minirocket_realistic.ckpt.json"), "utf8")).training.inputs;
// Feature j -> its (dilation, kernel) pair: features are laid out per dilation, per kernel, features_per_dilation[d] each.
const pairOf = new Int32Array(F);
let j = 0;
t.dilations.forEach((_, di) => { for (let k = 0; k < 84; k++) for (let f = 0; f < t.features_per_dilation[di]; f++) pairOf[j++] = di * 84 + k; });
if (j !== F) throw new Error(`layout ${j} != ${F}`);
const netOnly = Uint8Array.from(pairOf, (p) => (t.channels[p].every((c) => inputs[c].startsWith("netflow.")) ? 1 : 0));
const channels = channelIndices("realistic");
const sides = { val: await loadWindowSet(features, join(dir, "split.parquet"), "val"), test: await loadWindowSet(features, join(dir, "split.parquet"), "test") };
const per = channels.length * schema.tensor_len;
for (const [name, w] of Object.entries(sides)) {
  const [rows] = await loadTensorRows(join(root, "tensors"), schema.hash, [w], channels, schema.tensor_len, schema.channels.length, 2 ** 31);
  const f = await MiniRocketEstimator.transform(JSON.stringify(t), F, per, rows.x, rows.mask, w.label.length, 2);
  let zNet = 0, zOther = 0, nNet = 0, nOther = 0;
  for (let i = 0; i < w.label.length; i++) for (let q = 0; q < F; q++) {
    const z = Math.abs((f[i * F + q] - h.mean[q]) / h.std[q]);
    if (netOnly[q]) { zNet += z; nNet++; } else { zOther += z; nOther++; }
  }
  // The head with the netflow-only features set to their training mean (standardised 0).
  const g = Float32Array.from(f);
  for (let i = 0; i < w.label.length; i++) for (let q = 0; q < F; q++) {
    g[i * F + q] = (g[i * F + q] - h.mean[q]) / h.std[q];
    if (netOnly[q]) g[i * F + q] = 0;
  }
  const fz = Float32Array.from(f, (v, k) => (v - h.mean[k % F]) / h.std[k % F]);
  const f1 = (x) => macroF1(w.label, argmaxRows(headProba(x, w.label.length, F, 6, h.weights, h.bias), w.label.length, 6));
  console.log(`${name}: ${w.label.length} windows; netflow-only features ${netOnly.reduce((a, b) => a + b, 0)} of ${F}; mean |z| netflow-only ${(zNet / nNet).toFixed(2)}, others ${(zOther / nOther).toFixed(2)}; macro F1 ${f1(fz).toFixed(3)}, with netflow-only features at their training mean ${f1(g).toFixed(3)}`);
}
