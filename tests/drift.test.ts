// Drift detection: the digest (round trip, size), the statistics against
// known answers, power and false alarms on generated clustered data, and
// end to end on a small synthetic store: the held-out host drifts, the
// training hosts' own validation windows do not.

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildDigest, decodeDigest, encodeDigestBinary } from "../src/drift/digest.js";
import { DEFAULT_DRIFT, designEffect, groupDrift } from "../src/drift/report.js";
import { ksAgainstQuantiles, ksPValue, psiAgainstQuantiles, rocAuc } from "../src/drift/tests.js";
import { runCli } from "./helpers/cli.js";
import { rng } from "./helpers/hostile.js";

const root = mkdtempSync(join(tmpdir(), "cis490-drift-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));


/** Episodes of m windows, unit variance, within-episode correlation icc; features < shifted get +shift. */
function clustered(seed: number, episodes: number, m: number, width: number, icc: number, shifted = 0, shift = 0) {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const x = new Float32Array(episodes * m * width);
  const ids: string[] = [];
  for (let e = 0; e < episodes; e++) {
    const effect = Array.from({ length: width }, () => gauss());
    for (let w = 0; w < m; w++) {
      const i = e * m + w;
      ids.push(`s${seed}-e${e}`);
      for (let f = 0; f < width; f++) x[i * width + f] = Math.sqrt(icc) * effect[f] + Math.sqrt(1 - icc) * gauss() + (f < shifted ? shift : 0);
    }
  }
  return { x, episodes: ids };
}

const sortedOf = (x: Float32Array) => Float64Array.from(x).sort();

describe("digest", () => {
  it("round-trips exactly and stays under 64 KB for 230 continuous features", () => {
    const width = 230;
    const s = clustered(1, 400, 10, width, 0.3);
    // Some missing values and a constant feature.
    for (let i = 0; i < 500; i++) s.x[i * width + 3] = Number.NaN;
    for (let i = 0; i < 4000; i++) s.x[i * width + 4] = 7;
    const names = Array.from({ length: width }, (_, f) => `feature.${f}.mean`);
    const d = buildDigest(s.x, 4000, names, s.episodes);
    const bin = encodeDigestBinary(d);
    const json = JSON.stringify(d.doc);
    expect(bin.length + json.length).toBeLessThan(64 * 1024);
    const back = decodeDigest(JSON.parse(json), bin);
    expect(back.features).toEqual(d.features);
    back.quantiles.forEach((q, f) => expect(Array.from(q)).toEqual(Array.from(d.quantiles[f])));
    expect(d.features[3].missing_fraction).toBeCloseTo(500 / 4000, 10);
    expect(d.doc.n_episodes).toBe(400);
  });
});

describe("statistics", () => {
  const ref = clustered(2, 20000, 1, 1, 0).x;
  const d = buildDigest(ref, ref.length, ["a"], Array.from({ length: ref.length }, (_, i) => `e${i}`));
  const q = d.quantiles[0];
  it("KS against the digest matches the exact two-sample distance within the grid's rank error", () => {
    for (const shift of [0, 0.25, 0.5, 1]) {
      const cur = sortedOf(clustered(3, 3000, 1, 1, 0, 1, shift).x);
      const refSorted = sortedOf(ref);
      // Exact two-sample KS.
      let i = 0;
      let j = 0;
      let exact = 0;
      while (i < refSorted.length && j < cur.length) {
        const v = Math.min(refSorted[i], cur[j]);
        while (i < refSorted.length && refSorted[i] <= v) i++;
        while (j < cur.length && cur[j] <= v) j++;
        exact = Math.max(exact, Math.abs(i / refSorted.length - j / cur.length));
      }
      const approx = ksAgainstQuantiles(cur, q);
      expect(approx).toBeLessThanOrEqual(exact + 1e-9);
      expect(approx).toBeGreaterThan(exact - 0.02);
    }
    expect(ksPValue(0.2, 1000, 1000)).toBeLessThan(1e-10);
    expect(ksPValue(0.01, 1000, 1000)).toBeGreaterThan(0.9);
  });
  it("PSI: near 0 on the same distribution, major on a 1 sigma shift and on missing data", () => {
    expect(psiAgainstQuantiles(sortedOf(clustered(4, 5000, 1, 1, 0).x), 0, q, 0)).toBeLessThan(0.02);
    expect(psiAgainstQuantiles(sortedOf(clustered(5, 5000, 1, 1, 0, 1, 1).x), 0, q, 0)).toBeGreaterThan(0.25);
    expect(psiAgainstQuantiles(new Float64Array(0), 500, q, 0)).toBeGreaterThan(1);
  });
  it("design effect: 1 for independent windows, about m for identical windows within an episode", () => {
    expect(designEffect(clustered(6, 300, 10, 1, 0).x, 1, 0, clustered(6, 300, 10, 1, 0).episodes)).toBeLessThan(1.3);
    const s = clustered(7, 300, 10, 1, 1);
    expect(designEffect(s.x, 1, 0, s.episodes)).toBeGreaterThan(9);
  });
  it("atoms (counts, rates like 0.1) are not mistaken for drift after the digest's rounding", async () => {
    const draw = (seed: number, n: number) => {
      const r = rng(seed);
      return { x: Float32Array.from({ length: n }, () => [0, 0.1, 0.2, 0.3, 1 / 3][Math.floor(r() * 5)]), episodes: Array.from({ length: n }, (_, i) => `s${seed}-${i}`) };
    };
    const ref = draw(1, 5000);
    const d = buildDigest(ref.x, 5000, ["rate"], ref.episodes);
    const g = await groupDrift("x", d, ref, draw(2, 2000), { ...DEFAULT_DRIFT, domain: false }, true);
    expect(g.ks_max).toBeLessThan(0.03);
    expect(g.psi_max).toBeLessThan(0.05); // "stable"; the reference mass per bin is read off the 1% grid
    expect(g.drifted).toBe(false);
  });
  it("ROC AUC with ties (Mann-Whitney)", () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(rocAuc([0.5, 0.5], [0, 1])).toBe(0.5);
  });
});

describe("decision on generated clustered data (bench/drift.mjs measures it at scale)", () => {
  const width = 145;
  const ref = clustered(11, 300, 10, width, 0.36);
  const names = Array.from({ length: width }, (_, f) => `f${f}`);
  const digest = buildDigest(ref.x, ref.episodes.length, names, ref.episodes);
  const settings = { ...DEFAULT_DRIFT, domain: false };
  it("detects a 0.5 sigma shift of 5 features and stays quiet on a resample", { timeout: 60_000 }, async () => {
    let power = 0;
    let alarms = 0;
    const reps = 10;
    for (let k = 0; k < reps; k++) {
      const shifted = await groupDrift("x", digest, ref, clustered(100 + k, 100, 10, width, 0.36, 5, 0.5), settings);
      if (shifted.drifted) power++;
      expect(shifted.features.every((f) => Number(f.name.slice(1)) < 5)).toBe(true);
      const same = await groupDrift("x", digest, ref, clustered(200 + k, 100, 10, width, 0.36), settings);
      if (same.drifted) alarms++;
    }
    expect(power).toBeGreaterThanOrEqual(9);
    expect(alarms).toBeLessThanOrEqual(1);
  });
});

describe("cis490 drift --by host on a synthetic store", () => {
  it("reports the held-out host as drifted and the training hosts' validation windows as not", { timeout: 600_000 }, async () => {
    const store = join(root, "store");
    const processed = join(root, "processed");
    const ok = async (argv: string[]) => {
      const r = await runCli(argv);
      if (r.code !== 0) throw new Error(`${argv.join(" ")}: exit ${r.code}\n${r.stderr}${r.stdout}`);
      return r;
    };
    await ok(["synth", "--out", store, "--episodes", "120", "--seed", "3"]);
    await ok(["validate", "--store", store, "--out", join(root, "acceptance.parquet")]);
    await ok(["features", "--store", store, "--acceptance", join(root, "acceptance.parquet"), "--out", processed]);
    const features = join(processed, "features_window.parquet");
    const split = join(processed, "split_host.parquet");
    const s = JSON.parse((await ok(["split", "--features", features, "--recipe", "host", "--json"])).stdout);
    const artifacts = join(root, "artifacts");
    await ok(["train", "--model", "gbt", "--features", features, "--split", split, "--out", artifacts, "--rounds", "20", "--threads", "1"]);
    expect(statSync(join(artifacts, "models", "gbt_realistic")).isDirectory()).toBe(true); // --registry defaults to --out
    const r = await ok(["drift", "--model", "gbt_realistic@current", "--registry", artifacts, "--features", features, "--split", split, "--by", "host", "--json"]);
    const doc = JSON.parse(r.stdout);
    const testHost: string = s.test_hosts[0];
    const groups = new Map<string, { drifted: boolean; seen_in_training: boolean; drifted_features: number; domain_auc: { lo: number } | null; reasons: string[] }>(doc.groups.map((g: { key: string }) => [g.key, g]));
    expect(groups.size).toBe(3);
    const held = groups.get(testHost)!;
    expect(held.drifted).toBe(true);
    expect(held.seen_in_training).toBe(false);
    // Not only because it is unseen: the statistics say so too.
    expect(held.drifted_features).toBeGreaterThan(10);
    expect(held.domain_auc!.lo).toBeGreaterThan(DEFAULT_DRIFT.domainAuc);
    for (const [key, g] of groups) {
      if (key === testHost) continue;
      expect(g.seen_in_training).toBe(true);
      expect(g.drifted, `${key}: ${g.reasons.join("; ")}`).toBe(false);
    }
    const log = JSON.parse((await ok(["registry", "log", "--registry", artifacts, "--json"])).stdout);
    expect(log.decisions.map((d: { event: string }) => d.event)).toEqual(["registered", "promoted", "loaded", "drift-detected"]);
  });
});
