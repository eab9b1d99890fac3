//! The inspection report and its JSON form (key order as in docs/inspection.md).

use crate::jstr::{write_json_str, JsStr};
use crate::meta::Meta;
use crate::parse::{DecodedEpisode, Table, JSONL_MEMBERS};
use crate::signals::Signal;
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    /// The raw tar name of the entry (GNU long name when present).
    pub member: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemberStats {
    pub present: bool,
    pub rows: u64,
    pub skipped: u64,
    /// Declared tar size.
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabelSummary {
    pub count: u64,
    pub monotonic: bool,
    pub unknown_phases: Vec<JsStr>,
    pub phases: Vec<i8>,
    pub t0_wall_ns: Option<i64>,
}

impl Default for LabelSummary {
    fn default() -> Self {
        LabelSummary { count: 0, monotonic: true, unknown_phases: Vec::new(), phases: Vec::new(), t0_wall_ns: None }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventSummary {
    pub workload_events: u64,
    pub workload_failed: bool,
    pub killed_dormant_probe_zero: bool,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub size_bytes: u64,
    pub sha256: String,
    pub io_error: Option<String>,
    pub fatal: Option<&'static str>,
    pub fatal_detail: Option<String>,
    pub findings: Vec<Finding>,
    pub meta_present: bool,
    pub meta_error: Option<&'static str>,
    pub meta: Option<Meta>,
    /// In JSONL_MEMBERS order: labels, events, proc, guest, qmp, netflow.
    pub members: [MemberStats; 6],
    pub labels: LabelSummary,
    pub duration_s: Option<f64>,
    pub proc_span_s: f64,
    pub events: EventSummary,
    /// proc, netflow, qmp, guest.
    pub signals: [Signal; 4],
    pub columns: Option<DecodedEpisode>,
}

impl Default for Report {
    fn default() -> Self {
        Report {
            size_bytes: 0,
            sha256: String::new(),
            io_error: None,
            fatal: None,
            fatal_detail: None,
            findings: Vec::new(),
            meta_present: false,
            meta_error: None,
            meta: None,
            members: [MemberStats::default(); 6],
            labels: LabelSummary::default(),
            duration_s: None,
            proc_span_s: 0.0,
            events: EventSummary::default(),
            signals: [Signal::UNKNOWN; 4],
            columns: None,
        }
    }
}

pub const SIGNAL_KEYS: [&str; 4] = ["proc", "netflow", "qmp", "guest"];

/// A double as JSON such that `JSON.parse` gives the same value, and
/// written as `JSON.stringify` would see it: non-finite -> null, -0 -> 0.
pub fn write_f64(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str("null");
    } else if x == 0.0 {
        out.push('0');
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        let _ = write!(out, "{}", x as i64);
    } else {
        // Debug is the shortest round-trip form, with an exponent when
        // large/small (e.g. 1e21, 1.5e-7): valid JSON either way.
        let _ = write!(out, "{:?}", x);
    }
}

fn write_opt_f64(out: &mut String, x: Option<f64>) {
    match x {
        Some(v) => write_f64(out, v),
        None => out.push_str("null"),
    }
}

fn write_opt_str(out: &mut String, s: &Option<JsStr>) {
    match s {
        Some(s) => s.write_json(out),
        None => out.push_str("null"),
    }
}

fn write_opt_string(out: &mut String, s: &Option<String>) {
    match s {
        Some(s) => write_json_str(out, s),
        None => out.push_str("null"),
    }
}

fn write_bool(out: &mut String, b: bool) {
    out.push_str(if b { "true" } else { "false" });
}

impl Report {
    pub fn to_json(&self) -> String {
        let mut o = String::with_capacity(2048);
        let _ = write!(o, "{{\"size_bytes\":{},\"sha256\":", self.size_bytes);
        write_json_str(&mut o, &self.sha256);
        o.push_str(",\"io_error\":");
        write_opt_string(&mut o, &self.io_error);
        o.push_str(",\"fatal\":");
        write_opt_string(&mut o, &self.fatal.map(String::from));
        o.push_str(",\"fatal_detail\":");
        write_opt_string(&mut o, &self.fatal_detail);
        o.push_str(",\"findings\":[");
        for (i, f) in self.findings.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            o.push_str("{\"code\":");
            write_json_str(&mut o, f.code);
            o.push_str(",\"member\":");
            write_json_str(&mut o, &f.member);
            o.push('}');
        }
        o.push_str("],\"meta_present\":");
        write_bool(&mut o, self.meta_present);
        o.push_str(",\"meta_error\":");
        write_opt_string(&mut o, &self.meta_error.map(String::from));
        o.push_str(",\"meta\":");
        match &self.meta {
            None => o.push_str("null"),
            Some(m) => {
                o.push_str("{\"schema_version\":");
                write_opt_f64(&mut o, m.schema_version);
                o.push_str(",\"episode_id\":");
                write_opt_str(&mut o, &m.episode_id);
                o.push_str(",\"host_id\":");
                write_opt_str(&mut o, &m.host_id);
                o.push_str(",\"started_at\":");
                write_opt_str(&mut o, &m.started_at);
                o.push_str(",\"sample_present\":");
                write_bool(&mut o, m.sample_present);
                o.push_str(",\"sample_name\":");
                write_opt_str(&mut o, &m.sample_name);
                o.push_str(",\"sample_kind\":");
                write_opt_str(&mut o, &m.sample_kind);
                o.push_str(",\"profile\":");
                write_opt_str(&mut o, &m.profile);
                o.push_str(",\"module_name\":");
                write_opt_str(&mut o, &m.module_name);
                o.push_str(",\"duration_observed_s\":");
                write_opt_f64(&mut o, m.duration_observed_s);
                o.push_str(",\"outcome\":");
                write_opt_str(&mut o, &m.outcome);
                o.push('}');
            }
        }
        o.push_str(",\"members\":{");
        for (i, (m, s)) in JSONL_MEMBERS.iter().zip(&self.members).enumerate() {
            if i > 0 {
                o.push(',');
            }
            let _ = write!(
                o,
                "\"{}\":{{\"present\":{},\"rows\":{},\"skipped\":{},\"bytes\":{}}}",
                m.key(),
                s.present,
                s.rows,
                s.skipped,
                s.bytes
            );
        }
        let l = &self.labels;
        let _ = write!(o, "}},\"labels\":{{\"count\":{},\"monotonic\":{},\"unknown_phases\":[", l.count, l.monotonic);
        for (i, p) in l.unknown_phases.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            p.write_json(&mut o);
        }
        o.push_str("],\"phases\":[");
        for (i, p) in l.phases.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            let _ = write!(o, "{p}");
        }
        o.push_str("],\"t0_wall_ns\":");
        match l.t0_wall_ns {
            Some(t) => {
                let _ = write!(o, "\"{t}\"");
            }
            None => o.push_str("null"),
        }
        o.push_str("},\"duration_s\":");
        write_opt_f64(&mut o, self.duration_s);
        o.push_str(",\"proc_span_s\":");
        write_f64(&mut o, self.proc_span_s);
        let e = &self.events;
        let _ = write!(
            o,
            ",\"events\":{{\"workload_events\":{},\"workload_failed\":{},\"killed_dormant_probe_zero\":{}}},\"signals\":{{",
            e.workload_events, e.workload_failed, e.killed_dormant_probe_zero
        );
        for (i, (k, s)) in SIGNAL_KEYS.iter().zip(&self.signals).enumerate() {
            if i > 0 {
                o.push(',');
            }
            let _ = write!(o, "\"{k}\":{{\"verdict\":\"{}\",\"spread\":", s.verdict.as_str());
            write_opt_f64(&mut o, s.spread);
            o.push('}');
        }
        o.push_str("},\"columns\":");
        match &self.columns {
            None => o.push_str("null"),
            Some(ep) => write_columns(&mut o, ep),
        }
        o.push('}');
        o
    }
}

fn write_ts(o: &mut String, wall: &[i64], mono: &[Option<i64>]) {
    o.push_str("\"t_wall_ns\":[");
    for (i, t) in wall.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(o, "\"{t}\"");
    }
    o.push_str("],\"t_mono_ns\":[");
    for (i, t) in mono.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        match t {
            Some(t) => {
                let _ = write!(o, "\"{t}\"");
            }
            None => o.push_str("null"),
        }
    }
    o.push(']');
}

fn write_strs<'a>(o: &mut String, name: &str, v: impl Iterator<Item = Option<&'a JsStr>>) {
    let _ = write!(o, ",\"{name}\":[");
    for (i, s) in v.enumerate() {
        if i > 0 {
            o.push(',');
        }
        match s {
            Some(s) => s.write_json(o),
            None => o.push_str("null"),
        }
    }
    o.push(']');
}

fn write_table(o: &mut String, t: &Table) {
    o.push('{');
    write_ts(o, &t.t_wall_ns, &t.t_mono_ns);
    for (name, col) in t.names.iter().zip(&t.cols) {
        let _ = write!(o, ",\"{name}\":[");
        for (i, &x) in col.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            write_f64(o, x);
        }
        o.push(']');
    }
    o.push('}');
}

fn write_columns(o: &mut String, ep: &DecodedEpisode) {
    o.push_str("{\"labels\":{");
    write_ts(o, &ep.labels.t_wall_ns, &ep.labels.t_mono_ns);
    write_strs(o, "phase", ep.labels.phase.iter().map(Some));
    o.push_str("},\"events\":{");
    write_ts(o, &ep.events.t_wall_ns, &ep.events.t_mono_ns);
    write_strs(o, "event", ep.events.event.iter().map(Some));
    write_strs(o, "phase", ep.events.phase.iter().map(Option::as_ref));
    write_strs(o, "probe_yes", ep.events.probe_yes.iter().map(Option::as_ref));
    o.push_str("},\"proc\":");
    write_table(o, &ep.proc);
    o.push_str(",\"guest\":");
    write_table(o, &ep.guest);
    o.push_str(",\"qmp\":");
    write_table(o, &ep.qmp);
    o.push_str(",\"netflow\":");
    write_table(o, &ep.netflow);
    o.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_parse_back() {
        for x in [0.1, -0.0, 1e21, 1.5e-7, 52.4, 1e15, 123456789.0, 5e-324, f64::MAX, 9007199254740993.0] {
            let mut s = String::new();
            write_f64(&mut s, x);
            let back: f64 = s.parse().unwrap();
            assert_eq!(back, x, "{s}");
        }
        let mut s = String::new();
        write_f64(&mut s, -0.0);
        assert_eq!(s, "0");
    }

    #[test]
    fn default_report_is_valid_json() {
        let r = Report::default();
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["members"]["netflow"]["present"], false);
        assert_eq!(v["signals"]["guest"]["verdict"], "unknown");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 16);
    }
}
