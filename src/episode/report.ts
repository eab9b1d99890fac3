// The shape of one episode's inspection report, produced identically by the
// native decoder and the TypeScript reference (see docs/inspection.md).

export const JSONL_MEMBERS = ["labels", "events", "proc", "guest", "qmp", "netflow"] as const;
export type JsonlMember = (typeof JSONL_MEMBERS)[number];

/** File names inside the tarball, matched by base name. */
export const MEMBER_FILES: Record<JsonlMember | "meta", string> = {
  meta: "meta.json",
  labels: "labels.jsonl",
  events: "events.jsonl",
  proc: "telemetry-proc.jsonl",
  guest: "telemetry-guest.jsonl",
  qmp: "telemetry-qmp.jsonl",
  netflow: "netflow.jsonl",
};

export const PHASES = ["clean", "armed", "infecting", "infected_running", "dormant", "failed"] as const;
export type Phase = (typeof PHASES)[number];

export const PROFILES = [
  "cpu-saturate",
  "scan-and-dial",
  "io-walk",
  "bursty-c2",
  "low-and-slow",
  "shell-resident",
] as const;
export type Profile = (typeof PROFILES)[number];

export interface InspectOptions {
  max_total_bytes: number;
  max_member_bytes: number;
  max_line_bytes: number;
  max_depth: number;
  max_rows: number;
  /** Largest zstd window a frame may declare, a power of two from 2^10 to 2^31 (docs/inspection.md). */
  max_window_bytes: number;
  with_columns: boolean;
}

export const DEFAULT_INSPECT_OPTIONS: InspectOptions = {
  max_total_bytes: 256 * 1024 * 1024,
  max_member_bytes: 64 * 1024 * 1024,
  max_line_bytes: 1024 * 1024,
  max_depth: 64,
  max_rows: 1_000_000,
  max_window_bytes: 2 ** 27,
  with_columns: false,
};

export interface Finding {
  code: string;
  member: string;
}

export interface MemberStats {
  present: boolean;
  rows: number;
  skipped: number;
  bytes: number;
}

export interface EpisodeMeta {
  schema_version: number | null;
  episode_id: string | null;
  host_id: string | null;
  started_at: string | null;
  sample_present: boolean;
  sample_name: string | null;
  sample_kind: string | null;
  profile: string | null;
  module_name: string | null;
  duration_observed_s: number | null;
  outcome: string | null;
}

export type Verdict = "signal" | "flat" | "unknown";

export interface SourceSignal {
  verdict: Verdict;
  spread: number | null;
}

export interface EpisodeReport {
  size_bytes: number;
  sha256: string;
  io_error: string | null;
  fatal: string | null;
  fatal_detail: string | null;
  findings: Finding[];
  meta_present: boolean;
  meta_error: string | null;
  meta: EpisodeMeta | null;
  members: Record<JsonlMember, MemberStats>;
  labels: {
    count: number;
    monotonic: boolean;
    unknown_phases: string[];
    phases: number[];
    t0_wall_ns: string | null;
  };
  duration_s: number | null;
  proc_span_s: number;
  events: { workload_events: number; workload_failed: boolean; killed_dormant_probe_zero: boolean };
  signals: Record<"proc" | "netflow" | "qmp" | "guest", SourceSignal>;
  columns: Record<string, Record<string, Array<string | number | null>>> | null;
}
