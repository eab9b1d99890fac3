// The TypeScript twin of crates/cis490-core/src/limits.rs: the one check the
// reference decoder makes on its options (the window limit). The options
// themselves and their defaults are declared in src/episode/report.ts.

/** max_window_bytes as a window log, or an Error (bad options, as the native side throws). */
export function windowLogOf(maxWindowBytes: number): number {
  const log = Math.log2(maxWindowBytes);
  if (!Number.isInteger(log) || log < 10 || log > 31) {
    throw new Error(`invalid inspect options: max_window_bytes must be a power of two from 2^10 to 2^31, got ${maxWindowBytes}`);
  }
  return log;
}
