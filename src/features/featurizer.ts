// Chooses who featurises episodes: the native addon (production) or the plain
// TypeScript twin (parity tests and benchmarks only).

import type { Featurizer, FeaturizerName } from "./types.js";

export async function loadFeaturizer(name: FeaturizerName = "native"): Promise<Featurizer> {
  if (name === "reference") {
    const { referenceFeaturizer } = await import("../reference/features.js");
    return referenceFeaturizer;
  }
  const { nativeFeaturizer } = await import("../native/features.js");
  return nativeFeaturizer;
}
