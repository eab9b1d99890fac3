// `cis490 drift`: new windows against a registered version's baseline, as
// one group or one group per host / profile. The decision is logged in the
// registry's decision log.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { logDecision } from "../registry/decisions.js";
import { resolveModelRef } from "../registry/refs.js";
import { RegistryError } from "../registry/types.js";
import { readSplitSides, type Side } from "../train/windows.js";
import { buildDigest, decodeDigest, type Digest, type DriftDigest } from "./digest.js";
import { readWindowMatrix, type WindowMatrix } from "./read.js";
import { DEFAULT_DRIFT, groupDrift, type DriftSettings, type GroupDrift } from "./report.js";

/** Reference-sample windows a seen host/profile needs to get its own baseline. */
export const MIN_OWN_BASELINE_WINDOWS = 50;

export interface GroupResult extends GroupDrift {
  /** --by host/profile: whether the training windows contain this host/profile (null for one group). */
  seen_in_training: boolean | null;
  /** What the group was compared with. */
  baseline: { source: "training digest" | "own training windows"; windows: number; episodes: number };
}

export interface DriftRunOptions {
  model: string;
  registry: string;
  features: string;
  by: "none" | "host" | "profile";
  /** Only the episodes of these sides of this split. */
  split?: string;
  sides?: Side[];
  settings?: Partial<DriftSettings>;
  allFeatures?: boolean;
}

export interface DriftRunResult {
  model: string;
  version: string;
  features: string;
  by: "none" | "host" | "profile";
  drifted: boolean;
  settings: DriftSettings;
  reference: { windows: number; episodes: number; features: number; sample_windows: number };
  groups: GroupResult[];
}

export async function loadBaseline(dir: string): Promise<{ digest: Digest; reference: WindowMatrix | null }> {
  const manifest = JSON.parse(await readFile(join(dir, "version.json"), "utf8")) as { drift_digest: string | null; drift_reference: string | null; notes?: string[] };
  if (!manifest.drift_digest) throw new RegistryError(`version ${dir} has no drift baseline (${(manifest.notes ?? []).join("; ") || "registered without its training data"})`);
  const doc = JSON.parse(await readFile(join(dir, manifest.drift_digest), "utf8")) as DriftDigest;
  const digest = decodeDigest(doc, await readFile(join(dir, manifest.drift_digest.replace(/\.json$/, ".bin"))));
  let reference: WindowMatrix | null = null;
  if (manifest.drift_reference && existsSync(join(dir, manifest.drift_reference))) reference = await readWindowMatrix(join(dir, manifest.drift_reference), doc.names, null, true);
  return { digest, reference };
}

function rowsOf(m: WindowMatrix, rows: number[]): { x: Float32Array; episodes: string[] } {
  const x = new Float32Array(rows.length * m.width);
  rows.forEach((r, k) => x.set(m.x.subarray(r * m.width, (r + 1) * m.width), k * m.width));
  return { x, episodes: rows.map((r) => m.episodes[r]) };
}

function groupsOf(m: WindowMatrix, by: DriftRunOptions["by"]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (let i = 0; i < m.episodes.length; i++) {
    const key = by === "host" ? m.hosts[i] : by === "profile" ? m.profiles[i] : "all";
    const rows = out.get(key);
    if (rows) rows.push(i);
    else out.set(key, [i]);
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

export async function runDrift(o: DriftRunOptions): Promise<DriftRunResult> {
  const settings: DriftSettings = { ...DEFAULT_DRIFT, ...Object.fromEntries(Object.entries(o.settings ?? {}).filter(([, v]) => v !== undefined)) };
  const resolved = await resolveModelRef(o.model, { registry: o.registry, loadedBy: "drift" });
  if (!resolved.dir || !resolved.name || !resolved.version) throw new RegistryError(`drift needs a registered model (NAME[@alias|@version]); ${o.model} is a plain checkpoint without a stored baseline`);
  const { digest, reference } = await loadBaseline(resolved.dir);
  if (!existsSync(o.features)) throw new RegistryError(`features file ${o.features} not found`);
  let episodes: Set<string> | null = null;
  if (o.split) {
    const sides = await readSplitSides(o.split);
    const want = new Set(o.sides ?? ["val", "test"]);
    episodes = new Set([...sides.entries()].filter(([, s]) => want.has(s)).map(([e]) => e));
  }
  let m: WindowMatrix;
  try {
    m = await readWindowMatrix(o.features, digest.doc.names, episodes);
  } catch (error) {
    throw new RegistryError(`cannot read ${o.features}: ${(error as Error).message}`);
  }
  if (m.episodes.length === 0) throw new RegistryError(`no windows to compare in ${o.features}${o.split ? ` (sides ${(o.sides ?? ["val", "test"]).join(",")} of ${o.split})` : ""}`);
  const groups: GroupResult[] = [];
  const refGroups = reference ? groupsOf(reference, o.by) : new Map<string, number[]>();
  for (const [key, rows] of groupsOf(m, o.by)) {
    const cur = rowsOf(m, rows);
    // A host (profile) the model was trained on is compared with its own training windows: against the
    // pooled baseline, any one training host differs from the mixture of all of them.
    const own = o.by !== "none" ? refGroups.get(key) : undefined;
    if (own && own.length >= MIN_OWN_BASELINE_WINDOWS && reference) {
      const ref = rowsOf(reference, own);
      const ownDigest = buildDigest(ref.x, own.length, digest.doc.names, ref.episodes);
      const g = await groupDrift(key, ownDigest, ref, cur, settings, o.allFeatures);
      groups.push({ ...g, seen_in_training: true, baseline: { source: "own training windows", windows: own.length, episodes: ownDigest.doc.n_episodes } });
    } else {
      const g = await groupDrift(key, digest, reference, cur, settings, o.allFeatures);
      const seen = o.by === "none" ? null : (refGroups.get(key)?.length ?? 0) > 0;
      if (seen === false) g.reasons.unshift(`${o.by} ${key} never occurs in the training windows`);
      groups.push({ ...g, drifted: g.drifted || seen === false, seen_in_training: seen, baseline: { source: "training digest", windows: digest.doc.n_windows, episodes: digest.doc.n_episodes } });
    }
  }
  const drifted = groups.some((g) => g.drifted);
  await logDecision(o.registry, {
    event: drifted ? "drift-detected" : "drift-checked",
    model: resolved.name,
    version: resolved.version,
    reason: drifted ? groups.filter((g) => g.drifted).map((g) => `${g.key}: ${g.reasons.join("; ")}`).join(" | ") : `no drift in ${groups.length} group(s) of ${o.features}`,
    details: {
      features: o.features,
      by: o.by,
      groups: groups.map((g) => ({ key: g.key, drifted: g.drifted, n_windows: g.n_windows, drifted_share: g.drifted_share, psi_max: g.psi_max, ks_max: g.ks_max, domain_auc: g.domain_auc?.auc ?? null })),
    },
  });
  return {
    model: resolved.name,
    version: resolved.version,
    features: o.features,
    by: o.by,
    drifted,
    settings,
    reference: { windows: digest.doc.n_windows, episodes: digest.doc.n_episodes, features: digest.doc.names.length, sample_windows: reference?.episodes.length ?? 0 },
    groups,
  };
}
