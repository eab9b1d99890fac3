// `publish metrics`: one model_metric event per `<model>_<mode>_eval.json`
// that `cis490 eval` wrote. The version is the checkpoint's weights digest
// (short), so retrained models show as separate bars. From a registry
// (`--registry`), one event per registered version with an attached
// evaluation (`cis490 eval --model NAME@version` stores it), oldest first,
// the version being the registry's id: the page then compares versions.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelEval } from "../../eval/result.js";
import { EVAL_FILE as REGISTRY_EVAL_FILE } from "../../registry/api.js";
import { parseModelRef } from "../../registry/refs.js";
import { modelNames, viewModel } from "../../registry/store.js";
import { validateEvent, type ModelMetricEvent } from "../events.js";

export interface MetricsResult {
  events: ModelMetricEvent[];
  /** "file: reason" for eval files that could not be turned into an event. */
  skipped: string[];
}

const EVAL_FILE = /^(.+)_(realistic|oracle)_eval\.json$/;

async function versionOf(checkpoint: string, reportsDir: string): Promise<string> {
  for (const path of [checkpoint, join(reportsDir, checkpoint)]) {
    try {
      const sc = JSON.parse(await readFile(path, "utf8")) as { weights_sha256?: string };
      if (typeof sc.weights_sha256 === "string" && sc.weights_sha256.length >= 8) return sc.weights_sha256.slice(0, 8);
    } catch {
      // Try the next candidate; a moved checkpoint is "unversioned", not an error.
    }
  }
  return "unversioned";
}

export function metricEvent(m: ModelEval, version: string): ModelMetricEvent {
  return {
    type: "model_metric",
    model: m.model,
    mode: m.mode,
    version,
    macro_f1: { point: m.macro_f1.point, lo: m.macro_f1.lo, hi: m.macro_f1.hi },
    per_class: Object.fromEntries(m.per_class.map((c) => [c.name, { point: c.f1.point, lo: c.f1.lo, hi: c.f1.hi }])),
    // eval's infected-vs-clean view (absent from eval files written before it).
    ...(m.anomaly ? { anomaly: { roc_auc: m.anomaly.roc_auc.point, pr_auc: m.anomaly.pr_auc.point, tpr_at_1pct_fpr: m.anomaly.tpr_at_1pct_fpr.point } } : {}),
  };
}

async function evalEvent(path: string, version: (m: ModelEval) => Promise<string> | string): Promise<ModelMetricEvent> {
  const m = JSON.parse(await readFile(path, "utf8")) as ModelEval;
  if (!m || typeof m !== "object" || !m.macro_f1 || !Array.isArray(m.per_class)) throw new Error("not an eval result (no macro_f1 / per_class)");
  const event = metricEvent(m, await version(m));
  const v = validateEvent(event);
  if (!v.ok) throw new Error(v.reason);
  return event;
}

/** Every version (of `names`, default every model) of a registry that has an evaluation attached, oldest first per model. */
export async function metricsFromRegistry(registry: string, names: string[] = []): Promise<MetricsResult> {
  const models = names.length ? names.map((n) => parseModelRef(n).name) : await modelNames(registry);
  const events: ModelMetricEvent[] = [];
  const skipped: string[] = [];
  for (const name of models) {
    const view = await viewModel(registry, name);
    for (const v of view.versions) {
      if (!v.has_eval) {
        skipped.push(`${name}@${v.id}: no evaluation attached (cis490 eval --model ${name}@${v.id} stores one)`);
        continue;
      }
      try {
        events.push(await evalEvent(join(v.dir, REGISTRY_EVAL_FILE), () => v.id));
      } catch (error) {
        skipped.push(`${name}@${v.id}: ${(error as Error).message}`);
      }
    }
  }
  return { events, skipped };
}

export async function metricsFromReports(dir: string): Promise<MetricsResult> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => EVAL_FILE.test(n)).sort();
  } catch (error) {
    throw new Error(`cannot read reports directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const events: ModelMetricEvent[] = [];
  const skipped: string[] = [];
  for (const name of names) {
    try {
      events.push(await evalEvent(join(dir, name), (m) => versionOf(m.checkpoint, dir)));
    } catch (error) {
      skipped.push(`${name}: ${(error as Error).message}`);
    }
  }
  return { events, skipped };
}
