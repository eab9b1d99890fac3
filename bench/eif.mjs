// Benchmarks the extended isolation forest (crates/cis490-anomaly through
// the addon) against scikit-learn's IsolationForest (bench/eif_sklearn.py,
// when /usr/bin/python3 has sklearn; a comparison column only), on the same
// data with the same trees, subsample and threads: fit and score seconds
// (fastest of --repeat; wall and process CPU, since the build machines are
// shared), their ratios, and the ROC AUC of both on labelled test rows
// (ndim=1 is the classic forest sklearn implements). Then the headline
// timing: fit 300 trees on 100k x 145 (goal < 2 s on 2 cores).
//
// Data: with --features (and --split), the realistic summary features of
// the clean training windows (fit) and all test windows (score; infected =
// every non-clean phase). Otherwise a synthetic set: correlated Gaussian
// rows (--rows x --dims) and a test set with 5% anomalies.
// Usage: node bench/eif.mjs [--features F --split S] [--rows 100000] [--dims 145]
//          [--trees 100] [--subsample 256] [--threads N] [--repeat 3] [--no-sklearn]
// Needs `make build` (dist/ + the addon). Prints a table and one JSON line.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { root, arg, flag } from "./common.mjs";

const rowsArg = Number(arg("rows", "100000"));
const dims = Number(arg("dims", "145"));
const trees = Number(arg("trees", "100"));
const subsample = Number(arg("subsample", "256"));
const threads = Number(arg("threads", String(availableParallelism())));
const repeat = Number(arg("repeat", "3"));
const features = arg("features", null);

const { eifFit, eifScore } = await import(join(root, "dist", "anomaly", "eif.js"));
const { aucBootstrap } = await import(join(root, "dist", "stats", "auc.js"));

function gaussian(seed) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Rows = z @ A with a fixed random mixing (correlated features); anomalies add a shift on 10% of the dims. */
function synthetic(n, d, nTest, seed) {
  const g = gaussian(seed);
  const k = Math.min(d, 12);
  const mix = Array.from({ length: k * d }, () => g());
  const row = (out, o, anomalous) => {
    const z = Array.from({ length: k }, () => g());
    for (let f = 0; f < d; f++) {
      let v = 0.3 * g();
      for (let j = 0; j < k; j++) v += z[j] * mix[j * d + f];
      if (anomalous && f % 10 === 0) v += 6;
      out[o + f] = v;
    }
  };
  const train = new Float64Array(n * d);
  for (let i = 0; i < n; i++) row(train, i * d, false);
  const test = new Float64Array(nTest * d);
  const y = new Int32Array(nTest);
  for (let i = 0; i < nTest; i++) {
    y[i] = i % 20 === 0 ? 1 : 0;
    row(test, i * d, y[i] === 1);
  }
  return { train, test, y, n, nTest, d, source: `synthetic ${n} x ${d}, test ${nTest} (5% anomalies)` };
}

async function fromFeatures(featuresPath, splitPath) {
  const { readSplitSides, scanWindows } = await import(join(root, "dist", "train", "windows.js"));
  const { readSchemaFor } = await import(join(root, "dist", "train", "run.js"));
  const { featureIndices } = await import(join(root, "dist", "features", "channels.js"));
  const schema = await readSchemaFor(featuresPath);
  const cols = featureIndices("realistic").map((i) => schema.features[i]);
  const scan = await scanWindows(featuresPath, await readSplitSides(splitPath), ["train", "test"], cols);
  const d = cols.length;
  const tw = scan.windows.get("train");
  const tx = scan.x.get("train");
  const clean = [...tw.label.keys()].filter((i) => tw.label[i] === 0);
  const train = new Float64Array(clean.length * d);
  clean.forEach((i, r) => train.set(tx.subarray(i * d, (i + 1) * d), r * d));
  const sw = scan.windows.get("test");
  const test = Float64Array.from(scan.x.get("test"));
  const y = Int32Array.from(sw.label, (l) => (l === 0 ? 0 : 1));
  return { train, test, y, n: clean.length, nTest: y.length, d, source: `${featuresPath}: ${clean.length} clean train windows, ${y.length} test windows, realistic ${d} features` };
}

/** sklearn needs complete rows: both engines get the training medians filled in. */
function impute(data) {
  const { train, test, n, nTest, d } = data;
  for (let f = 0; f < d; f++) {
    const col = [];
    for (let i = 0; i < n; i++) if (Number.isFinite(train[i * d + f])) col.push(train[i * d + f]);
    col.sort((a, b) => a - b);
    const m = col.length === 0 ? 0 : col.length % 2 ? col[(col.length - 1) / 2] : (col[col.length / 2 - 1] + col[col.length / 2]) / 2;
    for (let i = 0; i < n; i++) if (!Number.isFinite(train[i * d + f])) train[i * d + f] = m;
    for (let i = 0; i < nTest; i++) if (!Number.isFinite(test[i * d + f])) test[i * d + f] = m;
  }
}

function npy(path, data, shape, descr) {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const pre = Buffer.alloc(10);
  pre.write("\x93NUMPY", 0, "latin1");
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([pre, Buffer.from(header, "latin1"), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function timed(f) {
  let best = null;
  for (let i = 0; i < repeat; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = await f(i);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    if (!best || s < best.s) best = { r, s, cpu: (c.user + c.system) / 1e6 };
  }
  return best;
}

const data = features ? await fromFeatures(features, arg("split", join(dirname(features), "split_host.parquet"))) : synthetic(rowsArg, dims, 20000, 1);
impute(data);
const { train, test, y, n, nTest, d } = data;

const ours = {};
for (const ndim of [1, 3]) {
  // Seed r in run r; the ROC AUC is the mean over the runs' forests (one forest's AUC varies with its seed).
  const models = [];
  const fit = await timed(async (r) => {
    const m = await eifFit(train, n, d, { n_trees: trees, subsample, ndim, seed: r }, { threads });
    models.push(m);
    return m;
  });
  const aucs = [];
  for (const m of models) aucs.push((await aucBootstrap(y, await eifScore(m, test, nTest, { threads }), null, { resamples: 1 })).roc_auc.point);
  const score = await timed(() => eifScore(fit.r, test, nTest, { threads }));
  ours[ndim] = { fit_s: fit.s, fit_cpu_s: fit.cpu, score_s: score.s, score_cpu_s: score.cpu, roc_auc: aucs.reduce((a, b) => a + b, 0) / aucs.length, roc_auc_runs: aucs };
}

let sk = null;
if (!flag("no-sklearn") && spawnSync("/usr/bin/python3", ["-c", "import sklearn"]).status === 0) {
  const dir = mkdtempSync(join(tmpdir(), "cis490-bench-eif-"));
  try {
    npy(join(dir, "train.npy"), train, [n, d], "<f8");
    npy(join(dir, "test.npy"), test, [nTest, d], "<f8");
    npy(join(dir, "test_y.npy"), y, [nTest], "<i4");
    const res = spawnSync("/usr/bin/python3", [join(root, "bench", "eif_sklearn.py"), dir, String(trees), String(subsample), String(threads), String(repeat)], { encoding: "utf8" });
    if (res.status !== 0) throw new Error(`eif_sklearn.py failed: ${res.stderr}`);
    sk = JSON.parse(res.stdout.trim().split("\n").pop());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Headline: 300 trees on 100k x 145 (synthetic unless the data already is that size).
const big = n >= 100000 && d === 145 ? data : synthetic(100000, 145, 1, 2);
const headline = await timed((r) => eifFit(big.train, big.n, big.d, { n_trees: 300, subsample: 256, ndim: 1, seed: r }, { threads }));

const f = (x) => x.toFixed(3).padStart(8);
console.log(`EIF vs scikit-learn IsolationForest: ${data.source}; ${trees} trees, subsample ${subsample}, ${threads} threads, fastest of ${repeat}`);
console.log("engine                 fit s  fit cpu s   score s  score cpu s  ROC AUC");
for (const [ndim, r] of Object.entries(ours)) console.log(`cis490 EIF ndim=${ndim}    ${f(r.fit_s)} ${f(r.fit_cpu_s)}  ${f(r.score_s)}  ${f(r.score_cpu_s)}    ${r.roc_auc.toFixed(4)}`);
if (sk) console.log(`sklearn IsolationForest${f(sk.fit_s)} ${f(sk.fit_cpu_s)}  ${f(sk.score_s)}  ${f(sk.score_cpu_s)}    ${sk.roc_auc.toFixed(4)}`);
const ratio = (a, b) => (sk ? a / b : null);
if (sk) {
  console.log(`sklearn / cis490 (ndim=1): fit ${ratio(sk.fit_s, ours[1].fit_s).toFixed(1)}x (cpu ${ratio(sk.fit_cpu_s, ours[1].fit_cpu_s).toFixed(1)}x), score ${ratio(sk.score_s, ours[1].score_s).toFixed(1)}x (cpu ${ratio(sk.score_cpu_s, ours[1].score_cpu_s).toFixed(1)}x); ROC AUC difference ${(ours[1].roc_auc - sk.roc_auc).toFixed(4)}`);
}
console.log(`fit 300 trees on 100000 x 145, ${threads} threads: ${headline.s.toFixed(3)} s (cpu ${headline.cpu.toFixed(3)} s)`);
console.log(
  JSON.stringify({
    bench: "eif",
    source: data.source,
    rows: n,
    test_rows: nTest,
    dims: d,
    trees,
    subsample,
    threads,
    repeat,
    cis490: ours,
    sklearn: sk,
    fit_ratio: sk ? ratio(sk.fit_s, ours[1].fit_s) : null,
    score_ratio: sk ? ratio(sk.score_s, ours[1].score_s) : null,
    fit_cpu_ratio: sk ? ratio(sk.fit_cpu_s, ours[1].fit_cpu_s) : null,
    score_cpu_ratio: sk ? ratio(sk.score_cpu_s, ours[1].score_cpu_s) : null,
    roc_auc_diff: sk ? ours[1].roc_auc - sk.roc_auc : null,
    fit_300_trees_100k_x_145_s: headline.s,
    fit_300_trees_100k_x_145_cpu_s: headline.cpu,
  }),
);
