// A small synthetic store, validated, for the features and split tests:
// synth -> validation sweep -> acceptance.parquet, cached per process.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadInspector } from "../../src/native/backend.js";
import { loadFeaturizer } from "../../src/native/backend.js";
import type { Featurizer } from "../../src/features/types.js";
import { writeParquet } from "../../src/io/parquet.js";
import { acceptanceTable, type AcceptanceRow } from "../../src/store/acceptance.js";
import { planStore, sweepTargets } from "../../src/store/sweep.js";
import { synthStore } from "../../src/synth/store.js";
import { runNativeSuites } from "./native.js";

/** The featurizer / decoder to build fixtures with: native when built, and always under CIS490_REQUIRE_NATIVE=1 (no silent fallback). */
export const nativeBuilt = (): boolean => runNativeSuites;

export interface ValidatedStore {
  root: string;
  store: string;
  acceptance: string;
  rows: AcceptanceRow[];
}

const cache = new Map<string, Promise<ValidatedStore>>();

export function validatedStore(episodes = 90, seed = "11"): Promise<ValidatedStore> {
  const key = `${episodes}/${seed}`;
  let p = cache.get(key);
  if (!p) {
    p = build(episodes, seed);
    cache.set(key, p);
  }
  return p;
}

async function build(episodes: number, seed: string): Promise<ValidatedStore> {
  const root = mkdtempSync(join(tmpdir(), "cis490-feat-"));
  const store = join(root, "store");
  await synthStore({ out: store, episodes, seed, faults: "standard", hosts: 3, jobs: 2 });
  const engine = await loadInspector(nativeBuilt() ? "native" : "reference");
  const plan = await planStore(store);
  const rows: AcceptanceRow[] = [];
  for await (const { row } of sweepTargets(plan.targets, { engine, jobs: 2 })) rows.push(row);
  const acceptance = join(root, "acceptance.parquet");
  await writeParquet(acceptance, acceptanceTable(rows));
  return { root, store, acceptance, rows };
}

export async function testFeaturizer(): Promise<Featurizer> {
  return loadFeaturizer(nativeBuilt() ? "native" : "reference");
}
