// Leave-one-host-out evaluation (issue 15): every host is the test host in
// turn. Per host: `cis490 split --recipe host --test-hosts H`, `cis490
// train` (gbt realistic+oracle, minirocket realistic by default), `cis490
// eval` (macro F1 with episode-bootstrap CIs; untested profiles listed),
// and the plain-XGBoost baseline (bench/plain_xgb.py, Debian's
// python3-xgboost, on the same realistic feature columns and windows) with
// a paired episode-bootstrap difference (project minus plain,
// src/stats/bootstrap.ts pairedBootstrap). A second table gives, per held-out
// host, the infected-vs-clean TPR at 1% FPR (eval's `anomaly` block: score
// 1 - P(clean), or an anomaly detector's score for `eif:<mode>`) of every
// model and of plain XGBoost (from its probabilities, src/stats/auc.ts), and
// each model's episode TPR (the default alert policy fires before dormant).
// Prints the markdown tables and writes <out>/loho.json. Corpus-scale: a
// benchmark, not a test.
//
// node bench/loho.mjs [--features data/processed/features_window.parquet]
//   [--out data/loho] [--models gbt:realistic,gbt:oracle,minirocket:realistic,eif:realistic]
//   [--resamples 500] [--hosts a,b] [--no-plain] [--val hosts]
// --val hosts: validation (early stopping, best epoch) on one whole
// training-side host instead of episodes carved from all training hosts.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { arg, flag, root } from "./common.mjs";

const dist = (p) => import(join(root, "dist", p));
const features = resolve(arg("features", join(root, "data/processed/features_window.parquet")));
const tensors = join(dirname(features), "tensors");
const out = resolve(arg("out", join(root, "data/loho")));
const resamples = Number(arg("resamples", "500"));
const models = arg("models", "gbt:realistic,gbt:oracle,minirocket:realistic")
  .split(",")
  .map((s) => s.split(":"));
const valBy = arg("val", "episodes");
const extraTrain = (arg("train-args", "") || "").split(" ").filter(Boolean);

function cli(args) {
  const t0 = Date.now();
  const r = spawnSync("node", [join(root, "bin/cis490"), ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`cis490 ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  return { stdout: r.stdout, seconds: (Date.now() - t0) / 1000 };
}

const { loadWindowSet, readFeatureRows } = await dist("train/windows.js");
const { featureIndices } = await dist("features/channels.js");
const { readFeatureSchema } = await dist("features/schema.js");
const { loadCheckpoint } = await dist("train/checkpoint.js");
const { argmaxRows } = await dist("train/loop.js");
const { pairedBootstrap } = await dist("stats/bootstrap.js");
const { aucBootstrap } = await dist("stats/auc.js");
const { ANOMALY_CHECKPOINT_SUFFIX } = await dist("anomaly/train.js");

/** Anomaly detectors have their own sidecar suffix, and no phases to pair with plain XGBoost. */
const isAnomaly = (kind) => kind === "eif";
const sidecarOf = (art, kind, mode) => join(art, `${kind}_${mode}${isAnomaly(kind) ? ANOMALY_CHECKPOINT_SUFFIX : ".ckpt.json"}`);

const schema = await readFeatureSchema(join(dirname(features), "feature_schema.json"));
let hosts = arg("hosts", null)?.split(",");
if (!hosts) {
  const all = new Set();
  for (const side of ["train", "val", "test"]) {
    const s = JSON.parse(readFileSync(join(dirname(features), "split_host.json"), "utf8"));
    Object.keys(s.hosts).forEach((h) => all.add(h));
    void side;
  }
  hosts = [...all].sort();
}

const results = [];
for (const host of hosts) {
  const dir = join(out, host);
  mkdirSync(dir, { recursive: true });
  const split = join(dir, "split.parquet");
  process.stderr.write(`loho: ${host}: split\n`);
  cli(["split", "--features", features, "--recipe", "host", "--test-hosts", host, "--out", split, "--allow-missing-class", ...(valBy === "episodes" ? [] : ["--val", valBy])]);
  const summary = JSON.parse(readFileSync(join(dir, "split.json"), "utf8"));
  const art = join(dir, "artifacts");
  const timing = {};
  for (const [kind, mode] of models) {
    process.stderr.write(`loho: ${host}: train ${kind} ${mode}\n`);
    const r = cli(["train", "--model", kind, "--mode", mode, "--features", features, "--tensors", tensors, "--split", split, "--out", art, "--allow-missing-class", ...extraTrain]);
    timing[`${kind}_${mode}`] = r.seconds;
  }
  // A rerun keeps the evaluation when every model's result is newer than its checkpoint.
  const evalFresh = models.every(([k, m]) => {
    const e = join(dir, "eval", `${k}_${m}_eval.json`);
    return existsSync(e) && statSync(e).mtimeMs > statSync(sidecarOf(art, k, m)).mtimeMs;
  });
  process.stderr.write(`loho: ${host}: eval${evalFresh ? " (kept)" : ""}\n`);
  if (!evalFresh) cli(["eval", "--artifacts", art, "--features", features, "--tensors", tensors, "--split", split, "--out", join(dir, "eval"), "--resamples", String(resamples)]);
  const row = { host, val_hosts: summary.val_hosts ?? null, missing_in_train: summary.missing_in_train, untested_profiles: summary.untested_profiles, counts: summary.counts, models: {}, plain: null, paired: {}, train_seconds: timing };
  for (const [kind, mode] of models) {
    const ev = JSON.parse(readFileSync(join(dir, "eval", `${kind}_${mode}_eval.json`), "utf8"));
    const untested = (ev.per_profile ?? ev.anomaly?.by_profile ?? []).filter((p) => p.status === "untested").map((p) => p.key);
    if (ev.anomaly && !row.windows_by_class) row.windows_by_class = { clean: ev.anomaly.negatives, infected: ev.anomaly.positives };
    row.models[`${kind}_${mode}`] = { macro_f1: ev.macro_f1, untested, roc_auc: ev.anomaly?.roc_auc ?? null, tpr_at_1pct_fpr: ev.anomaly?.tpr_at_1pct_fpr ?? null, episode_tpr: ev.episodes?.tpr ?? null };
  }

  if (!flag("no-plain")) {
    // The plain baseline reads the realistic summary columns of the same windows.
    const cols = featureIndices("realistic").map((i) => schema.features[i]);
    const xdir = join(dir, "plain");
    mkdirSync(xdir, { recursive: true });
    const sets = {};
    const meta = JSON.stringify({ width: cols.length, classes: 6, seed: 0, threads: 2 });
    const inputs = createHash("sha256").update(meta);
    for (const side of ["train", "val", "test"]) {
      const w = await loadWindowSet(features, split, side);
      const x = await readFeatureRows(features, w, cols);
      for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) x[i] = Number.NaN;
      for (const [name, a] of [[`${side}_x.bin`, x], [`${side}_y.bin`, w.label]]) {
        const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
        writeFileSync(join(xdir, name), bytes);
        inputs.update(bytes);
      }
      sets[side] = w;
    }
    writeFileSync(join(xdir, "meta.json"), meta);
    // A rerun on byte-identical inputs keeps the baseline's outputs (the fit is deterministic for its seed).
    const inputsSha = inputs.digest("hex");
    const shaFile = join(xdir, "inputs.sha256");
    const plainFresh = existsSync(join(xdir, "plain_proba.bin")) && existsSync(shaFile) && readFileSync(shaFile, "utf8") === inputsSha;
    process.stderr.write(`loho: ${host}: plain xgboost${plainFresh ? " (kept)" : ""}\n`);
    if (!plainFresh) {
      const py = spawnSync("/usr/bin/python3", [join(root, "bench/plain_xgb.py"), xdir], { encoding: "utf8" });
      if (py.status !== 0) throw new Error(`plain_xgb.py failed: ${py.stderr}`);
      writeFileSync(shaFile, inputsSha);
    }
    const plainPred = new Int32Array(readFileSync(join(xdir, "plain_pred.bin")).buffer.slice(0));
    const test = sets.test;
    const ids = new Map();
    const groups = Uint32Array.from(test.episode_id, (e) => (ids.has(e) ? ids.get(e) : (ids.set(e, ids.size), ids.size - 1)));
    const clean = 0; // PHASES.indexOf("clean")
    const plainProba = new Float32Array(readFileSync(join(xdir, "plain_proba.bin")).buffer.slice(0));
    const y = Int32Array.from(test.label, (l) => (l === clean ? 0 : 1));
    const score = Float64Array.from(y, (_, i) => 1 - plainProba[i * 6 + clean]);
    const a = y.includes(0) && y.includes(1) ? await aucBootstrap(y, score, groups, { resamples, seed: 0, maxFpr: 0.01 }) : null;
    row.plain = { macro_f1: null, roc_auc: a?.roc_auc ?? null, tpr_at_1pct_fpr: a?.tpr_at_fpr ?? null };
    for (const [kind, mode] of models) {
      if (mode !== "realistic" || isAnomaly(kind)) continue;
      const sc = join(art, `${kind}_${mode}.ckpt.json`);
      const model = await loadCheckpoint(sc, schema);
      const proba = await model.predictProba(features, tensors, test);
      const pred = argmaxRows(proba, test.label.length, 6);
      const r = await pairedBootstrap(test.label, pred, plainPred, groups, { resamples, seed: 0 });
      row.paired[`${kind}_${mode}`] = { diff: r.diff, excludes_zero: r.excludesZero };
      row.plain.macro_f1 = r.macroF1B;
    }
  }
  results.push(row);
  writeFileSync(join(out, "loho.json"), JSON.stringify({ features, models, resamples, val: valBy, results }, null, 2) + "\n");
}

const fmt = (iv) => (iv && typeof iv.point === "number" ? `${iv.point.toFixed(3)} [${iv.lo?.toFixed(3)}, ${iv.hi?.toFixed(3)}]` : "n/a");
const sfmt = (iv) => (iv ? `${iv.point >= 0 ? "+" : ""}${iv.point.toFixed(3)} [${iv.lo?.toFixed(3)}, ${iv.hi?.toFixed(3)}]` : "n/a");
const names = models.map(([k, m]) => `${k}_${m}`);
const lines = [];
lines.push(`| held-out host | ${names.join(" | ")} | plain XGBoost (realistic) | ${names.filter((n) => n.endsWith("realistic")).map((n) => `${n} − plain`).join(" | ")} | untested profiles |`);
lines.push(`|${"---|".repeat(names.length + 3 + names.filter((n) => n.endsWith("realistic")).length)}`);
for (const r of results) {
  const paired = names.filter((n) => n.endsWith("realistic")).map((n) => {
    const p = r.paired[n];
    return p ? (p.excludes_zero ? `**${sfmt(p.diff)}**` : sfmt(p.diff)) : "n/a";
  });
  lines.push(`| ${r.host} | ${names.map((n) => fmt(r.models[n]?.macro_f1)).join(" | ")} | ${fmt(r.plain?.macro_f1)} | ${paired.join(" | ")} | ${r.untested_profiles.join(", ") || "none"} |`);
}
const mean = (get) => {
  const v = results.map(get).filter((x) => typeof x === "number");
  return v.length ? (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3) : "n/a";
};
lines.push(`| mean over hosts | ${names.map((n) => mean((r) => r.models[n]?.macro_f1?.point)).join(" | ")} | ${mean((r) => r.plain?.macro_f1?.point)} | ${names.filter((n) => n.endsWith("realistic")).map((n) => mean((r) => r.paired[n]?.diff.point)).join(" | ")} | |`);
// Infected (any non-clean phase) vs clean test windows, per held-out host.
const withPlain = results.some((r) => r.plain?.tpr_at_1pct_fpr);
// Then each model's episode TPR: infected episodes whose default alert holds before dormant (eval's `episodes`).
lines.push("", `| held-out host | ${names.map((n) => `${n} TPR at 1% FPR`).join(" | ")}${withPlain ? " | plain XGBoost (realistic) TPR at 1% FPR" : ""} | ${names.map((n) => `${n} episode TPR`).join(" | ")} | clean / infected test windows |`);
lines.push(`|${"---|".repeat(2 * names.length + 2 + (withPlain ? 1 : 0))}`);
for (const r of results) {
  const t = r.counts?.test;
  lines.push(`| ${r.host} | ${names.map((n) => fmt(r.models[n]?.tpr_at_1pct_fpr)).join(" | ")}${withPlain ? ` | ${fmt(r.plain?.tpr_at_1pct_fpr)}` : ""} | ${names.map((n) => fmt(r.models[n]?.episode_tpr)).join(" | ")} | ${r.windows_by_class ? `${r.windows_by_class.clean} / ${r.windows_by_class.infected}` : t ? `${t.windows} windows` : ""} |`);
}
lines.push(`| mean over hosts | ${names.map((n) => mean((r) => r.models[n]?.tpr_at_1pct_fpr?.point)).join(" | ")}${withPlain ? ` | ${mean((r) => r.plain?.tpr_at_1pct_fpr?.point)}` : ""} | ${names.map((n) => mean((r) => r.models[n]?.episode_tpr?.point)).join(" | ")} | |`);
process.stdout.write(lines.join("\n") + "\n");
writeFileSync(join(out, "loho.md"), lines.join("\n") + "\n");
