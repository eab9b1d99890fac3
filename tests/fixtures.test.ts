// The committed fixture store (fixtures/store-small, made once by `cis490 synth
// --episodes 80 --seed 2026 --faults standard`) must keep being read the same
// way: every class and prune reason its manifest promises, from both engines,
// and identical reports from the native decoder and the TypeScript twin.

import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runNativeSuites as haveNative } from "./helpers/native.js";
import { describeWith } from "./helpers/prerequisites.js";
import { loadInspector, type BackendName } from "../src/native/backend.js";
import { DEFAULT_INSPECT_OPTIONS, type EpisodeReport } from "../src/episode/report.js";
import { inspectBytes } from "../src/reference/inspect/inspect.js";
import { planStore, sweepTargets } from "../src/store/sweep.js";

const store = fileURLToPath(new URL("../fixtures/store-small", import.meta.url));
const engines: BackendName[] = haveNative ? ["native", "reference"] : ["reference"];

interface ManifestEpisode {
  episode_id: string;
  expect: { class: string; prune: string[] | null };
}
const manifest = JSON.parse(readFileSync(join(store, ".synth.json"), "utf8")) as { episodes: ManifestEpisode[] };

function storeDigest(): string {
  const hash = createHash("sha256");
  hash.update(readFileSync(join(store, "index.jsonl")));
  for (const host of readdirSync(store).sort()) {
    if (host.startsWith(".") || host === "index.jsonl") continue;
    for (const f of readdirSync(join(store, host)).sort()) hash.update(f).update(readFileSync(join(store, host, f)));
  }
  return hash.digest("hex");
}

describe.each(engines)("fixture store, %s engine", (name) => {
  it("classifies every episode as its manifest says, without touching the store", async () => {
    const before = storeDigest();
    const engine = await loadInspector(name);
    const plan = await planStore(store);
    const got = new Map<string, { cls: string; quality: string[] }>();
    for await (const { row } of sweepTargets(plan.targets, { engine, jobs: 2 })) {
      got.set(row.episode_id, { cls: row.class, quality: row.quality_reasons });
    }
    expect(got.size).toBe(manifest.episodes.length);
    const classes = new Set<string>();
    for (const ep of manifest.episodes) {
      const row = got.get(ep.episode_id);
      expect(row?.cls, ep.episode_id).toBe(ep.expect.class);
      classes.add(ep.expect.class);
      if (ep.expect.prune !== null && row?.cls !== "errored") expect(row?.quality, ep.episode_id).toEqual(ep.expect.prune);
    }
    expect([...classes].sort()).toEqual(["accepted", "degraded", "errored", "rejected"]);
    expect(storeDigest()).toBe(before);
  });
});

describeWith("native", "fixture store parity", () => {
  it("gives identical reports from both decoders on every fixture tarball", async () => {
    const { inspectBufferNative } = await import("../src/native/inspect.js");
    const strip = (r: EpisodeReport) => {
      const copy = JSON.parse(JSON.stringify(r));
      delete copy.fatal_detail;
      return copy;
    };
    let n = 0;
    for (const host of readdirSync(store)) {
      if (host.startsWith(".") || host === "index.jsonl") continue;
      for (const f of readdirSync(join(store, host))) {
        const bytes = readFileSync(join(store, host, f));
        const opts = { ...DEFAULT_INSPECT_OPTIONS, with_columns: true };
        expect(strip(inspectBufferNative(bytes, opts)), f).toEqual(strip(inspectBytes(bytes, opts)));
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(79);
  });
});
