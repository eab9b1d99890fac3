//! Typed parsing of JSONL rows straight into columns (docs/inspection.md,
//! "JSONL rows"). No value trees: each member has a small hand-written
//! walker over the known fields; unknown fields are validated and skipped.
//!
//! Duplicate keys follow `JSON.parse` (the last one wins), so a field's
//! type problem is recorded per field and cleared when a later duplicate
//! replaces it; a row is judged only once the whole line is read.

use crate::json::{num_to_f64, Bad, Scanner, Val, R};
use crate::jstr::JsStr;
use crate::meta::Meta;

const NAN: f64 = f64::NAN;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Member {
    Meta,
    Labels,
    Events,
    Proc,
    Guest,
    Qmp,
    Netflow,
}

/// The six JSONL members in report order.
pub const JSONL_MEMBERS: [Member; 6] = [Member::Labels, Member::Events, Member::Proc, Member::Guest, Member::Qmp, Member::Netflow];

impl Member {
    pub fn file_name(self) -> &'static str {
        match self {
            Member::Meta => "meta.json",
            Member::Labels => "labels.jsonl",
            Member::Events => "events.jsonl",
            Member::Proc => "telemetry-proc.jsonl",
            Member::Guest => "telemetry-guest.jsonl",
            Member::Qmp => "telemetry-qmp.jsonl",
            Member::Netflow => "netflow.jsonl",
        }
    }

    /// Key in the report's `members` / `columns` objects.
    pub fn key(self) -> &'static str {
        match self {
            Member::Meta => "meta",
            Member::Labels => "labels",
            Member::Events => "events",
            Member::Proc => "proc",
            Member::Guest => "guest",
            Member::Qmp => "qmp",
            Member::Netflow => "netflow",
        }
    }

    pub fn from_base_name(name: &str) -> Option<Member> {
        [Member::Meta, Member::Labels, Member::Events, Member::Proc, Member::Guest, Member::Qmp, Member::Netflow]
            .into_iter()
            .find(|m| m.file_name() == name)
    }

    /// Index into JSONL_MEMBERS (Meta has none).
    pub fn jsonl_index(self) -> Option<usize> {
        JSONL_MEMBERS.iter().position(|&m| m == self)
    }
}

pub const PROC_FIELDS: [&str; 10] = [
    "cpu_user_jiffies",
    "cpu_sys_jiffies",
    "rss_bytes",
    "vsize_bytes",
    "io_read_bytes",
    "io_write_bytes",
    "voluntary_ctxsw",
    "involuntary_ctxsw",
    "minor_faults",
    "major_faults",
];

pub const GUEST_COLUMNS: [&str; 16] = [
    "cpu_user",
    "cpu_sys",
    "cpu_idle",
    "cpu_iowait",
    "cpu_softirq",
    "load_1m",
    "mem_available",
    "mem_buffers",
    "mem_cached",
    "swap_used",
    "eth0_rx_bytes",
    "eth0_tx_bytes",
    "eth0_rx_pkts",
    "eth0_tx_pkts",
    "n_listen_ports",
    "n_top_procs",
];

pub const QMP_COLUMNS: [&str; 8] = [
    "virtio0_rd_ops",
    "virtio0_wr_ops",
    "virtio0_rd_bytes",
    "virtio0_wr_bytes",
    "kvm_tlb_flush",
    "kvm_pages_4k",
    "kvm_pages_2m",
    "blk_total_bytes",
];

pub const NETFLOW_FIELDS: [&str; 13] = [
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
];

/// Numeric telemetry columns of one member, in row (file) order.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub names: &'static [&'static str],
    pub t_wall_ns: Vec<i64>,
    pub t_mono_ns: Vec<Option<i64>>,
    /// One column per name, same length as `t_wall_ns`.
    pub cols: Vec<Vec<f64>>,
}

impl Table {
    pub fn new(names: &'static [&'static str]) -> Self {
        Table { names, t_wall_ns: Vec::new(), t_mono_ns: Vec::new(), cols: vec![Vec::new(); names.len()] }
    }

    pub fn len(&self) -> usize {
        self.t_wall_ns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t_wall_ns.is_empty()
    }

    pub fn col(&self, name: &str) -> &[f64] {
        let i = self.names.iter().position(|n| *n == name).expect("unknown column");
        &self.cols[i]
    }

    fn push(&mut self, tw: i64, tm: Option<i64>, vals: &[f64]) {
        self.t_wall_ns.push(tw);
        self.t_mono_ns.push(tm);
        for (c, &v) in self.cols.iter_mut().zip(vals) {
            c.push(v);
        }
    }

    pub fn clear(&mut self) {
        self.t_wall_ns.clear();
        self.t_mono_ns.clear();
        for c in &mut self.cols {
            c.clear();
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub t_wall_ns: Vec<i64>,
    pub t_mono_ns: Vec<Option<i64>>,
    pub phase: Vec<JsStr>,
}

#[derive(Debug, Clone, Default)]
pub struct Events {
    pub t_wall_ns: Vec<i64>,
    pub t_mono_ns: Vec<Option<i64>>,
    pub event: Vec<JsStr>,
    pub phase: Vec<Option<JsStr>>,
    pub probe_yes: Vec<Option<JsStr>>,
}

/// Everything decoded from one episode: the typed columns per member, in
/// file order, for the feature stage.
#[derive(Debug, Clone)]
pub struct DecodedEpisode {
    pub meta: Option<Meta>,
    pub labels: Labels,
    pub events: Events,
    pub proc: Table,
    pub guest: Table,
    pub qmp: Table,
    pub netflow: Table,
}

impl Default for DecodedEpisode {
    fn default() -> Self {
        DecodedEpisode {
            meta: None,
            labels: Labels::default(),
            events: Events::default(),
            proc: Table::new(&PROC_FIELDS),
            guest: Table::new(&GUEST_COLUMNS),
            qmp: Table::new(&QMP_COLUMNS),
            netflow: Table::new(&NETFLOW_FIELDS),
        }
    }
}

impl DecodedEpisode {
    pub fn table(&self, m: Member) -> Option<&Table> {
        match m {
            Member::Proc => Some(&self.proc),
            Member::Guest => Some(&self.guest),
            Member::Qmp => Some(&self.qmp),
            Member::Netflow => Some(&self.netflow),
            _ => None,
        }
    }

    /// Forgets a member's rows (used when a fatal error interrupts it).
    pub fn clear_member(&mut self, m: Member) {
        match m {
            Member::Meta => self.meta = None,
            Member::Labels => self.labels = Labels::default(),
            Member::Events => self.events = Events::default(),
            Member::Proc => self.proc.clear(),
            Member::Guest => self.guest.clear(),
            Member::Qmp => self.qmp.clear(),
            Member::Netflow => self.netflow.clear(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowResult {
    Accepted,
    /// Invalid UTF-8/JSON, not an object, bad timestamp, wrong-typed field.
    Skipped,
    /// Valid JSON nested deeper than max_depth (skipped, with a finding).
    TooDeep,
}

#[derive(Clone, Copy)]
struct Dev {
    key: (u32, u32),
    vals: [f64; 4], // rd_ops, wr_ops, rd_bytes, wr_bytes
    bad: bool,
}

/// Reusable per-member-row parsing state (no per-row allocation).
pub struct RowParser {
    max_depth: u32,
    stack: Vec<u8>,
    s1: Vec<u8>,
    s2: Vec<u8>,
    s3: Vec<u8>,
    devs: Vec<Dev>,
    dev_names: Vec<u8>,
    order: Vec<usize>,
}

#[inline]
fn set(v: &mut [f64], bad: &mut u64, idx: usize, r: Val<f64>) {
    match r {
        Val::Some(x) => {
            v[idx] = x;
            *bad &= !(1 << idx);
        }
        Val::Null => {
            v[idx] = NAN;
            *bad &= !(1 << idx);
        }
        Val::Wrong => {
            v[idx] = NAN;
            *bad |= 1 << idx;
        }
    }
}

/// Lookup codes for flat members: a field index, or one of these.
const K_WALL: u8 = 200;
const K_MONO: u8 = 201;
const K_OTHER: u8 = 255;

// Key lookups as `match` on byte literals: LLVM turns these into a length
// switch plus inline fixed-size compares (a linear search over the name
// list with runtime lengths was the top cost of row parsing).
fn proc_key(k: &[u8]) -> u8 {
    match k {
        b"t_wall_ns" => K_WALL,
        b"t_mono_ns" => K_MONO,
        b"cpu_user_jiffies" => 0,
        b"cpu_sys_jiffies" => 1,
        b"rss_bytes" => 2,
        b"vsize_bytes" => 3,
        b"io_read_bytes" => 4,
        b"io_write_bytes" => 5,
        b"voluntary_ctxsw" => 6,
        b"involuntary_ctxsw" => 7,
        b"minor_faults" => 8,
        b"major_faults" => 9,
        _ => K_OTHER,
    }
}

fn netflow_key(k: &[u8]) -> u8 {
    match k {
        b"t_wall_ns" => K_WALL,
        b"t_mono_ns" => K_MONO,
        b"pkts_in" => 0,
        b"pkts_out" => 1,
        b"bytes_in" => 2,
        b"bytes_out" => 3,
        b"syn_count" => 4,
        b"fin_count" => 5,
        b"rst_count" => 6,
        b"udp_count" => 7,
        b"tcp_count" => 8,
        b"dns_query_count" => 9,
        b"unique_dst_ips" => 10,
        b"unique_dst_ports" => 11,
        b"tcp_new_flows" => 12,
        _ => K_OTHER,
    }
}

/// A JS "array index" key (canonical decimal <= 2^32 - 2): such keys come
/// first, ascending, when JavaScript enumerates an object's properties.
fn array_index(key: &[u8]) -> Option<u64> {
    if key.is_empty() || key.len() > 10 || (key.len() > 1 && key[0] == b'0') || !key.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u64 = key.iter().fold(0, |a, &c| a * 10 + (c - b'0') as u64);
    (v <= 4_294_967_294).then_some(v)
}

impl RowParser {
    pub fn new(max_depth: u32) -> Self {
        RowParser {
            max_depth,
            stack: Vec::new(),
            s1: Vec::new(),
            s2: Vec::new(),
            s3: Vec::new(),
            devs: Vec::new(),
            dev_names: Vec::new(),
            order: Vec::new(),
        }
    }

    /// Parses one row (blank lines already removed) of member `m` and, when
    /// it is accepted, appends it to `ep`.
    pub fn parse_row(&mut self, m: Member, line: &[u8], ep: &mut DecodedEpisode) -> RowResult {
        if std::str::from_utf8(line).is_err() {
            return RowResult::Skipped;
        }
        let RowParser { max_depth, stack, s1, s2, s3, devs, dev_names, order } = self;
        let mut sc = Scanner::new(line, *max_depth, stack);
        sc.ws();
        let mut tw: Val<i64> = Val::Null;
        let mut tm: Val<i64> = Val::Null;
        if sc.peek() != b'{' {
            // Valid-but-deep beats not-an-object (see Decisions).
            let ok = sc.skip_value(0).is_ok() && sc.at_end();
            return if ok && sc.too_deep { RowResult::TooDeep } else { RowResult::Skipped };
        }
        let mut vals = [NAN; 16];
        let mut present = (false, false); // events: (phase, probe yes) are strings
        let res: R<bool> = match m {
            Member::Proc => flat(&mut sc, proc_key, &mut vals, &mut tw, &mut tm),
            Member::Netflow => flat(&mut sc, netflow_key, &mut vals, &mut tw, &mut tm),
            Member::Guest => guest(&mut sc, &mut vals, &mut tw, &mut tm),
            Member::Qmp => qmp(&mut sc, &mut vals, &mut tw, &mut tm, devs, dev_names, order),
            Member::Labels => labels(&mut sc, &mut tw, &mut tm, s1),
            Member::Events => events(&mut sc, &mut tw, &mut tm, s1, s2, s3, &mut present),
            Member::Meta => Err(Bad),
        };
        let types_ok = match res {
            Ok(ok) if sc.at_end() => ok,
            _ => return RowResult::Skipped,
        };
        if sc.too_deep {
            return RowResult::TooDeep;
        }
        let (tw, tm) = match (tw, tm) {
            (Val::Some(w), Val::Some(m)) => (w, Some(m)),
            (Val::Some(w), Val::Null) => (w, None),
            _ => return RowResult::Skipped,
        };
        if !types_ok {
            return RowResult::Skipped;
        }
        match m {
            Member::Proc => ep.proc.push(tw, tm, &vals),
            Member::Netflow => ep.netflow.push(tw, tm, &vals),
            Member::Guest => ep.guest.push(tw, tm, &vals),
            Member::Qmp => ep.qmp.push(tw, tm, &vals),
            Member::Labels => {
                ep.labels.t_wall_ns.push(tw);
                ep.labels.t_mono_ns.push(tm);
                ep.labels.phase.push(JsStr(s1.clone()));
            }
            Member::Events => {
                ep.events.t_wall_ns.push(tw);
                ep.events.t_mono_ns.push(tm);
                ep.events.event.push(JsStr(s1.clone()));
                ep.events.phase.push(present.0.then(|| JsStr(s2.clone())));
                ep.events.probe_yes.push(present.1.then(|| JsStr(s3.clone())));
            }
            Member::Meta => {}
        }
        RowResult::Accepted
    }
}

#[inline]
fn timestamp(sc: &mut Scanner<'_, '_>, key: &[u8], tw: &mut Val<i64>, tm: &mut Val<i64>) -> R<bool> {
    match key {
        b"t_wall_ns" => *tw = sc.i64_or_null(1)?,
        b"t_mono_ns" => *tm = sc.i64_or_null(1)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// proc / netflow: a flat object of numbers.
fn flat(sc: &mut Scanner<'_, '_>, lookup: impl Fn(&[u8]) -> u8, v: &mut [f64; 16], tw: &mut Val<i64>, tm: &mut Val<i64>) -> R<bool> {
    let mut bad = 0u64;
    sc.object(0, |sc, k| {
        match lookup(&k.name()) {
            K_WALL => *tw = sc.i64_or_null(1)?,
            K_MONO => *tm = sc.i64_or_null(1)?,
            K_OTHER => sc.skip_value(1)?,
            i => {
                let r = sc.f64_or_null(1)?;
                set(v, &mut bad, i as usize, r);
            }
        }
        Ok(())
    })?;
    Ok(bad == 0)
}

/// Length of an array value (elements validated, not kept).
fn array_len(sc: &mut Scanner<'_, '_>, d: u32) -> R<usize> {
    let mut n = 0;
    sc.array(d, |sc, _| {
        n += 1;
        sc.skip_value(d + 1)
    })?;
    Ok(n)
}

/// Reads an optional nested object: `{` -> walk with `f`, `null` -> nothing,
/// other -> returns false (wrong type).
fn sub_object<'a>(sc: &mut Scanner<'a, '_>, d: u32, f: impl FnMut(&mut Scanner<'a, '_>, crate::json::Key<'a>) -> R<()>) -> R<bool> {
    if sc.peek() == b'{' {
        sc.object(d, f)?;
        Ok(true)
    } else {
        Ok(!sc.null_or_wrong(d)?.is_wrong())
    }
}

const G_CPU: u64 = 1 << 20;
const G_NET: u64 = 1 << 21;
const G_ETH0: u64 = 1 << 22;

fn guest(sc: &mut Scanner<'_, '_>, v: &mut [f64; 16], tw: &mut Val<i64>, tm: &mut Val<i64>) -> R<bool> {
    let mut bad = 0u64;
    sc.object(0, |sc, k| {
        let name = k.name();
        match &*name {
            b"cpu_total_jiffies" => {
                v[0..5].fill(NAN);
                bad &= !(0x1F | G_CPU);
                let ok = sub_object(sc, 1, |sc, k| {
                    let i = match &*k.name() {
                        b"user" => 0,
                        b"system" => 1,
                        b"idle" => 2,
                        b"iowait" => 3,
                        b"softirq" => 4,
                        _ => return sc.skip_value(2),
                    };
                    let r = sc.f64_or_null(2)?;
                    set(v, &mut bad, i, r);
                    Ok(())
                })?;
                if !ok {
                    bad |= G_CPU;
                }
            }
            b"load_1m_5m_15m" => {
                v[5] = NAN;
                bad &= !(1 << 5);
                if sc.peek() == b'[' {
                    let mut first = NAN;
                    let mut all_numbers = true;
                    sc.array(1, |sc, i| {
                        if matches!(sc.peek(), b'-' | b'0'..=b'9') {
                            let t = sc.number()?;
                            if i == 0 {
                                first = num_to_f64(t.text);
                            }
                        } else {
                            sc.skip_value(2)?;
                            all_numbers = false;
                        }
                        Ok(())
                    })?;
                    if all_numbers {
                        v[5] = first;
                    } else {
                        bad |= 1 << 5;
                    }
                } else if sc.null_or_wrong(1)?.is_wrong() {
                    bad |= 1 << 5;
                }
            }
            b"mem_available_bytes" => {
                let r = sc.f64_or_null(1)?;
                set(v, &mut bad, 6, r)
            }
            b"mem_buffers_bytes" => {
                let r = sc.f64_or_null(1)?;
                set(v, &mut bad, 7, r)
            }
            b"mem_cached_bytes" => {
                let r = sc.f64_or_null(1)?;
                set(v, &mut bad, 8, r)
            }
            b"swap_used_bytes" => {
                let r = sc.f64_or_null(1)?;
                set(v, &mut bad, 9, r)
            }
            b"net" => {
                v[10..14].fill(NAN);
                bad &= !((0xF << 10) | G_NET | G_ETH0);
                let ok = sub_object(sc, 1, |sc, k| {
                    if &*k.name() != b"eth0" {
                        return sc.skip_value(2);
                    }
                    v[10..14].fill(NAN);
                    bad &= !((0xF << 10) | G_ETH0);
                    let ok = sub_object(sc, 2, |sc, k| {
                        let i = match &*k.name() {
                            b"rx_bytes" => 10,
                            b"tx_bytes" => 11,
                            b"rx_pkts" => 12,
                            b"tx_pkts" => 13,
                            _ => return sc.skip_value(3),
                        };
                        let r = sc.f64_or_null(3)?;
                        set(v, &mut bad, i, r);
                        Ok(())
                    })?;
                    if !ok {
                        bad |= G_ETH0;
                    }
                    Ok(())
                })?;
                if !ok {
                    bad |= G_NET;
                }
            }
            b"listen_ports" | b"top_procs" => {
                let i = if &*name == b"listen_ports" { 14 } else { 15 };
                if sc.peek() == b'[' {
                    let n = array_len(sc, 1)?;
                    set(v, &mut bad, i, Val::Some(n as f64));
                } else {
                    let r = sc.null_or_wrong(1)?;
                    set(v, &mut bad, i, if r.is_wrong() { Val::Wrong } else { Val::Null });
                }
            }
            other => {
                if !timestamp(sc, other, tw, tm)? {
                    sc.skip_value(1)?;
                }
            }
        }
        Ok(())
    })?;
    Ok(bad == 0)
}

const Q_BLOCK: u64 = 1 << 20;
const Q_KVM: u64 = 1 << 21;

fn qmp(
    sc: &mut Scanner<'_, '_>,
    v: &mut [f64; 16],
    tw: &mut Val<i64>,
    tm: &mut Val<i64>,
    devs: &mut Vec<Dev>,
    names: &mut Vec<u8>,
    order: &mut Vec<usize>,
) -> R<bool> {
    let mut bad = 0u64;
    devs.clear();
    names.clear();
    sc.object(0, |sc, k| {
        let name = k.name();
        match &*name {
            b"blockstats" => {
                devs.clear();
                names.clear();
                bad &= !Q_BLOCK;
                let ok = sub_object(sc, 1, |sc, k| {
                    let key = k.name();
                    let mut d = Dev { key: (0, 0), vals: [NAN; 4], bad: false };
                    if sc.peek() == b'{' {
                        let mut dbad = 0u64;
                        sc.object(2, |sc, k| {
                            let i = match &*k.name() {
                                b"rd_ops" => 0,
                                b"wr_ops" => 1,
                                b"rd_bytes" => 2,
                                b"wr_bytes" => 3,
                                _ => return sc.skip_value(3),
                            };
                            let r = sc.f64_or_null(3)?;
                            set(&mut d.vals, &mut dbad, i, r);
                            Ok(())
                        })?;
                        d.bad = dbad != 0;
                    } else {
                        sc.skip_value(2)?;
                        d.bad = true;
                    }
                    // Duplicate device keys: last value, first position (JS).
                    let found = devs.iter_mut().find(|e| names[e.key.0 as usize..e.key.1 as usize] == *key);
                    match found {
                        Some(e) => {
                            e.vals = d.vals;
                            e.bad = d.bad;
                        }
                        None => {
                            d.key = (names.len() as u32, (names.len() + key.len()) as u32);
                            names.extend_from_slice(&key);
                            devs.push(d);
                        }
                    }
                    Ok(())
                })?;
                if !ok {
                    bad |= Q_BLOCK;
                }
            }
            b"kvm_stats" => {
                v[4..7].fill(NAN);
                bad &= !((0x7 << 4) | Q_KVM);
                let ok = sub_object(sc, 1, |sc, k| {
                    let i = match &*k.name() {
                        b"remote_tlb_flush" => 4,
                        b"pages_4k" => 5,
                        b"pages_2m" => 6,
                        _ => return sc.skip_value(2),
                    };
                    let r = sc.f64_or_null(2)?;
                    set(v, &mut bad, i, r);
                    Ok(())
                })?;
                if !ok {
                    bad |= Q_KVM;
                }
            }
            other => {
                if !timestamp(sc, other, tw, tm)? {
                    sc.skip_value(1)?;
                }
            }
        }
        Ok(())
    })?;
    if devs.iter().any(|d| d.bad) {
        return Ok(false);
    }
    v[0..4].fill(NAN);
    v[7] = NAN;
    if let Some(d) = devs.iter().find(|d| &names[d.key.0 as usize..d.key.1 as usize] == b"virtio0") {
        v[0..4].copy_from_slice(&d.vals);
    }
    if !devs.is_empty() {
        // Sum in the order JavaScript enumerates the object's keys.
        order.clear();
        order.extend(0..devs.len());
        let key_of = |i: usize| {
            let d = &devs[i];
            match array_index(&names[d.key.0 as usize..d.key.1 as usize]) {
                Some(ix) => (0u8, ix),
                None => (1u8, i as u64),
            }
        };
        order.sort_by_key(|&i| key_of(i));
        let mut total = 0.0;
        for &i in order.iter() {
            let [_, _, rd, wr] = devs[i].vals;
            if rd.is_finite() {
                total += rd;
            }
            if wr.is_finite() {
                total += wr;
            }
        }
        v[7] = total;
    }
    Ok(bad == 0)
}

fn labels(sc: &mut Scanner<'_, '_>, tw: &mut Val<i64>, tm: &mut Val<i64>, phase: &mut Vec<u8>) -> R<bool> {
    let mut ph: Val<()> = Val::Null;
    sc.object(0, |sc, k| {
        let name = k.name();
        if &*name == b"phase" {
            ph = sc.str_or_null(1, phase)?;
        } else if !timestamp(sc, &name, tw, tm)? {
            sc.skip_value(1)?;
        }
        Ok(())
    })?;
    Ok(matches!(ph, Val::Some(())))
}

/// Events: `event` required string; `phase`, `pre_kill_probe.yes` optional
/// strings (whether each is a string comes back in `present`).
fn events(
    sc: &mut Scanner<'_, '_>,
    tw: &mut Val<i64>,
    tm: &mut Val<i64>,
    event: &mut Vec<u8>,
    phase: &mut Vec<u8>,
    yes: &mut Vec<u8>,
    present: &mut (bool, bool),
) -> R<bool> {
    let mut ev: Val<()> = Val::Null;
    let mut ph: Val<()> = Val::Null;
    let mut y: Val<()> = Val::Null;
    let mut probe_bad = false;
    sc.object(0, |sc, k| {
        let name = k.name();
        match &*name {
            b"event" => ev = sc.str_or_null(1, event)?,
            b"phase" => ph = sc.str_or_null(1, phase)?,
            b"pre_kill_probe" => {
                y = Val::Null;
                let ok = sub_object(sc, 1, |sc, k| {
                    if &*k.name() == b"yes" {
                        y = sc.str_or_null(2, yes)?;
                        Ok(())
                    } else {
                        sc.skip_value(2)
                    }
                })?;
                probe_bad = !ok;
            }
            other => {
                if !timestamp(sc, other, tw, tm)? {
                    sc.skip_value(1)?; // `error` and unknown fields: any valid JSON
                }
            }
        }
        Ok(())
    })?;
    *present = (matches!(ph, Val::Some(())), matches!(y, Val::Some(())));
    Ok(matches!(ev, Val::Some(())) && !ph.is_wrong() && !y.is_wrong() && !probe_bad)
}
