// The channel registry (docs/features.md, "Channel registry"): 46 channels in
// schema order, their source, kind and deployment flag, the five statistics,
// the 230 feature names, and the realistic/oracle masks. The native side has
// the same table (crates/cis490-core/src/features/channels.rs);
// tests/parity-features.test.ts checks it against the addon's featureSchema().

export type Source = "proc" | "guest" | "qmp" | "netflow";
export type ChannelKind = "counter" | "level";

export interface Channel {
  /** `<source>.<column>`; the column name is the key in the decoder's typed columns. */
  name: string;
  source: Source;
  kind: ChannelKind;
  /** Visible to a deployed detector (network monitor + in-guest agent): guest and netflow. */
  deployed: boolean;
}

const c = "counter" as const;
const l = "level" as const;

// [source, [column, kind]...] in schema order.
const TABLE: Array<[Source, Array<[string, ChannelKind]>]> = [
  [
    "proc",
    [
      ["cpu_user_jiffies", c],
      ["cpu_sys_jiffies", c],
      ["rss_bytes", l],
      ["vsize_bytes", l],
      ["io_read_bytes", c],
      ["io_write_bytes", c],
      ["voluntary_ctxsw", c],
      ["involuntary_ctxsw", c],
      ["minor_faults", c],
      ["major_faults", c],
    ],
  ],
  [
    "guest",
    [
      ["cpu_user", c],
      ["cpu_sys", c],
      ["cpu_idle", c],
      ["cpu_iowait", c],
      ["cpu_softirq", c],
      ["load_1m", l],
      ["mem_available", l],
      ["mem_buffers", l],
      ["mem_cached", l],
      ["swap_used", l],
      ["eth0_rx_bytes", c],
      ["eth0_tx_bytes", c],
      ["eth0_rx_pkts", c],
      ["eth0_tx_pkts", c],
      ["n_listen_ports", l],
      ["n_top_procs", l],
    ],
  ],
  [
    "qmp",
    [
      ["virtio0_rd_ops", c],
      ["virtio0_wr_ops", c],
      ["virtio0_rd_bytes", c],
      ["virtio0_wr_bytes", c],
      ["kvm_tlb_flush", c],
      ["kvm_pages_4k", l],
      ["kvm_pages_2m", l],
    ],
  ],
  [
    "netflow",
    [
      "pkts_in",
      "pkts_out",
      "bytes_in",
      "bytes_out",
      "syn_count",
      "fin_count",
      "rst_count",
      "udp_count",
      "tcp_count",
      "dns_query_count",
      "unique_dst_ips",
      "unique_dst_ports",
      "tcp_new_flows",
    ].map((n): [string, ChannelKind] => [n, l]),
  ],
];

export const CHANNELS: readonly Channel[] = TABLE.flatMap(([source, cols]) =>
  cols.map(([col, kind]) => ({ name: `${source}.${col}`, source, kind, deployed: source === "guest" || source === "netflow" })),
);

export const N_CHANNELS = 46;
/** The default (plain) statistics; a schema may hold others (see below). */
export const STATS = ["mean", "std", "p50", "p95", "slope"] as const;
export const N_STATS = STATS.length;
export const N_FEATURES = N_CHANNELS * N_STATS;

/**
 * Every statistic either implementation can compute (docs/features.md,
 * "Baseline-relative features"): the plain five; `*_d` = minus the
 * channel's causal baseline median, `*_r` = divided by it (NaN when it is 0
 * or missing); `missing` / `base_missing` = 1 when the window / the
 * baseline has no finite sample of the channel, else 0.
 */
export const ALL_STATS = ["mean", "std", "p50", "p95", "slope", "mean_d", "p50_d", "p95_d", "mean_r", "p95_r", "missing", "base_missing"] as const;
export type StatName = (typeof ALL_STATS)[number];
export const BASELINE_STATS: readonly StatName[] = ["mean_d", "p50_d", "p95_d", "mean_r", "p95_r", "base_missing"];

/** How a schema uses the episode's baseline: not at all, extra statistics beside the plain ones, or instead of the plain location ones (and tensors minus the baseline). */
export const BASELINE_MODES = ["none", "append", "relative"] as const;
export type BaselineMode = (typeof BASELINE_MODES)[number];

/** The statistic list of a schema option set, in vector order. */
export function statsFor(baseline: BaselineMode, missingIndicators: boolean): StatName[] {
  const stats: StatName[] =
    baseline === "none" ? [...STATS] : baseline === "append" ? [...STATS, "mean_d", "p50_d", "p95_d", "mean_r", "p95_r"] : ["mean_d", "std", "p50_d", "p95_d", "slope", "mean_r", "p95_r"];
  if (missingIndicators) stats.push("missing", ...(baseline === "none" ? [] : (["base_missing"] as StatName[])));
  return stats;
}

/** `<channel>.<stat>`, channel-major: the summary vector's order (230 names). */
export const FEATURE_NAMES: readonly string[] = CHANNELS.flatMap((ch) => STATS.map((s) => `${ch.name}.${s}`));

/** The column of a channel in the decoder's typed columns (`columns[source][column]`). */
export function columnOf(ch: Channel): string {
  return ch.name.slice(ch.source.length + 1);
}

export type FeatureMode = "realistic" | "oracle";

/** Per channel: used in this mode (realistic = deployed channels only, 29; oracle = all 46). */
export function channelMask(mode: FeatureMode): boolean[] {
  return CHANNELS.map((ch) => mode === "oracle" || ch.deployed);
}

/** Per summary feature of a schema with these statistics (default: realistic 145 of 230; oracle: all). */
export function featureMask(mode: FeatureMode, stats: readonly string[] = STATS): boolean[] {
  return channelMask(mode).flatMap((m) => stats.map(() => m));
}

/** Indices of the features used in this mode, ascending. */
export function featureIndices(mode: FeatureMode, stats: readonly string[] = STATS): number[] {
  return featureMask(mode, stats).flatMap((m, i) => (m ? [i] : []));
}

/** Indices of the channels used in this mode, ascending (tensor rows). */
export function channelIndices(mode: FeatureMode): number[] {
  return channelMask(mode).flatMap((m, i) => (m ? [i] : []));
}

if (CHANNELS.length !== N_CHANNELS) throw new Error(`channel registry has ${CHANNELS.length} channels, expected ${N_CHANNELS}`);
