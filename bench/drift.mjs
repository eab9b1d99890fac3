// Drift detection on generated data: power against a 0.5 sigma mean shift
// of 5 of the features, and the false-alarm rate on a fresh sample of the
// same distribution, with the default decision of `cis490 drift`.
//
// Data: F features (default 145, the realistic model's inputs), windows in
// episodes of M windows; each value = sqrt(icc) * episode effect +
// sqrt(1 - icc) * window noise (unit variance, within-episode correlation
// icc), so windows are correlated as real ones are. The reference (digest +
// a 2,000-window sample) and the new data are drawn independently.
//
//   node bench/drift.mjs [--reps 200] [--domain-reps 20] [--features 145] [--shifted 5] [--shift 0.5]
//                        [--ref-episodes 300] [--new-episodes 100] [--m 10] [--icc 0.36] [--unit effective|episode|window]
//
// The per-feature tests (KS + missing fraction, Bonferroni) run `--reps`
// times per condition; the full decision including the domain classifier
// (XGBoost, 5-fold by episode: slow) runs `--domain-reps` times.
import { join } from "node:path";
import { root, arg } from "./common.mjs";

const { buildDigest } = await import(join(root, "dist", "drift", "digest.js"));
const { DEFAULT_DRIFT, groupDrift } = await import(join(root, "dist", "drift", "report.js"));

const reps = Number(arg("reps", "200"));
const domainReps = Number(arg("domain-reps", "20"));
const F = Number(arg("features", "145"));
const shifted = Number(arg("shifted", "5"));
const shift = Number(arg("shift", "0.5"));
const refEpisodes = Number(arg("ref-episodes", "300"));
const newEpisodes = Number(arg("new-episodes", "100"));
const M = Number(arg("m", "10"));
const icc = Number(arg("icc", "0.36"));
const unit = arg("unit", "effective");

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample(seed, episodes, prefix, shiftOf) {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const n = episodes * M;
  const x = new Float32Array(n * F);
  const ids = [];
  const a = Math.sqrt(icc);
  const b = Math.sqrt(1 - icc);
  for (let e = 0; e < episodes; e++) {
    const effect = Float64Array.from({ length: F }, () => gauss());
    for (let w = 0; w < M; w++) {
      const i = e * M + w;
      ids.push(`${prefix}-${e}`);
      for (let f = 0; f < F; f++) x[i * F + f] = a * effect[f] + b * gauss() + shiftOf(f);
    }
  }
  return { x, episodes: ids };
}

const names = Array.from({ length: F }, (_, f) => `f${f}`);
const ref = sample(1, refEpisodes, "ref", () => 0);
const digest = buildDigest(ref.x, ref.episodes.length, names, ref.episodes);
const refSample = { x: ref.x.subarray(0, Math.min(2000, ref.episodes.length) * F), episodes: ref.episodes.slice(0, 2000) };

async function rate(condition, n, settings) {
  let hits = 0;
  const started = Date.now();
  for (let k = 0; k < n; k++) {
    const cur = sample(1000 + k * 2 + (condition === "shift" ? 1 : 0), newEpisodes, `new${k}`, (f) => (condition === "shift" && f < shifted ? shift : 0));
    const g = await groupDrift("all", digest, refSample, cur, settings);
    if (g.drifted) hits++;
  }
  return { rate: hits / n, reps: n, seconds: (Date.now() - started) / 1000 };
}

const tests = { ...DEFAULT_DRIFT, unit, domain: false };
const full = { ...DEFAULT_DRIFT, unit };
const rows = [
  ["per-feature tests", "power (0.5 sigma, 5 features)", await rate("shift", reps, tests)],
  ["per-feature tests", "false alarms (same distribution)", await rate("null", reps, tests)],
];
if (domainReps > 0) {
  rows.push(["full decision (with domain classifier)", "power (0.5 sigma, 5 features)", await rate("shift", domainReps, full)]);
  rows.push(["full decision (with domain classifier)", "false alarms (same distribution)", await rate("null", domainReps, full)]);
}
console.log(`drift (--unit ${unit}): ${F} features, ${shifted} shifted by ${shift} sigma; reference ${refEpisodes} x ${M} windows, new ${newEpisodes} x ${M}, within-episode correlation ${icc}`);
console.log("what                                    | measure                            | rate   | reps | seconds");
for (const [what, measure, r] of rows) console.log(`${what.padEnd(40)}| ${measure.padEnd(35)}| ${r.rate.toFixed(3).padStart(6)} | ${String(r.reps).padStart(4)} | ${r.seconds.toFixed(1)}`);
console.log(JSON.stringify({ bench: "drift", unit, features: F, shifted, shift, ref_episodes: refEpisodes, new_episodes: newEpisodes, m: M, icc, results: rows.map(([what, measure, r]) => ({ what, measure, ...r })) }));
