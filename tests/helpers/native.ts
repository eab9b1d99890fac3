// Whether suites that need the native addon should run. Locally they skip
// until `make build` has produced it; under CI (which always builds first) a
// missing addon must fail loudly instead of silently skipping parity tests.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ADDON_PATH = fileURLToPath(new URL("../../native/cis490.node", import.meta.url));
export const runNativeSuites = existsSync(ADDON_PATH) || Boolean(process.env.CI);
