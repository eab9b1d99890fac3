// The one native-or-reference chooser. Commands call loadBackend once and
// inject the pieces into domain code, which never picks for itself; so the
// native and reference modules import the domain's types, and nothing in
// the domain imports them back.

import type { AnomalyBackend } from "../anomaly/eif-model.js";
import type { Inspector } from "../episode/inspector.js";
import type { Featurizer } from "../features/types.js";
import type { StatsBackend } from "../stats/types.js";
import { loadCis490Addon } from "./addon.js";
import type { BackendName } from "./backend-name.js";
import { CliError } from "../util/errors.js";

export { BACKENDS, type BackendName } from "./backend-name.js";

export interface Backend {
  readonly name: BackendName;
  readonly inspector: Inspector;
  readonly featurizer: Featurizer;
  readonly stats: StatsBackend;
  readonly anomaly: AnomalyBackend;
}

/** Loads a backend; for "native", a missing or broken addon is an error that says how to build it. */
export async function loadBackend(name: BackendName = "native"): Promise<Backend> {
  if (name === "reference") {
    const [{ referenceInspector }, { referenceFeaturizer }, { referenceStats }, { referenceAnomaly }] = await Promise.all([
      import("../reference/inspect/inspect.js"),
      import("../reference/features.js"),
      import("../reference/stats.js"),
      import("../reference/eif.js"),
    ]);
    return { name, inspector: referenceInspector, featurizer: referenceFeaturizer, stats: referenceStats, anomaly: referenceAnomaly };
  }
  // Loaded now, so that a missing or broken addon fails here with how to build it.
  loadCis490Addon();
  const [{ nativeInspector }, { nativeFeaturizer }, { nativeStats }, { nativeAnomaly }] = await Promise.all([
    import("./inspect.js"),
    import("./features.js"),
    import("./stats.js"),
    import("./anomaly.js"),
  ]);
  return { name, inspector: nativeInspector, featurizer: nativeFeaturizer, stats: nativeStats, anomaly: nativeAnomaly };
}

export async function loadInspector(name: BackendName = "native"): Promise<Inspector> {
  return (await loadBackend(name)).inspector;
}

export async function loadFeaturizer(name: BackendName = "native"): Promise<Featurizer> {
  return (await loadBackend(name)).featurizer;
}

export async function loadStatsBackend(name: BackendName = "native"): Promise<StatsBackend> {
  return (await loadBackend(name)).stats;
}

/** A backend part for a command: one that does not load is a CliError (exit 1) with the fix. */
async function loadChecked<T>(name: BackendName, what: string, load: (name: BackendName) => Promise<T>): Promise<T> {
  try {
    return await load(name);
  } catch (error) {
    const hint = name === "native" ? " (build the addon with `make build`, or pass --engine reference)" : "";
    throw new CliError(`cannot load the ${name} ${what}${hint}: ${(error as Error).message}`, { cause: error });
  }
}

export const loadInspectorChecked = (name: BackendName): Promise<Inspector> => loadChecked(name, "engine", loadInspector);
export const loadFeaturizerChecked = (name: BackendName): Promise<Featurizer> => loadChecked(name, "featurizer", loadFeaturizer);
