// `cis490 eval`: every checkpoint in an artifacts directory on the test side
// of one split: supervised ones (`*.ckpt.json`: macro F1 and the rest, plus
// infected vs clean and episode verdicts) and anomaly detectors
// (`*.anomaly-ckpt.json`: infected vs clean and episode verdicts only). A checkpoint that cannot be evaluated (schema mismatch,
// trained on another split, missing weights) is listed as a failure and the
// others still run; when none can be evaluated, it is an EvalError (exit 1)
// and no report is written. Writes per-model JSON, predictions.parquet and the
// comparison report, each atomically.

import { mkdir, readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { Field, Float32, Int32, Int8, Schema, Table, Utf8, makeVector, vectorFromArray, type Vector } from "apache-arrow";
import { PHASES } from "../episode/report.js";
import { FEATURE_SCHEMA_FILE, readFeatureSchema } from "../features/schema.js";
import { writeFileAtomic } from "../io/atomic.js";
import { sha256OfFile } from "../io/hash.js";
import { writeParquet } from "../io/parquet.js";
import { renderHtml, renderMarkdown } from "./report/render.js";
import { summaryPathFor } from "../split/run.js";
import { loadCheckpoint, trainedLabels, type LabelSource } from "../train/checkpoint.js";
import { argmaxRows } from "../train/loop.js";
import { loadWindowSet, readFeatureRows, type WindowSet } from "../train/windows.js";
import { loadAnomalyDetector } from "../anomaly/loader.js";
import { ANOMALY_CHECKPOINT_SUFFIX } from "../anomaly/train.js";
import { evaluateAnomalyModel, type AnomalyIdentity } from "./infected.js";
import { compareModels, evaluateModel, type EvalSettings, type ModelIdentity, type TestWindows } from "./evaluate.js";
import type { AnomalyModelEval, Comparison, DropNoisyInfo, DropNoisyPair, EvalFailure, LabelSet, ModelEval, PairwiseRow } from "./result.js";
import { CliError } from "../util/errors.js";

export class EvalError extends CliError {}

export interface EvalRunOptions extends EvalSettings {
  artifacts: string;
  /** Evaluate exactly these checkpoint sidecars instead of every one in `artifacts` (e.g. resolved NAME@alias references). */
  checkpoints?: string[];
  features: string;
  tensors: string | null;
  split: string;
  out: string;
  /** Macro F1's classes: "trained" (default), the union of the models' trained phases; "union", scikit-learn's default. */
  labelMode?: "trained" | "union";
  /** Called as each checkpoint starts, for progress output. */
  onModel?: (checkpoint: string, index: number, total: number) => void;
}

export interface EvalRunResult {
  comparison: Comparison;
  files: string[];
}

export const CHECKPOINT_SUFFIX = ".ckpt.json";

/** Supervised sidecars (`*.ckpt.json`) and anomaly ones (`*.anomaly-ckpt.json`). */
async function listCheckpoints(artifacts: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(artifacts);
  } catch (error) {
    throw new EvalError(`cannot read artifacts directory ${artifacts}: ${(error as Error).message}`);
  }
  return names.filter((n) => n.endsWith(CHECKPOINT_SUFFIX) || n.endsWith(ANOMALY_CHECKPOINT_SUFFIX)).sort().map((n) => join(artifacts, n));
}

/** `<model>_<mode>`, `_drop-noisy` when trained with --drop-noisy; a name already taken gets `-2`, `-3`, ... */
function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}-${k}`;
  taken.add(name);
  return name;
}

/** Plain vs --drop-noisy twins (same kind and mode) among the evaluated models, with their paired macro F1 difference. */
function dropNoisyPairs(models: ModelEval[], significance: PairwiseRow[]): DropNoisyPair[] {
  const pairs: DropNoisyPair[] = [];
  for (const d of models.filter((m) => m.drop_noisy)) {
    for (const p of models.filter((m) => !m.drop_noisy && m.model === d.model && m.mode === d.mode)) {
      const direct = significance.find((r) => r.a === d.name && r.b === p.name);
      const reverse = significance.find((r) => r.a === p.name && r.b === d.name);
      const row = direct ?? reverse;
      if (!row) continue;
      const diff = direct ? row.diff : { point: -row.diff.point, lo: row.diff.hi === null ? null : -row.diff.hi, hi: row.diff.lo === null ? null : -row.diff.lo };
      pairs.push({
        plain: p.name,
        drop_noisy: d.name,
        dropped: d.drop_noisy!.dropped,
        report: d.drop_noisy!.report,
        macro_f1_diff: diff,
        excludes_zero: row.excludes_zero,
        roc_auc: { plain: p.anomaly?.roc_auc ?? null, drop_noisy: d.anomaly?.roc_auc ?? null },
        tpr_at_1pct_fpr: { plain: p.anomaly?.tpr_at_1pct_fpr ?? null, drop_noisy: d.anomaly?.tpr_at_1pct_fpr ?? null },
      });
    }
  }
  return pairs;
}

async function readSplitSummary(split: string): Promise<{ recipe: string | null; untested_profiles: string[] }> {
  try {
    const doc = JSON.parse(await readFile(summaryPathFor(split), "utf8")) as { recipe?: string; untested_profiles?: string[] };
    return { recipe: doc.recipe ?? null, untested_profiles: doc.untested_profiles ?? [] };
  } catch {
    // Without the summary we cannot say which profiles the split leaves out; the per-profile table still shows them.
    return { recipe: null, untested_profiles: [] };
  }
}

function testWindows(w: WindowSet): TestWindows {
  return { episode_id: w.episode_id, host_id: w.host_id, profile: w.profile, label: w.label, t_center_s: w.t_center_s, infecting_start_s: w.infecting_start_s };
}

interface Predicted {
  name: string;
  model: string;
  mode: string;
  pred: Int32Array;
  proba: Float32Array;
}

interface Loaded extends Predicted {
  identity: ModelIdentity;
  trained: { labels: number[]; source: LabelSource };
  checkpoint: string;
  dropNoisy: DropNoisyInfo | null;
}

interface LoadedDetector {
  name: string;
  identity: AnomalyIdentity;
  score: Float64Array;
  checkpoint: string;
}

/** One row per test window per model: ids, truth, prediction, class probabilities. */
function predictionsTable(w: WindowSet, predicted: Predicted[]): Table {
  const n = w.label.length;
  const total = n * predicted.length;
  const str = (get: (p: Predicted, i: number) => string | null): Vector => {
    const values: Array<string | null> = new Array(total);
    predicted.forEach((p, m) => {
      for (let i = 0; i < n; i++) values[m * n + i] = get(p, i);
    });
    return vectorFromArray(values, new Utf8());
  };
  const window = new Int32Array(total);
  const truth = new Int8Array(total);
  const pred = new Int8Array(total);
  const proba = PHASES.map(() => new Float32Array(total));
  predicted.forEach((p, m) => {
    for (let i = 0; i < n; i++) {
      const at = m * n + i;
      window[at] = w.window[i];
      truth[at] = w.label[i];
      pred[at] = p.pred[i];
      PHASES.forEach((_, c) => (proba[c][at] = p.proba[i * PHASES.length + c]));
    }
  });
  const columns: Record<string, Vector> = {
    model: str((p) => p.model),
    mode: str((p) => p.mode),
    episode_id: str((_, i) => w.episode_id[i]),
    window: makeVector(window),
    host_id: str((_, i) => w.host_id[i]),
    profile: str((_, i) => w.profile[i]),
    true_label: makeVector(truth),
    true_phase: str((_, i) => PHASES[w.label[i]] ?? null),
    pred_label: makeVector(pred),
    pred_phase: str((p, i) => PHASES[p.pred[i]] ?? null),
  };
  PHASES.forEach((phase, c) => (columns[`p_${phase}`] = makeVector(proba[c])));
  if (total === 0) {
    // An empty Table from vectors has no schema; spell it out so the file still has its columns.
    const fields = Object.keys(columns).map((k) => new Field(k, k === "window" ? new Int32() : k.endsWith("_label") ? new Int8() : k.startsWith("p_") ? new Float32() : new Utf8(), true));
    return new Table(new Schema(fields));
  }
  return new Table(columns);
}

export async function runEval(o: EvalRunOptions): Promise<EvalRunResult> {
  const schemaPath = join(dirname(o.features), FEATURE_SCHEMA_FILE);
  const schema = await readFeatureSchema(schemaPath).catch((error: Error) => {
    throw new EvalError(`cannot read the feature schema ${schemaPath}: ${error.message}`);
  });
  const checkpoints = o.checkpoints ?? (await listCheckpoints(o.artifacts));
  if (checkpoints.length === 0) throw new EvalError(`no checkpoints (*${CHECKPOINT_SUFFIX} or *${ANOMALY_CHECKPOINT_SUFFIX}) in ${o.artifacts}; run \`cis490 train\` first`);
  const splitInfo = await readSplitSummary(o.split);
  const splitSha = await sha256OfFile(o.split).catch((error: Error) => {
    throw new EvalError(`cannot read the split ${o.split}: ${error.message}`);
  });
  const windows = await loadWindowSet(o.features, o.split, "test");
  if (windows.label.length === 0) throw new EvalError(`the test side of ${o.split} has no windows: nothing to evaluate`);
  const splitRef = { path: o.split, recipe: splitInfo.recipe, untested_profiles: splitInfo.untested_profiles };
  const test = testWindows(windows);

  await mkdir(o.out, { recursive: true });
  const failures: EvalFailure[] = [];
  const loaded: Loaded[] = [];
  const failed = (path: string, error: unknown) => failures.push({ checkpoint: relative(resolve("."), path) || path, error: (error as Error).message });
  const detectors: LoadedDetector[] = [];
  const names = new Set<string>();
  const checkSplit = (sha: string, split: string) => {
    // A checkpoint trained on another split may have seen these test episodes.
    if (sha !== splitSha) throw new Error(`trained on split ${split} (sha256 ${sha.slice(0, 12)}), not on ${o.split} (sha256 ${splitSha.slice(0, 12)}): its training data may contain these test episodes`);
  };
  for (const [index, path] of checkpoints.entries()) {
    o.onModel?.(path, index, checkpoints.length);
    if (path.endsWith(ANOMALY_CHECKPOINT_SUFFIX)) {
      try {
        const det = await loadAnomalyDetector(path);
        const sc = det.sidecar;
        let score: Float64Array;
        try {
          if (sc.feature_schema_hash !== schema.hash) throw new Error(`feature schema hash mismatch: checkpoint ${sc.feature_schema_hash} vs features ${schema.hash}`);
          checkSplit(sc.data.split_sha256, sc.data.split);
          const x = await readFeatureRows(o.features, windows, det.columns);
          score = await det.scoreSamples({ x, n: windows.label.length, width: det.columns.length });
        } finally {
          await det.dispose();
        }
        const identity = { model: sc.kind, mode: sc.mode, checkpoint: path, schema_hash: sc.feature_schema_hash, split: splitRef, threshold: sc.threshold ?? null, promotable: sc.gate?.promotable ?? null };
        detectors.push({ name: uniqueName(`${sc.kind}_${sc.mode}`, names), identity, score, checkpoint: path });
      } catch (error) {
        failed(path, error);
      }
      continue;
    }
    try {
      const model = await loadCheckpoint(path, schema as unknown as { hash: string } & Record<string, unknown>);
      const sc = model.sidecar;
      checkSplit(sc.data.split_sha256, sc.data.split);
      const proba = await model.predictProba(o.features, o.tensors, windows);
      const classes = sc.classes.length;
      if (classes !== PHASES.length || proba.length !== windows.label.length * classes) {
        throw new Error(`returned ${proba.length} probabilities for ${windows.label.length} windows x ${classes} classes`);
      }
      const pred = argmaxRows(proba, windows.label.length, classes);
      const trained = trainedLabels(sc);
      const identity = { model: sc.kind, mode: sc.mode, checkpoint: path, schema_hash: sc.feature_schema_hash, split: splitRef, trained_labels: { phases: trained.labels.map((l) => PHASES[l]), source: trained.source } };
      const dropNoisy = sc.data.drop_noisy ?? null;
      const name = uniqueName(`${sc.kind}_${sc.mode}${dropNoisy ? "_drop-noisy" : ""}`, names);
      loaded.push({ name, model: sc.kind, mode: sc.mode, pred, proba, identity, trained, checkpoint: path, dropNoisy });
    } catch (error) {
      failed(path, error);
    }
  }
  const nothingEvaluated = () => new EvalError(`no checkpoint could be evaluated (${checkpoints.length} found):\n${failures.map((f) => `  ${f.checkpoint}: ${f.error}`).join("\n")}`);
  if (loaded.length === 0 && detectors.length === 0) throw nothingEvaluated();

  // One class list for every model compared, so macro F1s and their paired
  // differences average over the same classes (docs/statistics.md).
  const labelMode = o.labelMode ?? "trained";
  const fixed = labelMode === "trained" ? [...new Set(loaded.flatMap((m) => m.trained.labels))].sort((a, b) => a - b) : null;
  const labels: LabelSet = { mode: labelMode, phases: fixed ? fixed.map((l) => PHASES[l]) : null };
  const settings = { ...o, labels: fixed };

  const models: ModelEval[] = [];
  const predicted: Predicted[] = [];
  const files: string[] = [];
  for (const m of loaded) {
    try {
      const result = { ...(await evaluateModel(m.identity, test, m.pred, settings, m.proba)), name: m.name, drop_noisy: m.dropNoisy };
      if (m.name !== `${m.model}_${m.mode}` && !m.dropNoisy) result.warnings.push(`another evaluated checkpoint is also ${m.model}_${m.mode}: this one is reported as ${m.name}`);
      if (m.trained.source !== "trained_labels") result.warnings.push(`the checkpoint predates trained_labels: its trained phases are taken from ${m.trained.source === "classes" ? "its full class list" : "training.class_counts_train"}`);
      models.push(result);
      predicted.push(m);
      const file = join(o.out, `${result.name}_eval.json`);
      await writeFileAtomic(file, JSON.stringify(result, null, 2) + "\n");
      files.push(file);
    } catch (error) {
      failed(m.checkpoint, error);
    }
  }
  const anomalyModels: AnomalyModelEval[] = [];
  for (const d of detectors) {
    try {
      const result = { ...(await evaluateAnomalyModel(d.identity, test, d.score, settings)), name: d.name };
      anomalyModels.push(result);
      const file = join(o.out, `${result.name}_eval.json`);
      await writeFileAtomic(file, JSON.stringify(result, null, 2) + "\n");
      files.push(file);
    } catch (error) {
      failed(d.checkpoint, error);
    }
  }
  if (models.length === 0 && anomalyModels.length === 0) throw nothingEvaluated();

  const significance = await compareModels(test, new Map(predicted.map((p) => [p.name, p.pred])), settings);
  const comparison: Comparison = { split: splitRef, unit: o.unit, resamples: o.resamples, labels, models, anomaly_models: anomalyModels, significance, drop_noisy_pairs: dropNoisyPairs(models, significance), failures };
  const out = (name: string) => join(o.out, name);
  await writeParquet(out("predictions.parquet"), predictionsTable(windows, predicted));
  await writeFileAtomic(out("comparison.json"), JSON.stringify(comparison, null, 2) + "\n");
  await writeFileAtomic(out("comparison.md"), renderMarkdown(comparison));
  await writeFileAtomic(out("comparison.html"), renderHtml(comparison));
  files.push(out("predictions.parquet"), out("comparison.json"), out("comparison.md"), out("comparison.html"));
  return { comparison, files };
}
