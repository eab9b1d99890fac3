// Peak memory of GBT training at corpus scale: the training matrix built
// as XGBoost's QuantileDMatrix from batches read in place from one whole
// Float32Array ("quantile"), from batches fed one at a time and never held
// whole ("feed", what `train --model gbt` does with the features file), and
// the dense copy path ("dense"), on synthetic rows shaped like the real
// corpus (default 700,000 x 230, 6 classes, ~10% missing; "feed" draws its
// rows batch by batch, so its data differ from the others'). Each variant
// runs in its own child process so its peak RSS is its own.
//
// Usage: node bench/gbt-matrix.mjs [--rows 700000] [--cols 230] [--rounds 3] [--matrix feed,quantile,dense] [--nthread 2]
// Prints a table and one JSON line (prefix "@@gbt-matrix-bench ").
import { createRequire } from "node:module";
import { join } from "node:path";
import { arg, root, runMeasured } from "./common.mjs";

const rows = Number(arg("rows", "700000"));
const cols = Number(arg("cols", "230"));
const rounds = Number(arg("rounds", "3"));
const nthread = Number(arg("nthread", "2"));

if (arg("child", null)) {
  process.env.OPENBLAS_NUM_THREADS ??= "1";
  const engines = createRequire(import.meta.url)(join(root, "native", "engines.node"));
  let seed = 1;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const make = (n) => {
    const x = new Float32Array(n * cols);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = Math.floor(rand() * 6);
      for (let c = 0; c < cols; c++) x[i * cols + c] = rand() < 0.1 ? NaN : rand() + (c % 6 === y[i] ? 0.5 : 0);
    }
    return { x, y };
  };
  const kind = arg("child", "quantile");
  const va = make(Math.max(2, Math.round(rows * 0.15)));
  const common = {
    nCols: cols, numClass: 6, xVal: va.x, nValRows: va.y.length, yVal: va.y,
    params: { max_depth: 6, eta: 0.1, nthread, max_bin: 256, seed: 0 }, rounds, earlyStoppingRounds: 0,
  };
  let r;
  const t0 = performance.now();
  if (kind === "feed") {
    // The training rows are generated batch by batch on every pass (as the
    // Parquet reader yields them), never held whole.
    const { trainGbt } = await import(join(root, "dist", "engines", "xgboost.js"));
    const batch = 20000;
    const batches = async function* () {
      for (let at = 0, k = 0; at < rows; at += batch, k++) {
        seed = 1000 + k;
        const b = make(Math.min(batch, rows - at));
        yield { x: b.x, y: b.y, w: new Float32Array(b.y.length).fill(1) };
      }
    };
    r = await trainGbt({ ...common, batches });
  } else {
    const tr = make(rows);
    r = await engines.trainGbt({ ...common, x: tr.x, nRows: rows, y: tr.y, weights: new Float32Array(rows).fill(1), matrix: kind });
  }
  process.stdout.write(JSON.stringify({ train_s: (performance.now() - t0) / 1000, rounds: r.roundsTrained }) + "\n");
  process.exit(0);
}

const results = [];
for (const matrix of arg("matrix", "feed,quantile,dense").split(",")) {
  const m = await runMeasured(process.execPath, [process.argv[1], "--child", matrix, "--rows", String(rows), "--cols", String(cols), "--rounds", String(rounds), "--nthread", String(nthread)]);
  if (m.code !== 0) {
    results.push({ matrix, error: m.stderr.trim().split("\n").slice(-3).join(" | ") });
    continue;
  }
  const out = JSON.parse(m.stdout.trim().split("\n").pop());
  results.push({ matrix, rows, cols, rounds, wall_s: +m.wall.toFixed(1), train_s: +out.train_s.toFixed(1), peak_rss_mib: Math.round(m.peak_rss_mib), js_rows_mib: Math.round((rows * 1.15 * cols * 4) / 2 ** 20) });
}
console.log("matrix    rows x cols        rounds  train s  peak RSS MiB  (JS float32 rows MiB)");
for (const r of results) {
  if (r.error) console.log(`${r.matrix.padEnd(9)} failed: ${r.error}`);
  else console.log(`${r.matrix.padEnd(9)} ${`${r.rows} x ${r.cols}`.padEnd(18)} ${String(r.rounds).padStart(6)} ${String(r.train_s).padStart(8)} ${String(r.peak_rss_mib).padStart(13)}  (${r.js_rows_mib})`);
}
console.log("@@gbt-matrix-bench " + JSON.stringify(results));
