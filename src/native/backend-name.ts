// Who computes the hot paths: the native addon ("native", production) or the
// plain TypeScript twin ("reference", parity tests and benchmarks). The
// user-facing flag is `--engine native|reference` (kept for compatibility);
// in code it is the backend, never to be confused with the model engines.

export const BACKENDS = ["native", "reference"] as const;
export type BackendName = (typeof BACKENDS)[number];
