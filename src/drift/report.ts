// Drift of new windows against a model version's baseline: per feature KS,
// missing-fraction test and PSI against the digest, the share of drifted
// features, the domain classifier, and a decision with the reasons that
// crossed thresholds (defaults in DEFAULT_DRIFT; docs/drift.md).

import { deriveRng } from "../synth/rng.js";
import { finiteColumn, roundQuantile, type Digest } from "./digest.js";
import { DEFAULT_DOMAIN, domainClassifier, type DomainResult } from "./domain.js";
import { ksAgainstQuantiles, ksPValue, proportionPValue, psiAgainstQuantiles, psiReading } from "./tests.js";

export interface DriftSettings {
  /** Family-wise error rate per group; each of the 2m per-feature tests runs at alpha / (2m) (Bonferroni). */
  alpha: number;
  /**
   * Sample size the KS and missing-fraction tests assume. "effective" (default): windows divided by the
   * design effect 1 + (m - 1) rho, rho the within-episode correlation of the feature (one-way ANOVA),
   * since windows of one episode are correlated; "episode": one per episode (most conservative); "window".
   */
  unit: "effective" | "episode" | "window";
  /** A group drifts when at least this many features drift. */
  minDriftedFeatures: number;
  /** ... or when the share of drifted features reaches this (0 disables). */
  driftedShare: number;
  /**
   * ... or when a feature's bias-corrected PSI (PSI minus its expectation under no drift, about
   * 10 (1/n_new + 1/n_ref) with the effective sizes) exceeds this (the "major" reading), in groups of
   * at least psiMinWindows windows.
   */
  psiThreshold: number;
  psiMinWindows: number;
  /** ... or when the domain classifier's AUC interval lies above this. */
  domainAuc: number;
  /** Run the domain classifier (XGBoost, k-fold by episode). */
  domain: boolean;
  /** Windows per side fed to the domain classifier, at most (seeded sample). */
  domainSample: number;
  domainFolds: number;
  domainRounds: number;
  resamples: number;
  seed: number;
  threads: number;
}

export const DEFAULT_DRIFT: DriftSettings = {
  alpha: 0.05,
  unit: "effective",
  minDriftedFeatures: 1,
  driftedShare: 0,
  psiThreshold: 0.25,
  psiMinWindows: 500,
  domainAuc: 0.6,
  domain: true,
  domainSample: 2000,
  domainFolds: DEFAULT_DOMAIN.folds,
  domainRounds: DEFAULT_DOMAIN.rounds,
  resamples: DEFAULT_DOMAIN.resamples,
  seed: 0,
  threads: 1,
};

export interface FeatureDrift {
  name: string;
  ks: number;
  ks_p: number;
  psi: number;
  psi_reading: "stable" | "moderate" | "major";
  /** PSI minus its small-sample bias under no drift (10 bins of freedom over the effective sizes); what the PSI rule reads. */
  psi_excess: number;
  missing_reference: number;
  missing_new: number;
  missing_p: number;
  /** (new mean - reference mean) / reference std. */
  mean_shift_sd: number | null;
  drifted: boolean;
}

export interface GroupDrift {
  key: string;
  n_windows: number;
  n_episodes: number;
  drifted: boolean;
  reasons: string[];
  drifted_features: number;
  drifted_share: number;
  psi_max: number;
  psi_max_feature: string | null;
  ks_max: number;
  ks_max_feature: string | null;
  domain_auc: DomainResult | null;
  /** Drifted features, strongest KS first (all features with `allFeatures`). */
  features: FeatureDrift[];
}

export interface Sample {
  /** Row-major [n, width] float32 over the digest's features, NaN = missing. */
  x: Float32Array;
  episodes: string[];
}

function seededSample(n: number, k: number, seed: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (n <= k) return idx;
  const rng = deriveRng(BigInt(seed), 0x9e3779b9);
  for (let i = 0; i < k; i++) {
    const j = rng.int(i, n - 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((x, y) => x - y);
}

function subset(s: Sample, rows: number[], width: number): Sample {
  const x = new Float32Array(rows.length * width);
  rows.forEach((r, k) => x.set(s.x.subarray(r * width, (r + 1) * width), k * width));
  return { x, episodes: rows.map((r) => s.episodes[r]) };
}

/**
 * Design effect of column f for windows clustered by episode: 1 + (m0 - 1) rho with rho the ANOVA
 * intra-class correlation (clipped to [0, 1]) and m0 the adjusted mean cluster size; 1 when it cannot be estimated.
 */
export function designEffect(x: Float32Array, width: number, f: number, episodes: readonly string[]): number {
  const sums = new Map<string, [number, number, number]>();
  let total = 0;
  let count = 0;
  for (let i = 0; i < episodes.length; i++) {
    const v = x[i * width + f];
    if (!Number.isFinite(v)) continue;
    const s = sums.get(episodes[i]) ?? [0, 0, 0];
    s[0] += 1;
    s[1] += v;
    s[2] += v * v;
    sums.set(episodes[i], s);
    total += v;
    count++;
  }
  const k = sums.size;
  if (k < 2 || count <= k) return 1;
  const grand = total / count;
  let ssb = 0;
  let ssw = 0;
  let sumSq = 0;
  for (const [n, s1, s2] of sums.values()) {
    const mean = s1 / n;
    ssb += n * (mean - grand) ** 2;
    ssw += Math.max(0, s2 - n * mean * mean);
    sumSq += n * n;
  }
  const msb = ssb / (k - 1);
  const msw = ssw / (count - k);
  const m0 = (count - sumSq / count) / (k - 1);
  const denom = msb + (m0 - 1) * msw;
  if (!(denom > 0)) return msb > 0 ? Math.max(1, count / k) : 1;
  const rho = Math.min(1, Math.max(0, (msb - msw) / denom));
  return 1 + (count / k - 1) * rho;
}

export async function groupDrift(key: string, digest: Digest, reference: Sample | null, cur: Sample, s: DriftSettings, allFeatures = false): Promise<GroupDrift> {
  const names = digest.doc.names;
  const width = names.length;
  const n = cur.episodes.length;
  const nEpisodes = new Set(cur.episodes).size;
  const sizes = (f: number, finiteNew: number, ref: { n: number }): [number, number] => {
    if (s.unit === "window") return [ref.n, finiteNew];
    if (s.unit === "episode") return [digest.doc.n_episodes * (ref.n / Math.max(1, digest.doc.n_windows)), nEpisodes * (finiteNew / Math.max(1, n))];
    const deffNew = designEffect(cur.x, width, f, cur.episodes);
    const deffRef = reference ? designEffect(reference.x, width, f, reference.episodes) : deffNew;
    return [ref.n / deffRef, finiteNew / deffNew];
  };
  // Missingness is mostly a property of a whole episode (a source absent): counted per episode unless --unit window.
  const nNew = s.unit === "window" ? n : nEpisodes;
  const nRef = s.unit === "window" ? digest.doc.n_windows : digest.doc.n_episodes;
  const level = s.alpha / (2 * width);
  const features: FeatureDrift[] = names.map((name, f) => {
    const ref = digest.features[f];
    // New values rounded as the digest's quantiles were, so that an atom (a count, a constant) lands exactly on its quantile.
    const sorted = finiteColumn(cur.x, n, width, f).map(roundQuantile);
    const q = digest.quantiles[f];
    const ks = ref.n > 0 && sorted.length > 0 ? ksAgainstQuantiles(sorted, q) : 0;
    const [effRef, effNew] = sizes(f, sorted.length, ref);
    const ksP = ref.n > 0 && sorted.length > 0 ? ksPValue(ks, effRef, effNew) : 1;
    const missingNew = n === 0 ? 0 : 1 - sorted.length / n;
    const missingP = proportionPValue(ref.missing_fraction, nRef, missingNew, nNew);
    const psi = psiAgainstQuantiles(sorted, n - sorted.length, q, ref.missing_fraction);
    let mean = 0;
    for (const v of sorted) mean += v;
    mean /= Math.max(1, sorted.length);
    return {
      name,
      ks,
      ks_p: ksP,
      psi,
      psi_reading: psiReading(psi),
      psi_excess: psi - 10 * (1 / Math.max(1, effNew) + 1 / Math.max(1, effRef)),
      missing_reference: ref.missing_fraction,
      missing_new: missingNew,
      missing_p: missingP,
      mean_shift_sd: ref.std && ref.std > 0 && ref.mean !== null && sorted.length > 0 ? (mean - ref.mean) / ref.std : null,
      drifted: ksP < level || missingP < level,
    };
  });
  const drifted = features.filter((f) => f.drifted);
  const share = width === 0 ? 0 : drifted.length / width;
  const byPsi = features.reduce<FeatureDrift | null>((a, f) => (a === null || f.psi > a.psi ? f : a), null);
  const byExcess = features.reduce<FeatureDrift | null>((a, f) => (a === null || f.psi_excess > a.psi_excess ? f : a), null);
  const byKs = features.reduce<FeatureDrift | null>((a, f) => (a === null || f.ks > a.ks ? f : a), null);
  const reasons: string[] = [];
  if (drifted.length >= s.minDriftedFeatures && drifted.length > 0) {
    reasons.push(`${drifted.length} of ${width} features drifted (KS or missing fraction, Bonferroni alpha ${s.alpha}/${2 * width}, ${s.unit} sample sizes): ${drifted.slice(0, 5).map((f) => f.name).join(", ")}${drifted.length > 5 ? ", ..." : ""}`);
  }
  if (s.driftedShare > 0 && share >= s.driftedShare) reasons.push(`drifted share ${share.toFixed(3)} >= ${s.driftedShare}`);
  if (byExcess && byExcess.psi_excess > s.psiThreshold && n >= s.psiMinWindows) {
    reasons.push(`PSI of ${byExcess.name} is ${byExcess.psi.toFixed(3)} (${byExcess.psi_excess.toFixed(3)} above its no-drift bias) > ${s.psiThreshold}`);
  }
  let domain: DomainResult | null = null;
  if (s.domain && reference && reference.episodes.length > 0 && n > 0) {
    const r = subset(reference, seededSample(reference.episodes.length, s.domainSample, s.seed), width);
    const c = subset(cur, seededSample(n, s.domainSample, s.seed + 1), width);
    domain = await domainClassifier(r, c, width, { ...DEFAULT_DOMAIN, folds: s.domainFolds, rounds: s.domainRounds, resamples: s.resamples, seed: s.seed, threads: s.threads });
    if (domain.lo !== null && domain.lo > s.domainAuc) reasons.push(`domain classifier tells new from reference windows: ROC AUC ${domain.auc.toFixed(3)} [${domain.lo.toFixed(3)}, ${domain.hi?.toFixed(3)}], interval above ${s.domainAuc}`);
  }
  const shown = (allFeatures ? features : drifted).slice().sort((a, b) => b.ks - a.ks);
  return {
    key,
    n_windows: n,
    n_episodes: nEpisodes,
    drifted: reasons.length > 0,
    reasons,
    drifted_features: drifted.length,
    drifted_share: share,
    psi_max: byPsi?.psi ?? 0,
    psi_max_feature: byPsi?.name ?? null,
    ks_max: byKs?.ks ?? 0,
    ks_max_feature: byKs?.name ?? null,
    domain_auc: domain,
    features: shown,
  };
}
