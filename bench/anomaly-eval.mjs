// Infected-vs-clean evaluation of anomaly checkpoints (eif, ae, ensemble)
// on the test side of a split: ROC AUC, PR AUC and TPR at 1% FPR with
// episode-bootstrap 95% intervals, overall and per host / profile, and the
// alarm rates at each checkpoint's stored threshold (src/anomaly/evaluate.ts
// through the one loader, src/anomaly/loader.ts). `cis490 eval` gains this
// view separately; this script is the corpus-scale measurement.
// Usage: node bench/anomaly-eval.mjs --features F --split S [--resamples 1000] CKPT...
// Needs `make build`. Prints a table and one JSON line.
import { join } from "node:path";
import { root, arg } from "./common.mjs";

const features = arg("features", join(root, "data", "processed", "features_window.parquet"));
const split = arg("split", join(root, "data", "processed", "split_host.parquet"));
const resamples = Number(arg("resamples", "1000"));
const skip = new Set(["--features", "--split", "--resamples"]);
const argv = process.argv.slice(2);
const checkpoints = argv.filter((a, i) => !a.startsWith("--") && !skip.has(argv[i - 1]));
if (checkpoints.length === 0) {
  process.stderr.write("usage: node bench/anomaly-eval.mjs --features F --split S CKPT...\n");
  process.exit(2);
}
const { evaluateAnomalyCheckpoint } = await import(join(root, "dist", "anomaly", "evaluate.js"));

const f = (iv) => `${iv.point.toFixed(3)} [${iv.lo.toFixed(3)}, ${iv.hi.toFixed(3)}]`;
const results = [];
console.log("| checkpoint | ROC AUC | PR AUC | TPR@1%FPR | alarms clean / infected | promotable | seconds |");
console.log("|---|---|---|---|---|---|---|");
for (const ck of checkpoints) {
  const t0 = Date.now();
  const ev = await evaluateAnomalyCheckpoint(ck, features, split, { resamples, seed: 0 });
  const s = (Date.now() - t0) / 1000;
  const o = ev.overall;
  console.log(`| ${ck} | ${f(o.roc_auc)} | ${f(o.pr_auc)} | ${f(o.tpr_at_fpr)} | ${(100 * ev.alarm_rate.clean).toFixed(1)}% / ${(100 * ev.alarm_rate.infected).toFixed(1)}% | ${ev.promotable} | ${s.toFixed(1)} |`);
  for (const [what, by] of [["host", ev.by_host], ["profile", ev.by_profile]]) {
    for (const [k, r] of Object.entries(by)) if (r) console.log(`|   ${what} ${k} | ${f(r.roc_auc)} | ${f(r.pr_auc)} | ${f(r.tpr_at_fpr)} | | | |`);
  }
  results.push({ checkpoint: ck, seconds: s, ...ev });
}
console.log(JSON.stringify({ features, split, resamples, results }));
