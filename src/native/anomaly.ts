// The native extended isolation forest: crates/cis490-anomaly through
// cis490.node (fit and score off the event loop on the rayon pool; results
// do not depend on the thread count).

import type { AnomalyBackend } from "../anomaly/eif-model.js";
import { loadCis490Addon } from "./addon.js";

export const nativeAnomaly: AnomalyBackend = {
  eifFit: (x, n, d, o, threads) => loadCis490Addon().eifFit(x, n, d, JSON.stringify(o), threads),
  eifScore: (modelJson, x, n, threads) => loadCis490Addon().eifScore(modelJson, x, n, threads),
};
