// Small hand-built episode stores for the store/validate/prune tests. Each
// episode is ~60 s of telemetry whose signal/flat character is chosen by the
// test, so classification and quality reasons can be provoked one at a time.

import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync, readdirSync, statSync, readFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { compress } from "zstd-napi";
import { buildTar, type TarEntry } from "../../src/archive/tar-write.js";
import { runNativeSuites } from "./native.js";

export const T0 = 1775124672000000000n;

export type Member = "meta" | "labels" | "events" | "proc" | "guest" | "qmp" | "netflow";

const FILES: Record<Member, string> = {
  meta: "meta.json",
  labels: "labels.jsonl",
  events: "events.jsonl",
  proc: "telemetry-proc.jsonl",
  guest: "telemetry-guest.jsonl",
  qmp: "telemetry-qmp.jsonl",
  netflow: "netflow.jsonl",
};

export interface EpisodeSpec {
  episode_id: string;
  host_id: string;
  /** meta.json overrides (merged), or a raw string to write verbatim. */
  meta?: Record<string, unknown> | string;
  /** "signal" (default): the workload shows in every source; "flat": nothing changes between phases. */
  character?: "signal" | "flat";
  omit?: Member[];
  /** Present with zero rows. */
  empty?: Member[];
  /** [phase, seconds] pairs; default clean/armed/infecting/infected_running/dormant at 0/10/20/30/50. */
  labels?: Array<[string, number]>;
  /** Raw extra label rows (strings), e.g. to break monotonicity. */
  events?: Array<Record<string, unknown>>;
  procRows?: number;
  durationS?: number;
  /** Prefix of member names inside the tar (default `<episode_id>/`). */
  prefix?: string;
  extraEntries?: TarEntry[];
  /** Extra raw lines appended to a member (bad rows, etc.). */
  extraLines?: Partial<Record<Member, string[]>>;
}

const wall = (seconds: number): string => String(T0 + BigInt(Math.round(seconds * 1000)) * 1000000n);
const mono = (seconds: number): string => String(BigInt(Math.round(seconds * 1000)) * 1000000n);

function phaseAt(labels: Array<[string, number]>, t: number): string {
  let phase = "clean";
  for (const [p, s] of labels) if (s <= t) phase = p;
  return phase;
}

const row = (t: number, fields: string): string => `{"t_mono_ns":${mono(t)},"t_wall_ns":${wall(t)},${fields}}`;

export function episodeMembers(spec: EpisodeSpec): Record<Member, string> {
  const duration = spec.durationS ?? 60;
  const signal = (spec.character ?? "signal") === "signal";
  const labels = spec.labels ?? [
    ["clean", 0],
    ["armed", 10],
    ["infecting", 20],
    ["infected_running", 30],
    ["dormant", 50],
  ];
  const active = (t: number): boolean => signal && phaseAt(labels, t) === "infected_running";
  const meta =
    typeof spec.meta === "string"
      ? spec.meta
      : JSON.stringify({
          schema_version: 1,
          episode_id: spec.episode_id,
          host_id: spec.host_id,
          started_at: "2026-04-02T10:11:12Z",
          sample: { name: "xmrig-6.21", kind: "miner", profile: "cpu-saturate" },
          exploit: { module_name: "ssh-weak-cred" },
          fleet: { slot: 3, parallel_slots: 14 },
          result: { duration_observed_s: duration, outcome: "completed" },
          ...(spec.meta ?? {}),
        });
  const lines: Record<Exclude<Member, "meta">, string[]> = { labels: [], events: [], proc: [], guest: [], qmp: [], netflow: [] };
  for (const [phase, s] of labels) lines.labels.push(row(s, `"phase":${JSON.stringify(phase)}`));
  const events = spec.events ?? [
    { t: 30, event: "workload_started", phase: "infected_running" },
    { t: 55, event: "workload_killed", phase: "dormant", pre_kill_probe: { yes: "1" } },
  ];
  for (const e of events) {
    const { t, ...rest } = e as { t: number };
    lines.events.push(row(t, JSON.stringify(rest).slice(1, -1)));
  }
  const procRows = spec.procRows ?? Math.round(duration * 10);
  let jiffies = 0;
  for (let i = 0; i < procRows; i++) {
    const t = i / 10;
    jiffies += active(t) ? 8 : 1;
    lines.proc.push(
      row(
        t,
        `"cpu_user_jiffies":${jiffies},"cpu_sys_jiffies":0,"rss_bytes":1000000,"vsize_bytes":2000000,"io_read_bytes":0,"io_write_bytes":0,` +
          `"voluntary_ctxsw":${i},"involuntary_ctxsw":0,"minor_faults":0,"major_faults":0`,
      ),
    );
  }
  let written = 0;
  for (let s = 0; s < duration; s++) {
    lines.guest.push(
      row(
        s,
        `"cpu_total_jiffies":{"user":${s * 10},"system":0,"idle":0,"iowait":0,"softirq":0},"load_1m_5m_15m":[${active(s) ? 1.5 : 0.1},0.1,0.1],` +
          `"mem_available_bytes":1000,"mem_buffers_bytes":0,"mem_cached_bytes":0,"swap_used_bytes":0,"net":{"eth0":{"rx_bytes":0,"tx_bytes":0,"rx_pkts":0,"tx_pkts":0}},` +
          `"listen_ports":[22],"top_procs":[]`,
      ),
    );
    lines.netflow.push(
      row(
        s,
        `"pkts_in":1,"pkts_out":1,"bytes_in":${active(s) ? 100000 : 50},"bytes_out":50,"syn_count":0,"fin_count":0,"rst_count":0,"udp_count":0,` +
          `"tcp_count":0,"dns_query_count":0,"unique_dst_ips":0,"unique_dst_ports":0,"tcp_new_flows":0`,
      ),
    );
    for (const half of [0, 0.5]) {
      if (active(s + half)) written += 1_000_000;
      lines.qmp.push(
        row(s + half, `"blockstats":{"virtio0":{"rd_ops":0,"wr_ops":0,"rd_bytes":0,"wr_bytes":${written}}},"kvm_stats":{"remote_tlb_flush":0,"pages_4k":0,"pages_2m":0}`),
      );
    }
  }
  const out = { meta } as Record<Member, string>;
  for (const m of Object.keys(lines) as Array<Exclude<Member, "meta">>) {
    const extra = spec.extraLines?.[m] ?? [];
    out[m] = spec.empty?.includes(m) ? extra.map((l) => l + "\n").join("") : [...lines[m], ...extra].map((l) => l + "\n").join("");
  }
  return out;
}

/** The episode as `.tar.zst` bytes. */
export function buildEpisode(spec: EpisodeSpec): Buffer {
  const members = episodeMembers(spec);
  const prefix = spec.prefix ?? `${spec.episode_id}/`;
  const entries: TarEntry[] = [{ name: prefix || "./", type: "dir" }];
  for (const m of Object.keys(FILES) as Member[]) {
    if (spec.omit?.includes(m)) continue;
    entries.push({ name: prefix + FILES[m], data: members[m] });
  }
  entries.push(...(spec.extraEntries ?? []));
  return compress(buildTar(entries));
}

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

export interface IndexRow {
  episode_id: string;
  host_id: string;
  sha256: string;
  size_bytes: number;
  received_at: string;
}

export function indexRow(episode_id: string, host_id: string, bytes: Uint8Array, overrides: Partial<IndexRow> = {}): IndexRow {
  return { episode_id, host_id, sha256: sha256(bytes), size_bytes: bytes.length, received_at: "2026-04-02T10:12:00Z", ...overrides };
}

export interface StoreItem {
  spec: EpisodeSpec;
  /** Bytes to write instead of buildEpisode(spec) (corrupt files etc.). */
  bytes?: Buffer;
  /** false: no index row (orphan). Object: row overrides. */
  index?: false | Partial<IndexRow>;
  /** false: index row without a tarball. */
  file?: boolean;
}

/** Writes a store and returns the index rows written, in order. */
export function writeStore(dir: string, items: StoreItem[], extraIndexText = ""): IndexRow[] {
  mkdirSync(dir, { recursive: true });
  const rows: IndexRow[] = [];
  for (const item of items) {
    const bytes = item.bytes ?? buildEpisode(item.spec);
    if (item.file !== false) {
      mkdirSync(join(dir, item.spec.host_id), { recursive: true });
      writeFileSync(join(dir, item.spec.host_id, `${item.spec.episode_id}.tar.zst`), bytes);
    }
    if (item.index !== false) rows.push(indexRow(item.spec.episode_id, item.spec.host_id, bytes, item.index ?? {}));
  }
  writeFileSync(join(dir, "index.jsonl"), rows.map((r) => JSON.stringify(r) + "\n").join("") + extraIndexText);
  return rows;
}

/** path (relative) -> sha256 of every file under dir, for before/after comparisons. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = sha256(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** The engines to test with: the reference always, the native one when its addon is built. */
export function availableEngines(): Array<"native" | "reference"> {
  return runNativeSuites ? ["reference", "native"] : ["reference"];
}
