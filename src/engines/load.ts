// The model-engines addon (native/engines.node); loading it is the job of
// the one native boundary, src/native/addon.ts.

import { addonPath } from "../native/addon.js";

export { loadEnginesAddon as loadEngines } from "../native/addon.js";

export function enginesPath(): string {
  return addonPath("engines");
}
