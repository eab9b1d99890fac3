// Locating and loading the project's compiled addons (native/*.node), from
// src/ under vitest and from dist/ after tsc alike.

import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root: the nearest ancestor with a package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cis490: cannot find the package root (no package.json above " + fileURLToPath(import.meta.url) + ")");
    dir = up;
  }
}

export function addonPath(name: string): string {
  return join(packageRoot(), "native", `${name}.node`);
}

/** Loads native/<name>.node; `what` and `script` make the missing-file error say how to build it. */
export function requireAddon<T>(name: string, what: string, script: string): T {
  const path = addonPath(name);
  if (!existsSync(path)) throw new Error(`cis490: ${what} not found at ${path}; run \`make build\` (or ${script})`);
  return createRequire(import.meta.url)(path) as T;
}
