// Registry operations (docs/registry.md). Each returns a result object; the
// commands in src/cli/commands/registry-*.ts only parse and print.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { encodeDigestBinary } from "../drift/digest.js";
import { referenceSampleParquet } from "../drift/read.js";
import { validateSidecar } from "../train/checkpoint.js";
import { logDecision } from "./decisions.js";
import { deriveVersionData, provenanceOf, type ValidationPredictions } from "./derive.js";
import type { AnomalySidecar } from "../anomaly/train.js";
import { anomalyGate, isAnomalySidecar, provenanceSource, validateAnomalySidecar } from "./anomaly.js";
import { DEFAULT_GATE, promotionGate, type GateOptions, type GateResult } from "./gate.js";
import { parseModelRef } from "./refs.js";
import { aliasStack, attachFile, createVersion, deleteVersion, findVersion, modelNames, moveAlias, readAliases, readJournal, readManifest, readVersions, versionDir, viewModel, writing } from "./store.js";
import { DEFAULT_ALIAS, RegistryError, VERSION_FORMAT, type AliasMove, type ModelView, type VersionManifest } from "./types.js";

export const CANDIDATE_ALIAS = "candidate";
const VALIDATION_FILE = "validation.json";
export const DIGEST_FILE = "drift_digest.json";
export const DIGEST_BIN_FILE = "drift_digest.bin";
export const REFERENCE_FILE = "drift_reference.parquet";
export const EVAL_FILE = "eval.json";

export async function listModels(registry: string): Promise<ModelView[]> {
  const out: ModelView[] = [];
  for (const name of await modelNames(registry)) {
    if ((await readVersions(registry, name)).length > 0) out.push(await viewModel(registry, name));
  }
  return out;
}

export async function showModel(registry: string, name: string): Promise<ModelView> {
  return viewModel(registry, parseModelRef(name).name);
}

export async function readValidation(registry: string, m: VersionManifest): Promise<ValidationPredictions | null> {
  if (!m.validation) return null;
  try {
    return JSON.parse(await readFile(join(versionDir(registry, m.name, m.id), m.validation), "utf8")) as ValidationPredictions;
  } catch {
    return null;
  }
}

export interface RegisterOptions {
  commandLine?: string[] | null;
  gate?: GateOptions;
}

export interface RegisterResult {
  name: string;
  version: string;
  created_at: string;
  checkpoint: string;
  /** False when this exact content was already registered (nothing changed). */
  created: boolean;
  /** The alias the new version got: current (gate passed, or first version) or candidate (refused). */
  alias: string | null;
  gate: GateResult | null;
  notes: string[];
}

/** The result of registering content that is already version `id` (nothing changes), or null. */
async function existingVersion(registry: string, name: string, id: string): Promise<RegisterResult | null> {
  if (!existsSync(join(versionDir(registry, name, id), "version.json"))) return null;
  const m = await readManifest(registry, name, id);
  const aliases = [...(await readAliases(registry, name)).values()].filter((a) => a.version === id).map((a) => a.alias);
  return { name, version: id, created_at: m.created_at, checkpoint: join(versionDir(registry, name, id), m.checkpoint), created: false, alias: aliases.includes(DEFAULT_ALIAS) ? DEFAULT_ALIAS : (aliases[0] ?? null), gate: null, notes: [] };
}

/** Registers a trained checkpoint as a version of `<kind>_<mode>` and runs the promotion gate. */
export async function registerCheckpoint(registry: string, sidecarPath: string, o: RegisterOptions = {}): Promise<RegisterResult> {
  let sidecarBytes: Buffer;
  try {
    sidecarBytes = await readFile(sidecarPath);
  } catch (error) {
    throw new RegistryError(`cannot read checkpoint ${sidecarPath}: ${(error as Error).message}`);
  }
  const doc = JSON.parse(sidecarBytes.toString("utf8")) as unknown;
  if (isAnomalySidecar(doc)) return registerAnomaly(registry, sidecarPath, sidecarBytes, validateAnomalySidecar(doc, sidecarPath), o);
  const sc = validateSidecar(doc, sidecarPath);
  const weightsPath = join(dirname(sidecarPath), sc.weights_file);
  const weightsBytes = await readFile(weightsPath).catch((error: Error) => {
    throw new RegistryError(`checkpoint ${sidecarPath}: cannot read weights ${weightsPath}: ${error.message}`);
  });
  const content = createHash("sha256").update(sidecarBytes).update(weightsBytes).digest("hex");
  const id = content.slice(0, 12);
  const name = `${sc.kind}_${sc.mode}`;
  const existing = () => existingVersion(registry, name, id);
  const before = await existing();
  if (before) return before;

  // The expensive part (predicting the validation windows, reading the training features) runs outside the lock.
  const derived = await deriveVersionData(sidecarPath, sc);
  const provenance = await provenanceOf(sc, resolve(sidecarPath), o.commandLine ?? null);
  return writing(registry, name, async () => {
    const again = await existing();
    if (again) return again;
    const manifest: VersionManifest = {
      format: VERSION_FORMAT,
      name,
      id,
      created_at: new Date().toISOString(),
      content_sha256: content,
      kind: sc.kind,
      mode: sc.mode,
      checkpoint: basename(sidecarPath),
      weights: sc.weights_file,
      provenance,
      metrics: { val_macro_f1: sc.best.val_macro_f1, best_epoch: sc.best.epoch },
      validation: derived.validation ? VALIDATION_FILE : null,
      drift_digest: derived.digest ? DIGEST_FILE : null,
      drift_reference: derived.reference ? REFERENCE_FILE : null,
      notes: derived.notes,
    };
    const write: Record<string, string | Uint8Array> = {};
    if (derived.validation) write[VALIDATION_FILE] = JSON.stringify(derived.validation) + "\n";
    if (derived.digest) {
      write[DIGEST_FILE] = JSON.stringify(derived.digest.doc) + "\n";
      write[DIGEST_BIN_FILE] = encodeDigestBinary(derived.digest);
    }
    if (derived.reference) write[REFERENCE_FILE] = referenceSampleParquet(derived.reference.names, derived.reference.sample);
    await createVersion(registry, manifest, { copy: [sidecarPath, weightsPath], write });
    const checkpoint = join(versionDir(registry, name, id), manifest.checkpoint);
    await logDecision(registry, {
      event: "registered",
      model: name,
      version: id,
      reason: `trained ${sc.kind} ${sc.mode} registered from ${sidecarPath}`,
      details: { val_macro_f1: sc.best.val_macro_f1, content_sha256: content, features_sha256: sc.data.features_sha256, split_sha256: sc.data.split_sha256, notes: derived.notes },
    });

    const current = (await readAliases(registry, name)).get(DEFAULT_ALIAS);
    if (!current) {
      await moveAlias(registry, name, { alias: DEFAULT_ALIAS, to: id, kind: "set", reason: "first version of the model", metrics: { val_macro_f1: sc.best.val_macro_f1 } });
      await logDecision(registry, { event: "promoted", model: name, version: id, reason: "first version of the model becomes current", details: { val_macro_f1: sc.best.val_macro_f1 } });
      return { name, version: id, created_at: manifest.created_at, checkpoint, created: true, alias: DEFAULT_ALIAS, gate: null, notes: derived.notes };
    }
    const gate = await promotionGate(derived.validation, await readValidation(registry, await readManifest(registry, name, current.version)), o.gate ?? DEFAULT_GATE);
    const metrics = gateMetrics(gate, current.version);
    const alias = gate.passed ? DEFAULT_ALIAS : CANDIDATE_ALIAS;
    await moveAlias(registry, name, { alias, to: id, kind: "set", reason: gate.passed ? `promotion gate passed: ${gate.reason}` : `promotion gate refused: ${gate.reason}`, metrics });
    await logDecision(registry, { event: gate.passed ? "promoted" : "refused", model: name, version: id, reason: gate.reason, details: metrics });
    return { name, version: id, created_at: manifest.created_at, checkpoint, created: true, alias, gate, notes: derived.notes };
  });
}

function gateMetrics(gate: GateResult, against: string | null): Record<string, unknown> {
  if (gate.anomaly) return { gate: gate.method, passed: gate.passed, against, ...gate.anomaly };
  return { gate: gate.method, passed: gate.passed, against, candidate_f1: gate.candidate_f1, current_f1: gate.current_f1, diff: gate.diff, candidate_ci: gate.candidate_ci, current_ci: gate.current_ci };
}

/**
 * An anomaly checkpoint as a version of `<kind>_<mode>`: no validation
 * predictions or drift baseline are derived; it becomes current only when
 * its clean-window gate passed (even as the first version), else candidate.
 */
async function registerAnomaly(registry: string, sidecarPath: string, sidecarBytes: Buffer, sc: AnomalySidecar, o: RegisterOptions): Promise<RegisterResult> {
  const weightsPath = join(dirname(sidecarPath), sc.weights_file);
  const weightsBytes = await readFile(weightsPath).catch((error: Error) => {
    throw new RegistryError(`checkpoint ${sidecarPath}: cannot read weights ${weightsPath}: ${error.message}`);
  });
  const content = createHash("sha256").update(sidecarBytes).update(weightsBytes).digest("hex");
  const id = content.slice(0, 12);
  const name = `${sc.kind}_${sc.mode}`;
  const gate = anomalyGate(sc);
  const notes = ["anomaly detector: promotion gated on its held-out clean-window alarm rate; no validation predictions or drift baseline derived"];
  if (sc.kind === "ensemble") notes.push("ensemble: its members are loaded from their recorded paths (checked by sha256)");
  const provenance = await provenanceOf(provenanceSource(sc), resolve(sidecarPath), o.commandLine ?? null);
  return writing(registry, name, async () => {
    const again = await existingVersion(registry, name, id);
    if (again) return again;
    const manifest: VersionManifest = {
      format: VERSION_FORMAT,
      name,
      id,
      created_at: new Date().toISOString(),
      content_sha256: content,
      kind: sc.kind,
      mode: sc.mode,
      checkpoint: basename(sidecarPath),
      weights: sc.weights_file,
      provenance,
      metrics: { val_macro_f1: null, best_epoch: sc.training.best?.epoch ?? null, anomaly_gate: gate.anomaly },
      validation: null,
      drift_digest: null,
      drift_reference: null,
      notes,
    };
    await createVersion(registry, manifest, { copy: [sidecarPath, weightsPath], write: {} });
    const checkpoint = join(versionDir(registry, name, id), manifest.checkpoint);
    await logDecision(registry, { event: "registered", model: name, version: id, reason: `trained ${sc.kind} ${sc.mode} registered from ${sidecarPath}`, details: { ...gate.anomaly, content_sha256: content, features_sha256: sc.data.features_sha256, split_sha256: sc.data.split_sha256 } });
    const current = (await readAliases(registry, name)).get(DEFAULT_ALIAS)?.version ?? null;
    const metrics = gateMetrics(gate, current);
    const alias = gate.passed ? DEFAULT_ALIAS : CANDIDATE_ALIAS;
    await moveAlias(registry, name, { alias, to: id, kind: "set", reason: gate.passed ? `promotion gate passed: ${gate.reason}` : `promotion gate refused: ${gate.reason}`, metrics });
    await logDecision(registry, { event: gate.passed ? "promoted" : "refused", model: name, version: id, reason: gate.passed ? gate.reason : `not promoted${current ? ` (current stays ${current})` : ""}: ${gate.reason}`, details: metrics });
    return { name, version: id, created_at: manifest.created_at, checkpoint, created: true, alias, gate, notes };
  });
}

export interface PromoteResult {
  name: string;
  version: string;
  alias: string;
  from: string | null;
  promoted: boolean;
  forced: boolean;
  gate: GateResult | null;
  reason: string;
}

/** Points `alias` (default current) at NAME@version. Moving current runs the gate unless forced. */
export async function promote(registry: string, ref: string, o: { alias?: string; force?: boolean; gate?: GateOptions } = {}): Promise<PromoteResult> {
  const { name, at } = parseModelRef(ref);
  const alias = o.alias ?? DEFAULT_ALIAS;
  return writing(registry, name, async () => {
    const aliases = await readAliases(registry, name);
    const target = await findVersion(registry, name, aliases.get(at)?.version ?? at);
    const from = aliases.get(alias)?.version ?? null;
    if (from === target.id) return { name, version: target.id, alias, from, promoted: false, forced: false, gate: null, reason: `${alias} already points at ${target.id}` };
    let gate: GateResult | null = null;
    const targetDoc = alias === DEFAULT_ALIAS ? ((await readFile(join(versionDir(registry, name, target.id), target.checkpoint), "utf8").then((t) => JSON.parse(t) as unknown).catch(() => null)) as unknown) : null;
    if (isAnomalySidecar(targetDoc)) {
      gate = anomalyGate(targetDoc);
      if (!gate.passed && !o.force) {
        await logDecision(registry, { event: "refused", model: name, version: target.id, reason: `promote refused${from ? ` (current stays ${from})` : ""}: ${gate.reason}`, details: gateMetrics(gate, from) });
        return { name, version: target.id, alias, from, promoted: false, forced: false, gate, reason: gate.reason };
      }
    } else if (alias === DEFAULT_ALIAS && from !== null) {
      gate = await promotionGate(await readValidation(registry, target), await readValidation(registry, await readManifest(registry, name, from)), o.gate ?? DEFAULT_GATE);
      if (!gate.passed && !o.force) {
        await logDecision(registry, { event: "refused", model: name, version: target.id, reason: `promote refused: ${gate.reason}`, details: gateMetrics(gate, from) });
        return { name, version: target.id, alias, from, promoted: false, forced: false, gate, reason: gate.reason };
      }
    }
    const forced = Boolean(o.force && gate && !gate.passed);
    const reason = forced ? `forced past the gate (--force): ${gate!.reason}` : gate ? `promoted: ${gate.reason}` : `alias ${alias} set by hand`;
    const metrics = gate ? { ...gateMetrics(gate, from), forced } : { forced: false };
    await moveAlias(registry, name, { alias, to: target.id, kind: "set", reason, metrics });
    await logDecision(registry, { event: "promoted", model: name, version: target.id, reason, details: { alias, from, ...metrics } });
    return { name, version: target.id, alias, from, promoted: true, forced, gate, reason };
  });
}

export interface RollbackResult {
  name: string;
  from: string;
  to: string;
  /** Versions skipped on the way back because they were purged. */
  skipped: string[];
}

/** Moves current back one step of its journal (the version it pointed at before the last move). */
export async function rollback(registry: string, nameRef: string): Promise<RollbackResult> {
  const { name } = parseModelRef(nameRef);
  return writing(registry, name, async () => {
    const current = (await readAliases(registry, name)).get(DEFAULT_ALIAS);
    if (!current) throw new RegistryError(`model ${name} has no current version`);
    const stack = aliasStack(await readJournal(registry, name), DEFAULT_ALIAS);
    const ids = new Set((await readVersions(registry, name)).map((v) => v.id));
    const skipped: string[] = [];
    let k = stack.length - 2;
    while (k >= 0 && (!ids.has(stack[k]) || stack[k] === current.version)) {
      if (!ids.has(stack[k])) skipped.push(stack[k]);
      k--;
    }
    if (k < 0) throw new RegistryError(`nothing to roll back to: current (${current.version}) is the first version in ${name}'s journal`);
    const to = stack[k];
    await moveAlias(registry, name, { alias: DEFAULT_ALIAS, to, kind: "rollback", pops: stack.length - 1 - k, reason: `rollback from ${current.version}` });
    await logDecision(registry, { event: "rolled-back", model: name, version: to, reason: `current moved back from ${current.version} to ${to}`, details: { from: current.version, skipped } });
    return { name, from: current.version, to, skipped };
  });
}

export interface PurgePlan {
  name: string;
  keep: string[];
  remove: Array<{ id: string; created_at: string; dir: string }>;
  /** Kept although older than the newest K, because an alias points at them. */
  protected: Array<{ id: string; aliases: string[] }>;
}

export interface PurgeResult {
  applied: boolean;
  keep: number;
  models: PurgePlan[];
  removed: number;
}

async function purgePlan(registry: string, name: string, keep: number): Promise<PurgePlan> {
  const versions = (await readVersions(registry, name)).reverse(); // newest first
  const aliases = [...(await readAliases(registry, name)).values()];
  const aliased = new Map<string, string[]>();
  for (const a of aliases) aliased.set(a.version, [...(aliased.get(a.version) ?? []), a.alias]);
  const plan: PurgePlan = { name, keep: [], remove: [], protected: [] };
  versions.forEach((v, i) => {
    if (i < keep) plan.keep.push(v.id);
    else if (aliased.has(v.id)) {
      plan.keep.push(v.id);
      plan.protected.push({ id: v.id, aliases: aliased.get(v.id)! });
    } else plan.remove.push({ id: v.id, created_at: v.created_at, dir: versionDir(registry, name, v.id) });
  });
  return plan;
}

/** Keeps the newest `keep` versions of each model (or of `name`) and every aliased one; deletes the rest only with apply. */
export async function purge(registry: string, o: { keep: number; name?: string; apply: boolean }): Promise<PurgeResult> {
  const names = o.name ? [parseModelRef(o.name).name] : await modelNames(registry);
  if (o.name && (await readVersions(registry, names[0])).length === 0) throw new RegistryError(`no model ${JSON.stringify(o.name)} in registry ${registry}`);
  const models: PurgePlan[] = [];
  let removed = 0;
  for (const name of names) {
    if (!o.apply) {
      models.push(await purgePlan(registry, name, o.keep));
      continue;
    }
    models.push(
      await writing(registry, name, async () => {
        const plan = await purgePlan(registry, name, o.keep);
        if (plan.remove.length > 0) {
          await logDecision(registry, { event: "purged", model: name, version: null, reason: `kept the newest ${o.keep} and every aliased version`, details: { removed: plan.remove.map((r) => r.id), kept: plan.keep } });
        }
        for (const r of plan.remove) {
          await deleteVersion(registry, name, r.id);
          removed++;
        }
        return plan;
      }),
    );
  }
  return { applied: o.apply, keep: o.keep, models, removed };
}

export async function history(registry: string, nameRef: string): Promise<{ name: string; moves: AliasMove[] }> {
  const { name } = parseModelRef(nameRef);
  if ((await readVersions(registry, name)).length === 0) throw new RegistryError(`no model ${JSON.stringify(name)} in registry ${registry}`);
  return { name, moves: await readJournal(registry, name) };
}

/** Stores an evaluation result with the version it measured. */
export async function attachEval(registry: string, name: string, id: string, result: unknown): Promise<string> {
  const path = await attachFile(registry, name, id, EVAL_FILE, JSON.stringify(result, null, 2) + "\n");
  await logDecision(registry, { event: "eval-attached", model: name, version: id, details: { file: path } });
  return path;
}
