// feature_schema.json: the hash is a pure function of the content (stable
// across runs and key order), and changes with anything that changes what a
// model would see: window, stride, hz, channel list/order, stats, phases.

import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/io/canonical-json.js";
import { CHANNELS, FEATURE_NAMES, STATS } from "../src/features/channels.js";
import { currentSchema } from "../src/features/run.js";
import { buildFeatureSchema, readFeatureSchema, schemaHash, writeFeatureSchema, type SchemaInputs } from "../src/features/schema.js";
import { DEFAULT_FEATURE_OPTIONS } from "../src/features/types.js";

const base = (): SchemaInputs => ({ channels: CHANNELS.map((c) => ({ ...c })), stats: [...STATS], window_s: 10, stride_s: 5, hz: 10 });

describe("canonical JSON", () => {
  it("sorts keys at every depth and drops whitespace", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: "x" }], e: null })).toBe('{"a":[{"c":"x","d":2}],"b":1,"e":null}');
    expect(() => canonicalJson({ a: NaN })).toThrow();
  });
});

describe("feature schema", () => {
  it("lists the 46 channels, 5 stats, 230 features, the window parameters and phases", () => {
    const s = currentSchema(DEFAULT_FEATURE_OPTIONS);
    expect(s.version).toBe(1);
    expect(s.channels).toHaveLength(46);
    expect(s.channels[33]).toEqual({ name: "netflow.pkts_in", source: "netflow", kind: "level", deployed: true });
    expect(s.stats).toEqual(["mean", "std", "p50", "p95", "slope"]);
    expect(s.features).toEqual([...FEATURE_NAMES]);
    expect(s.features).toHaveLength(230);
    expect(s.features[0]).toBe("proc.cpu_user_jiffies.mean");
    expect([s.window_s, s.stride_s, s.hz, s.tensor_len]).toEqual([10, 5, 10, 100]);
    expect(s.phases).toEqual(["clean", "armed", "infecting", "infected_running", "dormant", "failed"]);
    expect(s.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("hashes the canonical JSON of the document without hash (stable, key-order free)", () => {
    const a = buildFeatureSchema(base());
    const b = buildFeatureSchema(base());
    expect(a.hash).toBe(b.hash);
    const { hash, ...body } = a;
    // Same content, keys in reverse order: same hash.
    const reversed = Object.fromEntries(Object.entries(body).reverse());
    expect(schemaHash(reversed as typeof body)).toBe(hash);
    // The definition, spelled out.
    expect(createHash("sha256").update(canonicalJson(body)).digest("hex")).toBe(hash);
  });

  it("changes when the window, stride, hz, channels, stats or phases change", () => {
    const ref = buildFeatureSchema(base()).hash;
    const variants: Array<[string, SchemaInputs]> = [
      ["window", { ...base(), window_s: 20 }],
      ["stride", { ...base(), stride_s: 2.5 }],
      ["hz", { ...base(), hz: 20 }],
      ["channel dropped", { ...base(), channels: base().channels.slice(0, 45) }],
      ["channel order", { ...base(), channels: [base().channels[1], base().channels[0], ...base().channels.slice(2)] }],
      ["channel renamed", { ...base(), channels: base().channels.map((c, i) => (i === 5 ? { ...c, name: "proc.other" } : c)) }],
      ["deployment flag", { ...base(), channels: base().channels.map((c, i) => (i === 0 ? { ...c, deployed: true } : c)) }],
      ["stats", { ...base(), stats: ["mean", "std", "p50", "p95"] }],
      ["phases", { ...base(), phases: ["clean", "armed", "infecting", "infected_running", "dormant"] }],
    ];
    const hashes = new Set([ref]);
    for (const [name, inputs] of variants) {
      const h = buildFeatureSchema(inputs).hash;
      expect(h, name).not.toBe(ref);
      hashes.add(h);
    }
    expect(hashes.size).toBe(variants.length + 1);
  });

  it("round-trips through the file and refuses a tampered one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-schema-"));
    const path = join(dir, "feature_schema.json");
    const s = buildFeatureSchema(base());
    await writeFeatureSchema(path, s);
    expect(await readFeatureSchema(path)).toEqual(s);
    const doc = JSON.parse(readFileSync(path, "utf8"));
    doc.window_s = 11;
    writeFileSync(path, JSON.stringify(doc));
    await expect(readFeatureSchema(path)).rejects.toThrow(/hash mismatch/);
  });
});
