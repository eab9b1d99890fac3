// Loads the model-engines addon (native/engines.node, built from engines/ by
// scripts/build-engines.sh; `make build` runs it).

import { existsSync } from "node:fs";
import { addonPath, requireAddon } from "../io/addon.js";
import type { NativeEngines } from "./types.js";

let engines: NativeEngines | undefined;

export function enginesPath(): string {
  return addonPath("engines");
}

export function loadEngines(): NativeEngines {
  if (engines) return engines;
  const path = enginesPath();
  // OpenBLAS (under libtorch) sizes its thread pool when it is loaded, and
  // that pool fights libtorch's OpenMP threads. The addon also calls
  // openblas_set_num_threads(1) at load; the variable covers OpenBLAS builds
  // without that symbol.
  process.env.OPENBLAS_NUM_THREADS ??= "1";
  try {
    engines = requireAddon<NativeEngines>("engines", "model engines", "scripts/build-engines.sh");
  } catch (e) {
    if (!existsSync(path)) throw e;
    throw new Error(
      `cis490: cannot load ${path} (${(e as Error).message}); are libtorch and libxgboost installed (scripts/setup.sh)? Rebuild with \`make build\``,
    );
  }
  return engines;
}
