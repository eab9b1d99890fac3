// Whether suites that need the native addon run: locally only once `make
// build` has produced it; under `make test` (CIS490_REQUIRE_NATIVE=1) always,
// so a missing addon fails instead of silently skipping (prerequisites.ts).
import { skipWithout } from "./prerequisites.js";

export { ADDON_PATH } from "./prerequisites.js";
export const runNativeSuites = !skipWithout("native");
