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
//   [--seeds 0,1,2,3,4] [--no-eval] [--threads N] [--train-args "..."] [--split-args "..."]
// --val hosts: validation (early stopping, best epoch) on one whole
// training-side host instead of episodes carved from all training hosts;
// --val host-folds: k-fold by training host (gbt only). The plain baseline
// always keeps its definition: early stopping on the default episode
// carve (a second split, split-episodes.parquet, with the same test side).
// --features may point at features made with a schema option (`cis490
// features --baseline relative --missing-indicators`): the models and the
// plain baseline then read that schema's columns.
// --seeds: every model is trained once per seed (artifacts-s<seed>/); the
// table shows seed 0 and the spread of the paired difference over the
// seeds, with how many seeds give a significant difference each way.
// --no-eval: skip `cis490 eval` (intervals then come from the paired
// bootstrap alone, which is what the table shows anyway).
// The plain baseline is fitted once per mode the models use (realistic
// and/or oracle columns); it has no subsampling, so it does not depend on a seed.

import { spawnSync } from "node:child_process";
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
// --split-args "...": extra `cis490 split` flags for the models' split (e.g. "--val-strata none"); never for the plain baseline's.
const extraSplit = (arg("split-args", "") || "").split(" ").filter(Boolean);
// --threads N: engine threads for the project's models and the plain baseline alike (default: the trainer's default, plain 2).
const threads = arg("threads", null);
if (threads) extraTrain.push("--threads", threads);

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

/** A binary file as a typed array (a copy: small reads share Node's buffer pool, so `.buffer` is not the file). */
const readTyped = (path, Ctor) => {
  const b = readFileSync(path);
  return new Ctor(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

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

const seeds = arg("seeds", "0").split(",").map(Number);
const modes = [...new Set(models.map(([, m]) => m))];
const artDir = (dir, seed) => join(dir, seeds.length === 1 && seed === 0 ? "artifacts" : `artifacts-s${seed}`);

const results = [];
for (const host of hosts) {
  const dir = join(out, host);
  mkdirSync(dir, { recursive: true });
  const split = join(dir, "split.parquet");
  process.stderr.write(`loho: ${host}: split\n`);
  cli(["split", "--features", features, "--recipe", "host", "--test-hosts", host, "--out", split, "--allow-missing-class", ...(valBy === "episodes" ? [] : ["--val", valBy]), ...extraSplit]);
  const summary = JSON.parse(readFileSync(join(dir, "split.json"), "utf8"));
  const plainSplit = valBy === "episodes" && extraSplit.length === 0 ? split : join(dir, "split-episodes.parquet");
  if (plainSplit !== split && !flag("no-plain")) cli(["split", "--features", features, "--recipe", "host", "--test-hosts", host, "--out", plainSplit, "--allow-missing-class"]);
  const timing = {};
  for (const seed of seeds) {
    for (const [kind, mode] of models) {
      process.stderr.write(`loho: ${host}: train ${kind} ${mode} seed ${seed}\n`);
      const r = cli(["train", "--model", kind, "--mode", mode, "--features", features, "--tensors", tensors, "--split", split, "--out", artDir(dir, seed), "--allow-missing-class", "--seed", String(seed), ...extraTrain]);
      timing[`${kind}_${mode}_s${seed}`] = r.seconds;
    }
  }
  const row = { host, val_hosts: summary.val_hosts ?? null, missing_in_train: summary.missing_in_train, untested_profiles: summary.untested_profiles, counts: summary.counts, models: {}, plain: {}, paired: {}, seeds: {}, train_seconds: timing };
  if (!flag("no-eval")) {
    const art = artDir(dir, seeds[0]);
    // A rerun keeps the evaluation when every model's result is newer than its checkpoint.
    const evalFresh = models.every(([k, m]) => {
      const e = join(dir, "eval", `${k}_${m}_eval.json`);
      return existsSync(e) && statSync(e).mtimeMs > statSync(sidecarOf(art, k, m)).mtimeMs;
    });
    process.stderr.write(`loho: ${host}: eval${evalFresh ? " (kept)" : ""}\n`);
    if (!evalFresh) cli(["eval", "--artifacts", art, "--features", features, "--tensors", tensors, "--split", split, "--out", join(dir, "eval"), "--resamples", String(resamples)]);
    for (const [kind, mode] of models) {
      const ev = JSON.parse(readFileSync(join(dir, "eval", `${kind}_${mode}_eval.json`), "utf8"));
      const untested = (ev.per_profile ?? ev.anomaly?.by_profile ?? []).filter((p) => p.status === "untested").map((p) => p.key);
      if (ev.anomaly && !row.windows_by_class) row.windows_by_class = { clean: ev.anomaly.negatives, infected: ev.anomaly.positives };
      row.models[`${kind}_${mode}`] = { macro_f1: ev.macro_f1, untested, roc_auc: ev.anomaly?.roc_auc ?? null, tpr_at_1pct_fpr: ev.anomaly?.tpr_at_1pct_fpr ?? null, episode_tpr: ev.episodes?.tpr ?? null };
    }
  }

  if (!flag("no-plain")) {
    const sets = {};
    for (const side of ["train", "val", "test"]) sets[side] = await loadWindowSet(features, plainSplit, side);
    const test = sets.test;
    const ids = new Map();
    const groups = Uint32Array.from(test.episode_id, (e) => (ids.has(e) ? ids.get(e) : (ids.set(e, ids.size), ids.size - 1)));
    const plainPred = {};
    for (const mode of modes) {
      // The plain baseline reads this mode's summary columns of the same windows.
      const cols = featureIndices(mode, schema.stats).map((i) => schema.features[i]);
      const xdir = join(dir, mode === "realistic" ? "plain" : `plain-${mode}`);
      mkdirSync(xdir, { recursive: true });
      for (const side of ["train", "val", "test"]) {
        const w = sets[side];
        const x = await readFeatureRows(features, w, cols);
        for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) x[i] = Number.NaN;
        writeFileSync(join(xdir, `${side}_x.bin`), Buffer.from(x.buffer, x.byteOffset, x.byteLength));
        writeFileSync(join(xdir, `${side}_y.bin`), Buffer.from(w.label.buffer, w.label.byteOffset, w.label.byteLength));
      }
      writeFileSync(join(xdir, "meta.json"), JSON.stringify({ width: cols.length, classes: 6, seed: 0, threads: Number(threads ?? 2) }));
      process.stderr.write(`loho: ${host}: plain xgboost ${mode}\n`);
      const py = spawnSync("/usr/bin/python3", [join(root, "bench/plain_xgb.py"), xdir], { encoding: "utf8" });
      if (py.status !== 0) throw new Error(`plain_xgb.py failed: ${py.stderr}`);
      plainPred[mode] = readTyped(join(xdir, "plain_pred.bin"), Int32Array);
      // Infected vs clean for plain XGBoost: its 1 - P(clean) on the test windows.
      const clean = 0; // PHASES.indexOf("clean")
      const plainProba = readTyped(join(xdir, "plain_proba.bin"), Float32Array);
      const y = Int32Array.from(test.label, (l) => (l === clean ? 0 : 1));
      const score = Float64Array.from(y, (_, i) => 1 - plainProba[i * 6 + clean]);
      const a = y.includes(0) && y.includes(1) ? await aucBootstrap(y, score, groups, { resamples, seed: 0, maxFpr: 0.01 }) : null;
      row.plain[mode] = { macro_f1: null, roc_auc: a?.roc_auc ?? null, tpr_at_1pct_fpr: a?.tpr_at_fpr ?? null };
    }
    for (const [kind, mode] of models) {
      if (isAnomaly(kind)) continue;
      const name = `${kind}_${mode}`;
      const perSeed = [];
      for (const seed of seeds) {
        const model = await loadCheckpoint(join(artDir(dir, seed), `${name}.ckpt.json`), schema);
        const proba = await model.predictProba(features, tensors, test);
        const pred = argmaxRows(proba, test.label.length, 6);
        const r = await pairedBootstrap(test.label, pred, plainPred[mode], groups, { resamples, seed: 0 });
        perSeed.push({ seed, macro_f1: r.macroF1A, diff: r.diff, excludes_zero: r.excludesZero });
        row.plain[mode].macro_f1 = r.macroF1B;
      }
      row.paired[name] = { diff: perSeed[0].diff, excludes_zero: perSeed[0].excludes_zero };
      if (!row.models[name]) row.models[name] = { macro_f1: perSeed[0].macro_f1 };
      row.seeds[name] = perSeed;
    }
  }
  results.push(row);
  writeFileSync(join(out, "loho.json"), JSON.stringify({ features, schema_hash: schema.hash, stats: schema.stats, baseline: schema.baseline ?? null, models, seeds, resamples, val: valBy, results }, null, 2) + "\n");
}

const fmt = (iv) => (iv && typeof iv.point === "number" ? `${iv.point.toFixed(3)} [${iv.lo?.toFixed(3)}, ${iv.hi?.toFixed(3)}]` : "n/a");
const sign = (x) => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;
const sfmt = (iv) => (iv ? `${sign(iv.point)} [${iv.lo?.toFixed(3)}, ${iv.hi?.toFixed(3)}]` : "n/a");
const names = models.map(([k, m]) => `${k}_${m}`);
/** Over the seeds: mean, min..max of the difference, and how many seeds are significantly above / below plain. */
const spread = (list) => {
  if (!list || list.length < 2) return null;
  const d = list.map((s) => s.diff.point);
  const up = list.filter((s) => s.excludes_zero && s.diff.point > 0).length;
  const down = list.filter((s) => s.excludes_zero && s.diff.point < 0).length;
  return `${sign(d.reduce((a, b) => a + b, 0) / d.length)} (${sign(Math.min(...d))}..${sign(Math.max(...d))}; sig +${up}/−${down} of ${d.length})`;
};
// The macro F1 table: the phase classifiers only (an anomaly detector has no macro F1).
const f1Names = names.filter((n) => !isAnomaly(n.slice(0, n.lastIndexOf("_"))));
const withSeeds = seeds.length > 1;
const lines = [];
lines.push(`| held-out host | ${f1Names.join(" | ")} | ${modes.map((m) => `plain XGBoost (${m})`).join(" | ")} | ${f1Names.map((n) => `${n} − plain`).join(" | ")}${withSeeds ? ` | ${f1Names.map((n) => `${n} − plain over seeds ${seeds.join(",")}`).join(" | ")}` : ""} | untested profiles |`);
lines.push(`|${"---|".repeat(2 * f1Names.length + modes.length + 2 + (withSeeds ? f1Names.length : 0))}`);
for (const r of results) {
  const paired = f1Names.map((n) => {
    const p = r.paired[n];
    return p ? (p.excludes_zero ? `**${sfmt(p.diff)}**` : sfmt(p.diff)) : "n/a";
  });
  const sp = withSeeds ? ` | ${f1Names.map((n) => spread(r.seeds[n]) ?? "n/a").join(" | ")}` : "";
  lines.push(`| ${r.host} | ${f1Names.map((n) => fmt(r.models[n]?.macro_f1)).join(" | ")} | ${modes.map((m) => fmt(r.plain?.[m]?.macro_f1)).join(" | ")} | ${paired.join(" | ")}${sp} | ${r.untested_profiles.join(", ") || "none"} |`);
}
const mean = (get) => {
  const v = results.map(get).filter((x) => typeof x === "number");
  return v.length ? (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3) : "n/a";
};
lines.push(`| mean over hosts | ${f1Names.map((n) => mean((r) => r.models[n]?.macro_f1?.point)).join(" | ")} | ${modes.map((m) => mean((r) => r.plain?.[m]?.macro_f1.point)).join(" | ")} | ${f1Names.map((n) => mean((r) => r.paired[n]?.diff.point)).join(" | ")}${withSeeds ? " |".repeat(f1Names.length) : ""} | |`);
// Infected (any non-clean phase) vs clean test windows, per held-out host.
const withPlain = results.some((r) => r.plain?.realistic?.tpr_at_1pct_fpr);
// Then each model's episode TPR: infected episodes whose default alert holds before dormant (eval's `episodes`).
lines.push("", `| held-out host | ${names.map((n) => `${n} TPR at 1% FPR`).join(" | ")}${withPlain ? " | plain XGBoost (realistic) TPR at 1% FPR" : ""} | ${names.map((n) => `${n} episode TPR`).join(" | ")} | clean / infected test windows |`);
lines.push(`|${"---|".repeat(2 * names.length + 2 + (withPlain ? 1 : 0))}`);
for (const r of results) {
  const t = r.counts?.test;
  lines.push(`| ${r.host} | ${names.map((n) => fmt(r.models[n]?.tpr_at_1pct_fpr)).join(" | ")}${withPlain ? ` | ${fmt(r.plain?.realistic?.tpr_at_1pct_fpr)}` : ""} | ${names.map((n) => fmt(r.models[n]?.episode_tpr)).join(" | ")} | ${r.windows_by_class ? `${r.windows_by_class.clean} / ${r.windows_by_class.infected}` : t ? `${t.windows} windows` : ""} |`);
}
lines.push(`| mean over hosts | ${names.map((n) => mean((r) => r.models[n]?.tpr_at_1pct_fpr?.point)).join(" | ")}${withPlain ? ` | ${mean((r) => r.plain?.realistic?.tpr_at_1pct_fpr?.point)}` : ""} | ${names.map((n) => mean((r) => r.models[n]?.episode_tpr?.point)).join(" | ")} | |`);
process.stdout.write(lines.join("\n") + "\n");
writeFileSync(join(out, "loho.md"), lines.join("\n") + "\n");
