//! Shared test/bench helpers: tar building with full control over names and
//! entry types (hostile archives), and a realistic synthetic episode.
#![allow(dead_code)]

use std::fmt::Write;

pub struct TEntry {
    pub name: String,
    pub typeflag: u8,
    pub data: Vec<u8>,
    /// Declared size when it must differ from data.len().
    pub size: Option<u64>,
}

pub fn file(name: &str, data: impl Into<Vec<u8>>) -> TEntry {
    TEntry { name: name.into(), typeflag: b'0', data: data.into(), size: None }
}

pub fn special(name: &str, typeflag: u8) -> TEntry {
    TEntry { name: name.into(), typeflag, data: Vec::new(), size: None }
}

/// One well-formed pax record, `"<len> <key>=<value>\n"`.
pub fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let mut body = format!(" {key}=").into_bytes();
    body.extend_from_slice(value);
    body.push(b'\n');
    let mut n = body.len() + 1;
    while n.to_string().len() + body.len() != n {
        n += 1;
    }
    [n.to_string().into_bytes(), body].concat()
}

/// A pax extended header entry ('x' or 'g') holding these records.
pub fn pax(typeflag: u8, records: &[(&str, &str)]) -> TEntry {
    let data = records.iter().flat_map(|(k, v)| pax_record(k, v.as_bytes())).collect();
    TEntry { name: "./PaxHeaders/e".into(), typeflag, data, size: None }
}

/// A pax header entry with raw (possibly malformed) data.
pub fn pax_raw(typeflag: u8, data: &[u8]) -> TEntry {
    TEntry { name: "./PaxHeaders/e".into(), typeflag, data: data.to_vec(), size: None }
}

/// A ustar tar built with `tar::Builder`, the header name written raw so
/// that unsafe names (`../x`, `/etc/passwd`) survive.
pub fn tar_of(entries: &[TEntry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        let name = e.name.as_bytes();
        assert!(name.len() <= 100, "use tar_long for long names");
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_mode(0o644);
        h.set_size(e.size.unwrap_or(e.data.len() as u64));
        h.set_entry_type(tar::EntryType::new(e.typeflag));
        if e.typeflag == b'2' || e.typeflag == b'1' {
            h.set_link_name("target").unwrap();
        }
        h.set_cksum();
        b.append(&h, &e.data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

/// GNU-format tar via `append_data`, which writes `././@LongLink` records
/// for names over 100 bytes.
pub fn tar_gnu(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn zst(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

pub const T0: i64 = 1_775_124_672_000_000_000;

/// Phase boundaries (seconds) of the synthetic episode.
pub const PHASES: [(f64, &str); 5] =
    [(0.0, "clean"), (5.0, "armed"), (10.0, "infecting"), (15.0, "infected_running"), (45.0, "dormant")];

fn phase_at(t: f64) -> usize {
    PHASES.iter().rposition(|p| p.0 <= t).unwrap_or(0)
}

/// A deterministic pseudo-random stream (no rand dependency needed).
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 31) as f64
    }
}

/// Members of a realistic ~50 s episode: ~500 proc rows (10 Hz), 50 guest,
/// 100 qmp, 50 netflow, as `JSON.stringify` would write them. The workload
/// is a miner: CPU and load jump in `infected_running`.
pub fn realistic_members(seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut rng = Lcg(seed);
    let ep = format!("ep-{seed:06}");
    let mut out = Vec::new();
    let meta = format!(
        r#"{{"schema_version":1,"episode_id":"{ep}","host_id":"elliott-thinkpad","started_at":"2026-04-02T10:11:12Z","sample":{{"name":"xmrig-6.21","kind":"miner","profile":"cpu-saturate"}},"exploit":{{"module_name":"ssh-weak-cred"}},"fleet":{{"slot":3,"parallel_slots":14}},"result":{{"duration_observed_s":52.4,"outcome":"completed"}}}}"#
    );
    out.push((format!("{ep}/meta.json"), meta.into_bytes()));

    let mut labels = String::new();
    for (t, p) in PHASES {
        let ns = (t * 1e9) as i64;
        writeln!(labels, r#"{{"t_mono_ns":{ns},"t_wall_ns":{},"phase":"{p}"}}"#, T0 + ns).unwrap();
    }
    out.push((format!("{ep}/labels.jsonl"), labels.into_bytes()));

    let mut events = String::new();
    writeln!(events, r#"{{"t_mono_ns":15000000000,"t_wall_ns":{},"event":"workload_started","phase":"infected_running"}}"#, T0 + 15_000_000_000).unwrap();
    writeln!(events, r#"{{"t_mono_ns":46000000000,"t_wall_ns":{},"event":"workload_killed","phase":"dormant","pre_kill_probe":{{"yes":"1"}}}}"#, T0 + 46_000_000_000).unwrap();
    out.push((format!("{ep}/events.jsonl"), events.into_bytes()));

    let mut proc = String::new();
    let (mut user, mut sys, mut io_r, mut io_w, mut vcs, mut ivcs, mut minf) = (1000.0f64, 400.0f64, 0u64, 0u64, 0u64, 0u64, 0u64);
    for k in 0..520 {
        let t = k as f64 * 0.1;
        let ns = (t * 1e9) as i64 + (rng.next() % 2_000_000) as i64;
        let busy = phase_at(t) == 3;
        user += if busy { 9.0 + rng.unit() } else { 0.3 * rng.unit() };
        sys += 0.2 * rng.unit();
        io_r += rng.next() % 4096;
        io_w += rng.next() % 8192;
        vcs += rng.next() % 50;
        ivcs += rng.next() % 10;
        minf += rng.next() % 100;
        writeln!(
            proc,
            r#"{{"t_mono_ns":{},"t_wall_ns":{},"pid":41237,"cpu_user_jiffies":{},"cpu_sys_jiffies":{},"rss_bytes":{},"vsize_bytes":{},"io_read_bytes":{},"io_write_bytes":{},"voluntary_ctxsw":{},"involuntary_ctxsw":{},"minor_faults":{},"major_faults":{}}}"#,
            ns + 123_456_789_000,
            T0 + ns,
            user.floor(),
            sys.floor(),
            1_073_741_824u64 + rng.next() % 1_000_000,
            3_221_225_472u64,
            io_r,
            io_w,
            vcs,
            ivcs,
            minf,
            rng.next() % 3
        )
        .unwrap();
    }
    out.push((format!("{ep}/telemetry-proc.jsonl"), proc.into_bytes()));

    let mut guest = String::new();
    let mut gu = 5000.0;
    for k in 0..52 {
        let t = k as f64;
        let ns = (t * 1e9) as i64 + 500_000;
        let busy = phase_at(t) == 3;
        gu += if busy { 98.0 } else { 2.0 };
        let load = if busy { 0.9 + 0.1 * rng.unit() } else { 0.05 * rng.unit() };
        writeln!(
            guest,
            r#"{{"t_mono_ns":{ns},"t_wall_ns":{},"cpu_total_jiffies":{{"user":{gu},"system":{},"idle":{},"iowait":{},"softirq":{}}},"load_1m_5m_15m":[{:.2},{:.2},{:.2}],"mem_available_bytes":{},"mem_buffers_bytes":{},"mem_cached_bytes":{},"swap_used_bytes":0,"net":{{"eth0":{{"rx_bytes":{},"tx_bytes":{},"rx_pkts":{},"tx_pkts":{}}},"lo":{{"rx_bytes":0,"tx_bytes":0,"rx_pkts":0,"tx_pkts":0}}}},"listen_ports":[22,80],"top_procs":[{{"pid":1,"comm":"init","cpu_pct":0.1}},{{"pid":812,"comm":"xmrig","cpu_pct":97.5}}]}}"#,
            T0 + ns,
            k * 3,
            10000 + k * 50,
            k,
            k / 2,
            load,
            load * 0.8,
            load * 0.5,
            800_000_000 - k * 1000,
            50_000_000,
            300_000_000,
            k * 1500,
            k * 900,
            k * 12,
            k * 9
        )
        .unwrap();
    }
    out.push((format!("{ep}/telemetry-guest.jsonl"), guest.into_bytes()));

    let mut qmp = String::new();
    let (mut rd, mut wr) = (0u64, 0u64);
    for k in 0..104 {
        let t = k as f64 * 0.5;
        let ns = (t * 1e9) as i64 + 250_000;
        rd += rng.next() % 8192;
        wr += rng.next() % 16384;
        writeln!(
            qmp,
            r#"{{"t_mono_ns":{ns},"t_wall_ns":{},"blockstats":{{"virtio0":{{"rd_ops":{},"wr_ops":{},"rd_bytes":{rd},"wr_bytes":{wr}}}}},"kvm_stats":{{"remote_tlb_flush":{},"pages_4k":{},"pages_2m":{}}}}}"#,
            T0 + ns,
            rd / 4096,
            wr / 4096,
            k * 7,
            250_000 + k,
            512
        )
        .unwrap();
    }
    out.push((format!("{ep}/telemetry-qmp.jsonl"), qmp.into_bytes()));

    let mut nf = String::new();
    for k in 0..52 {
        let ns = k as i64 * 1_000_000_000;
        writeln!(
            nf,
            r#"{{"t_mono_ns":{},"t_wall_ns":{},"pkts_in":{},"pkts_out":{},"bytes_in":{},"bytes_out":{},"syn_count":{},"fin_count":{},"rst_count":0,"udp_count":{},"tcp_count":{},"dns_query_count":{},"unique_dst_ips":{},"unique_dst_ports":{},"tcp_new_flows":{}}}"#,
            987_654_000_000_000i64 + ns,
            T0 + ns,
            rng.next() % 40,
            rng.next() % 40,
            rng.next() % 6000,
            rng.next() % 6000,
            rng.next() % 3,
            rng.next() % 3,
            rng.next() % 5,
            rng.next() % 9,
            rng.next() % 2,
            rng.next() % 4,
            rng.next() % 4,
            rng.next() % 2
        )
        .unwrap();
    }
    out.push((format!("{ep}/netflow.jsonl"), nf.into_bytes()));
    out
}

pub fn realistic_tar(seed: u64) -> Vec<u8> {
    let entries: Vec<TEntry> = realistic_members(seed).into_iter().map(|(n, d)| file(&n, d)).collect();
    tar_of(&entries)
}

pub fn realistic_episode(seed: u64) -> Vec<u8> {
    zst(&realistic_tar(seed))
}
