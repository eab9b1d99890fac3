// Loads the model-engines addon (native/engines.node, built from engines/ by
// scripts/build-engines.sh; `make build` runs it).

import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NativeEngines } from "./types.js";

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cis490: cannot find the package root (no package.json above " + fileURLToPath(import.meta.url) + ")");
    dir = up;
  }
}

let engines: NativeEngines | undefined;

export function enginesPath(): string {
  return join(packageRoot(), "native", "engines.node");
}

export function loadEngines(): NativeEngines {
  if (engines) return engines;
  const path = enginesPath();
  if (!existsSync(path)) {
    throw new Error(`cis490: model engines not found at ${path}; run \`make build\` (or scripts/build-engines.sh)`);
  }
  // OpenBLAS (under libtorch) sizes its thread pool when it is loaded, and
  // that pool fights libtorch's OpenMP threads. The addon also calls
  // openblas_set_num_threads(1) at load; the variable covers OpenBLAS builds
  // without that symbol.
  process.env.OPENBLAS_NUM_THREADS ??= "1";
  try {
    engines = createRequire(import.meta.url)(path) as NativeEngines;
  } catch (e) {
    throw new Error(
      `cis490: cannot load ${path} (${(e as Error).message}); are libtorch and libxgboost installed (scripts/setup.sh)? Rebuild with \`make build\``,
    );
  }
  return engines;
}
