//! The channel registry (docs/features.md, "Channel registry"): 46 channels
//! in schema order, where each comes from (source + column of the decoded
//! table) and whether it is a counter or a level. `src/features/channels.ts`
//! holds the same table; tests/parity-features.test.ts checks the two agree
//! through `schema_json()` (exported to Node as `featureSchema()`).

use crate::parse::{DecodedEpisode, Table};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Proc,
    Guest,
    Qmp,
    Netflow,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Proc => "proc",
            Source::Guest => "guest",
            Source::Qmp => "qmp",
            Source::Netflow => "netflow",
        }
    }

    /// Deployment threat model: only a network monitor and an in-guest agent.
    pub fn deployed(self) -> bool {
        matches!(self, Source::Guest | Source::Netflow)
    }

    pub fn table(self, ep: &DecodedEpisode) -> &Table {
        match self {
            Source::Proc => &ep.proc,
            Source::Guest => &ep.guest,
            Source::Qmp => &ep.qmp,
            Source::Netflow => &ep.netflow,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Level,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Level => "level",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Channel {
    /// `<source>.<column>`.
    pub name: &'static str,
    pub source: Source,
    pub kind: Kind,
    /// Index into the source table's `cols` (its name is the part after the dot).
    pub column: usize,
}

impl Channel {
    pub fn deployed(&self) -> bool {
        self.source.deployed()
    }
}

pub const N_CHANNELS: usize = 46;
pub const STATS: [&str; 5] = ["mean", "std", "p50", "p95", "slope"];
pub const N_STATS: usize = STATS.len();
pub const N_FEATURES: usize = N_CHANNELS * N_STATS;

use Kind::{Counter as C, Level as L};
use Source::{Guest, Netflow, Proc, Qmp};

const fn ch(name: &'static str, source: Source, kind: Kind, column: usize) -> Channel {
    Channel { name, source, kind, column }
}

pub const CHANNELS: [Channel; N_CHANNELS] = [
    ch("proc.cpu_user_jiffies", Proc, C, 0),
    ch("proc.cpu_sys_jiffies", Proc, C, 1),
    ch("proc.rss_bytes", Proc, L, 2),
    ch("proc.vsize_bytes", Proc, L, 3),
    ch("proc.io_read_bytes", Proc, C, 4),
    ch("proc.io_write_bytes", Proc, C, 5),
    ch("proc.voluntary_ctxsw", Proc, C, 6),
    ch("proc.involuntary_ctxsw", Proc, C, 7),
    ch("proc.minor_faults", Proc, C, 8),
    ch("proc.major_faults", Proc, C, 9),
    ch("guest.cpu_user", Guest, C, 0),
    ch("guest.cpu_sys", Guest, C, 1),
    ch("guest.cpu_idle", Guest, C, 2),
    ch("guest.cpu_iowait", Guest, C, 3),
    ch("guest.cpu_softirq", Guest, C, 4),
    ch("guest.load_1m", Guest, L, 5),
    ch("guest.mem_available", Guest, L, 6),
    ch("guest.mem_buffers", Guest, L, 7),
    ch("guest.mem_cached", Guest, L, 8),
    ch("guest.swap_used", Guest, L, 9),
    ch("guest.eth0_rx_bytes", Guest, C, 10),
    ch("guest.eth0_tx_bytes", Guest, C, 11),
    ch("guest.eth0_rx_pkts", Guest, C, 12),
    ch("guest.eth0_tx_pkts", Guest, C, 13),
    ch("guest.n_listen_ports", Guest, L, 14),
    ch("guest.n_top_procs", Guest, L, 15),
    ch("qmp.virtio0_rd_ops", Qmp, C, 0),
    ch("qmp.virtio0_wr_ops", Qmp, C, 1),
    ch("qmp.virtio0_rd_bytes", Qmp, C, 2),
    ch("qmp.virtio0_wr_bytes", Qmp, C, 3),
    ch("qmp.kvm_tlb_flush", Qmp, C, 4),
    ch("qmp.kvm_pages_4k", Qmp, L, 5),
    ch("qmp.kvm_pages_2m", Qmp, L, 6),
    ch("netflow.pkts_in", Netflow, L, 0),
    ch("netflow.pkts_out", Netflow, L, 1),
    ch("netflow.bytes_in", Netflow, L, 2),
    ch("netflow.bytes_out", Netflow, L, 3),
    ch("netflow.syn_count", Netflow, L, 4),
    ch("netflow.fin_count", Netflow, L, 5),
    ch("netflow.rst_count", Netflow, L, 6),
    ch("netflow.udp_count", Netflow, L, 7),
    ch("netflow.tcp_count", Netflow, L, 8),
    ch("netflow.dns_query_count", Netflow, L, 9),
    ch("netflow.unique_dst_ips", Netflow, L, 10),
    ch("netflow.unique_dst_ports", Netflow, L, 11),
    ch("netflow.tcp_new_flows", Netflow, L, 12),
];

/// `<channel>.<stat>`, channel-major (230 names).
pub fn feature_names() -> Vec<String> {
    CHANNELS.iter().flat_map(|c| STATS.iter().map(move |s| format!("{}.{}", c.name, s))).collect()
}

/// Realistic mode: the deployed channels (29).
pub fn realistic_channel_mask() -> [bool; N_CHANNELS] {
    std::array::from_fn(|i| CHANNELS[i].deployed())
}

/// Realistic mode over the summary vector (145 of 230 true).
pub fn realistic_feature_mask() -> Vec<bool> {
    (0..N_FEATURES).map(|f| CHANNELS[f / N_STATS].deployed()).collect()
}

/// `{"channels":[{"name","source","kind","deployed"}...],"stats":[...],"features":[...]}`,
/// compact JSON, for the TypeScript side to check its copy of the registry against.
pub fn schema_json() -> String {
    let chans: Vec<serde_json::Value> = CHANNELS
        .iter()
        .map(|c| serde_json::json!({"name": c.name, "source": c.source.as_str(), "kind": c.kind.as_str(), "deployed": c.deployed()}))
        .collect();
    serde_json::json!({"channels": chans, "stats": STATS, "features": feature_names()}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_matches_decoded_columns() {
        let ep = DecodedEpisode::default();
        for c in &CHANNELS {
            let (src, col) = c.name.split_once('.').unwrap();
            assert_eq!(src, c.source.as_str());
            assert_eq!(c.source.table(&ep).names[c.column], col, "{}", c.name);
        }
        assert_eq!(CHANNELS.iter().filter(|c| c.deployed()).count(), 29);
        assert_eq!(realistic_feature_mask().iter().filter(|&&m| m).count(), 145);
        assert_eq!(feature_names().len(), 230);
        assert_eq!(feature_names()[0], "proc.cpu_user_jiffies.mean");
        assert_eq!(feature_names()[229], "netflow.tcp_new_flows.slope");
    }
}
