// What some suites need beyond node_modules: the native addon, the compiled
// CLI (dist/), Debian's numpy (round trips through np.load) and Chromium
// (the report test). Locally, a suite whose prerequisite is missing is
// skipped, its name saying why. `make test` (and so .ci/run, which runs
// exactly that) exports CIS490_REQUIRE_<NAME>=1 for each one; then a missing
// prerequisite fails the suite with the reason instead of skipping it.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe } from "vitest";

export type Prerequisite = "native" | "build" | "numpy" | "browser";

export const ADDON_PATH = fileURLToPath(new URL("../../native/cis490.node", import.meta.url));
export const CLI_PATH = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
export const PYTHON = "/usr/bin/python3";
export const CHROMIUM = "/usr/bin/chromium";

const CHECKS: Record<Prerequisite, { env: string; missing: () => string | null }> = {
  native: { env: "CIS490_REQUIRE_NATIVE", missing: () => (existsSync(ADDON_PATH) ? null : `${ADDON_PATH} is not built (bash scripts/build-native.sh)`) },
  build: { env: "CIS490_REQUIRE_BUILD", missing: () => (existsSync(CLI_PATH) ? null : `${CLI_PATH} is not built (make ts)`) },
  numpy: {
    env: "CIS490_REQUIRE_NUMPY",
    missing: () => (existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import numpy"]).status === 0 ? null : `${PYTHON} cannot import numpy (apt-get install python3-numpy; scripts/setup.sh does)`),
  },
  browser: { env: "CIS490_REQUIRE_BROWSER", missing: () => (existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium; scripts/setup.sh does)`) },
};

const cache = new Map<Prerequisite, string | null>();

/** Why `p` is unavailable, or null when it is there. */
export function missing(p: Prerequisite): string | null {
  if (!cache.has(p)) cache.set(p, CHECKS[p].missing());
  return cache.get(p)!;
}

/** Whether the environment demands `p` (CIS490_REQUIRE_<NAME>=1). */
export function required(p: Prerequisite): boolean {
  return process.env[CHECKS[p].env] === "1";
}

/** True only when `p` is missing and not required: the one case a suite may skip. */
export function skipWithout(p: Prerequisite): boolean {
  return missing(p) !== null && !required(p);
}

/** Throws, naming the variable and the reason, when `p` is missing. */
export function requirePrerequisite(p: Prerequisite): void {
  const why = missing(p);
  if (why !== null) throw new Error(`${CHECKS[p].env}=1 but ${why}`);
}

/** A describe block that needs `p`: skipped with the reason in its title, or failing in beforeAll when required and missing. */
export function describeWith(p: Prerequisite, title: string, body: () => void): void {
  if (skipWithout(p)) {
    describe.skip(`${title} (skipped: ${missing(p)}; ${CHECKS[p].env}=1 makes this a failure)`, body);
    return;
  }
  describe(title, () => {
    beforeAll(() => requirePrerequisite(p));
    body();
  });
}
