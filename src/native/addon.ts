// The one native boundary: where the two compiled addons are found and
// loaded, and the one declaration of what each exports. cis490.node is the
// Rust core's binding (crates/cis490-node, built by scripts/build-native.sh);
// engines.node is the libtorch + XGBoost addon (engines/, built by
// scripts/build-engines.sh). tests/native-addon.test.ts checks these lists
// against the real exports, so a function added on one side and not the
// other fails a test instead of a user's run.

import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EpisodeWindows } from "../features/types.js";
import type { NativeEngines, NativeTorchModel } from "../engines/types.js";

/** cis490.node, as crates/cis490-node/src/lib.rs registers it. JSON crosses as strings; bulk data as typed arrays. */
export interface Cis490Addon {
  version(): string;
  /** JSON: version, profile, target, napiVersion, threads. */
  buildInfo(): string;
  inspectBuffer(data: Uint8Array, optionsJson: string): string;
  inspectFiles(paths: string[], optionsJson: string, jobs: number): Promise<string[]>;
  featurizeFiles(paths: string[], optionsJson: string, jobs: number): Promise<EpisodeWindows[]>;
  featureSchema(): string;
  bootstrapF1(yTrue: Int32Array, yPred: Int32Array, groups: Uint32Array | null, optionsJson: string): Promise<string>;
  pairedBootstrap(yTrue: Int32Array, predA: Int32Array, predB: Int32Array, groups: Uint32Array | null, optionsJson: string): Promise<string>;
  aucBootstrap(y: Int32Array, score: Float64Array, groups: Uint32Array | null, optionsJson: string): Promise<string>;
  eifFit(x: Float64Array | Float32Array, n: number, d: number, optionsJson: string, jobs: number): Promise<string>;
  eifScore(modelJson: string, x: Float64Array | Float32Array, n: number, jobs: number): Promise<Float64Array>;
  /** x/mask [n, channels, length]; resolves to the fitted model's JSON (src/reference/minirocket.ts describes it). */
  minirocketFit(x: Float32Array, mask: Uint8Array, n: number, channels: number, length: number, optionsJson: string): Promise<string>;
  /** Resolves to the PPV features [n, model features], row-major. */
  minirocketTransform(modelJson: string, x: Float32Array, mask: Uint8Array, n: number, jobs: number): Promise<Float32Array>;
  /**
   * The MiniRocket logistic head (crates/cis490-core/src/minirocket_head.rs; twin src/reference/minirocket-head.ts):
   * PPV features [n, nFeatures], labels, one weight per class; options {epochs, patience, batch_size, lr, l2, seed}.
   */
  minirocketHeadFit(trainX: Float32Array, trainY: Int32Array, valX: Float32Array, valY: Int32Array, nFeatures: number, classWeights: Float32Array, optionsJson: string, jobs: number): Promise<MiniRocketHeadNative>;
}

/** minirocketHeadFit's result: the best epoch's head and one history entry per epoch run. */
export interface MiniRocketHeadNative {
  mean: Float64Array;
  std: Float64Array;
  /** [nFeatures, nClasses] row-major. */
  weights: Float64Array;
  bias: Float64Array;
  train_loss: Float64Array;
  val_macro_f1: Float64Array;
  /** Wall seconds per epoch. */
  seconds: Float64Array;
  /** 1-based; 0 when no epoch beat a macro F1 of -1. */
  best_epoch: number;
  best_val_macro_f1: number;
  stopped: "early-stopping" | "max-epochs";
}

export const CIS490_EXPORTS = ["version", "buildInfo", "inspectBuffer", "inspectFiles", "featurizeFiles", "featureSchema", "bootstrapF1", "pairedBootstrap", "aucBootstrap", "eifFit", "eifScore", "minirocketFit", "minirocketTransform", "minirocketHeadFit"] as const satisfies readonly (keyof Cis490Addon)[];

/** engines.node, as engines/src/addon.cc registers it (its types: src/engines/types.ts). */
export type EnginesAddon = NativeEngines;

export const ENGINES_EXPORTS = ["TorchModel", "AutoencoderModel", "ProcessGroup", "GbtFeed", "trainGbt", "predictGbt", "gbtModelInfo", "info"] as const satisfies readonly (keyof EnginesAddon)[];

/** Methods of engines.node's TorchModel class (NativeTorchModel); the test checks each is on its prototype. */
export const TORCH_MODEL_METHODS = ["trainStep", "predictProba", "embed", "save", "load", "parameterBytes", "namedTensors", "joinProcessGroup", "dispose"] as const satisfies readonly (keyof NativeTorchModel)[];

/** The package root: the nearest ancestor with a package.json (from src/ under vitest and dist/ after tsc alike). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cis490: cannot find the package root (no package.json above " + fileURLToPath(import.meta.url) + ")");
    dir = up;
  }
}

export function addonPath(name: "cis490" | "engines"): string {
  return join(packageRoot(), "native", `${name}.node`);
}

function requireAddon<T>(name: "cis490" | "engines", what: string, script: string): T {
  const path = addonPath(name);
  if (!existsSync(path)) throw new Error(`cis490: ${what} not found at ${path}; run \`make build\` (or ${script})`);
  return createRequire(import.meta.url)(path) as T;
}

let cis490: Cis490Addon | undefined;
let engines: EnginesAddon | undefined;

export function loadCis490Addon(): Cis490Addon {
  cis490 ??= requireAddon<Cis490Addon>("cis490", "native addon", "scripts/build-native.sh");
  return cis490;
}

export function loadEnginesAddon(): EnginesAddon {
  if (engines) return engines;
  // OpenBLAS (under libtorch) sizes its thread pool when it is loaded, and
  // that pool fights libtorch's OpenMP threads. The addon also calls
  // openblas_set_num_threads(1) at load; the variable covers OpenBLAS builds
  // without that symbol.
  process.env.OPENBLAS_NUM_THREADS ??= "1";
  try {
    engines = requireAddon<EnginesAddon>("engines", "model engines", "scripts/build-engines.sh");
  } catch (e) {
    if (!existsSync(addonPath("engines"))) throw e;
    throw new Error(
      `cis490: cannot load ${addonPath("engines")} (${(e as Error).message}); are libtorch and libxgboost installed (scripts/setup.sh)? Rebuild with \`make build\``,
    );
  }
  return engines;
}
