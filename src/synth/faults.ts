// The fleet's sloppiness, injected on purpose. Each fault has a name, a group
// (which decides what it does to the episode's validation class) and a rate.
// Rates are per episode; on top of them every fault is guaranteed to occur at
// least once in a store big enough to hold them all (see plan.ts), so the
// demo corpus always exercises every class and every prune reason.

import type { Rng } from "./rng.js";

export type FaultGroup =
  | "rejected" // decodes but breaks the contract
  | "errored" // cannot be read at all
  | "degraded" // a deployment source missing or empty
  | "store" // index/file-level damage
  | "prune" // content that a quality rule flags
  | "rows"; // malformed rows inside good members (counted, class unchanged)

export interface FaultSpec {
  name: string;
  group: FaultGroup;
  rate: number;
  what: string;
}

/**
 * The catalogue. Order matters only for the coverage pass (deterministic).
 * Rates are chosen so a 2,000-episode store looks like the real corpus in
 * proportion (mostly accepted, a few percent degraded/rejected, errored rare).
 */
export const FAULTS: FaultSpec[] = [
  { name: "index-sha-mismatch", group: "rejected", rate: 0.004, what: "index row's sha256 differs from the file's" },
  { name: "index-size-mismatch", group: "rejected", rate: 0.004, what: "index row's size_bytes differs from the file's" },
  { name: "missing-proc-member", group: "rejected", rate: 0.004, what: "no telemetry-proc.jsonl in the tarball" },
  { name: "labels-non-monotonic", group: "rejected", rate: 0.004, what: "a label's clocks step backwards" },
  { name: "labels-unknown-phase", group: "rejected", rate: 0.004, what: "a label carries a phase outside the contract" },
  { name: "proc-too-few-rows", group: "rejected", rate: 0.004, what: "proc telemetry stops after a few seconds (< 50 rows, < 5 s)" },
  { name: "labels-empty", group: "rejected", rate: 0.003, what: "labels.jsonl present but empty (no labels)" },
  { name: "zstd-truncated", group: "errored", rate: 0.002, what: "the .tar.zst is cut short (upload interrupted)" },
  { name: "zstd-corrupt", group: "errored", rate: 0.002, what: "bytes inside the zstd stream overwritten" },
  { name: "tar-truncated", group: "errored", rate: 0.0015, what: "valid zstd around a tar cut in the middle of a member" },
  { name: "missing-tarball", group: "store", rate: 0.001, what: "index row whose file does not exist (errored)" },
  { name: "orphan-tarball", group: "store", rate: 0.001, what: "tarball that no index row names" },
  { name: "index-torn-concat", group: "store", rate: 0.001, what: "this row and the next share one index line ({...}{...})" },
  { name: "index-torn-half", group: "store", rate: 0.001, what: "a half record line in the index; the receiver re-appended the full row later" },
  { name: "guest-agent-dead", group: "degraded", rate: 0.02, what: "no telemetry-guest.jsonl" },
  { name: "guest-empty", group: "degraded", rate: 0.006, what: "telemetry-guest.jsonl present but empty" },
  { name: "netflow-missing", group: "degraded", rate: 0.012, what: "no netflow.jsonl on a host that normally ships it" },
  { name: "no-sample", group: "prune", rate: 0.01, what: "meta.sample and meta.exploit null (old fleet code)" },
  { name: "events-missing", group: "prune", rate: 0.008, what: "no events.jsonl (no workload events)" },
  { name: "events-no-workload", group: "prune", rate: 0.006, what: "events.jsonl without any workload_* row" },
  { name: "flat", group: "prune", rate: 0.01, what: "dud episode: the workload never showed, every source flat" },
  { name: "silent", group: "prune", rate: 0.008, what: "dud episode whose pre-kill probe in dormant said \"0\"" },
  { name: "rows-invalid-json", group: "rows", rate: 0.02, what: "torn lines (invalid JSON) inside telemetry members" },
  { name: "rows-wrong-type", group: "rows", rate: 0.02, what: "rows with a field of the wrong type" },
  { name: "rows-missing-t-wall", group: "rows", rate: 0.02, what: "rows without t_wall_ns" },
];

export const FAULT_BY_NAME: Map<string, FaultSpec> = new Map(FAULTS.map((f) => [f.name, f]));

/** Groups of which an episode carries at most one fault ("primary"); degraded and rows stack on top. */
export const PRIMARY_GROUPS: FaultGroup[] = ["rejected", "errored", "store", "prune"];

export function isPrimary(name: string): boolean {
  const spec = FAULT_BY_NAME.get(name);
  return spec !== undefined && PRIMARY_GROUPS.includes(spec.group);
}

export type ValidationClass = "accepted" | "degraded" | "rejected" | "errored";

/** The class a sweep must give an episode, from its faults and host. */
export function expectedClass(faults: readonly string[], hostHasNetflow: boolean): ValidationClass {
  // An orphan has no index row to check its digest against: it breaks the contract.
  if (faults.includes("orphan-tarball")) return "rejected";
  const groups = faults.map((f) => FAULT_BY_NAME.get(f)?.group);
  if (faults.includes("missing-tarball") || groups.includes("errored")) return "errored";
  if (groups.includes("rejected")) return "rejected";
  if (groups.includes("degraded") || !hostHasNetflow) return "degraded";
  return "accepted";
}

// ---- byte-level damage ------------------------------------------------------

/** Cuts the compressed file short: the zstd frame ends mid-block. */
export function truncateBytes(bytes: Buffer, rng: Rng): Buffer {
  const keep = Math.max(16, Math.floor(bytes.length * rng.uniform(0.3, 0.85)));
  return Buffer.from(bytes.subarray(0, keep));
}

/** Overwrites a run of bytes in the middle of the stream (the frame checksum guarantees a decode error). */
export function corruptBytes(bytes: Buffer, rng: Rng): Buffer {
  const out = Buffer.from(bytes);
  const at = Math.floor(out.length * rng.uniform(0.35, 0.65));
  const len = Math.min(out.length - at, rng.int(24, 96));
  for (let i = 0; i < len; i++) out[at + i] = rng.u32() & 0xff;
  // Make sure at least the first byte really changed.
  out[at] = bytes[at] ^ 0x5a;
  return out;
}

/** A flipped hex digit: a digest that is well-formed but wrong. */
export function wrongSha(sha: string, rng: Rng): string {
  const at = rng.int(0, sha.length - 1);
  const digit = parseInt(sha[at], 16);
  const other = ((digit + rng.int(1, 15)) % 16).toString(16);
  return sha.slice(0, at) + other + sha.slice(at + 1);
}

// ---- malformed rows -----------------------------------------------------------

/** A torn copy of a row: the first part of its text, never valid JSON. */
export function tornRow(row: string, rng: Rng): string {
  const cut = Math.max(8, Math.floor(row.length * rng.uniform(0.25, 0.8)));
  let text = row.slice(0, Math.min(cut, row.length - 2));
  // A cut that happens to end on a closing brace could still parse; avoid it.
  while (text.endsWith("}") || text.endsWith("]")) text = text.slice(0, -1);
  return text;
}

/** A copy of the row with its first numeric field turned into a string (a producer's formatting bug). */
export function wrongTypeRow(row: string, field: string): string {
  const re = new RegExp(`"${field}":(-?[0-9.]+)`);
  return row.replace(re, (_m, n: string) => `"${field}":"${n}"`);
}

/** A copy of the row with t_wall_ns removed (or nulled, both happen). */
export function noWallRow(row: string, asNull: boolean): string {
  return asNull
    ? row.replace(/"t_wall_ns":[0-9]+/, '"t_wall_ns":null')
    : row.replace(/"t_wall_ns":[0-9]+,/, "");
}
