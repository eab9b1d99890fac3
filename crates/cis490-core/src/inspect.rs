//! One episode, end to end: stream the archive, parse members into typed
//! columns, derive the summary values, build the report.

use crate::archive::{errno_name, Decoder, Entry, EntryKind, Fatal, TarReader};
use crate::jsonl::{row_text, Line, LineSplitter};
use crate::limits::InspectOptions;
use crate::meta::{parse_meta, MetaResult};
use crate::parse::{DecodedEpisode, Member, RowParser, RowResult};
use crate::report::{EventSummary, Finding, LabelSummary, MemberStats, Report};
use crate::signals::{self, ns_diff_s, phase_code, PhaseLookup, DORMANT};
use std::io::Read;
use std::path::Path;

/// Inspects one `.tar.zst` read from `r` (docs/inspection.md). Never fails:
/// every problem is in the report.
pub fn inspect_reader<R: Read>(r: R, opts: &InspectOptions) -> Report {
    let (mut report, ep) = decode_reader(r, opts);
    if opts.with_columns && report.io_error.is_none() {
        report.columns = Some(ep);
    }
    report
}

pub fn inspect_bytes(data: &[u8], opts: &InspectOptions) -> Report {
    inspect_reader(data, opts)
}

pub fn inspect_path(path: &Path, opts: &InspectOptions) -> Report {
    match std::fs::File::open(path) {
        Ok(f) => inspect_reader(f, opts),
        Err(e) => io_report(errno_name(&e)),
    }
}

fn io_report(code: String) -> Report {
    Report { io_error: Some(code), ..Report::default() }
}

/// The report plus the decoded columns (for the feature stage, which needs
/// the columns whether or not the report carries them).
pub fn decode_reader<R: Read>(r: R, opts: &InspectOptions) -> (Report, DecodedEpisode) {
    let mut w = Walker::new(opts);
    let mut tar = TarReader::new(Decoder::with_window(r, opts.max_total_bytes, opts.window_log_max()), opts.max_member_bytes);
    let fatal = match w.walk(&mut tar) {
        Ok(()) => tar.dec.drain_decoded().err(),
        Err(f) => Some(f),
    };
    if let Some(Fatal::Pax { header, .. }) = &fatal {
        w.findings.push(Finding { code: "malformed-pax", member: header.clone() });
    }
    let io = match &fatal {
        Some(Fatal::Io(code)) => Some(code.clone()),
        _ => match tar.dec.drain_raw() {
            Err(Fatal::Io(code)) => Some(code),
            _ => None,
        },
    };
    if let Some(code) = io {
        return (io_report(code), DecodedEpisode::default());
    }
    let (size_bytes, sha256) = tar.dec.digest();
    let mut report = Report {
        size_bytes,
        sha256,
        fatal: fatal.as_ref().map(Fatal::code),
        fatal_detail: fatal.as_ref().map(Fatal::detail),
        findings: std::mem::take(&mut w.findings),
        meta_present: w.meta_present,
        meta_error: w.meta_error,
        meta: w.ep.meta.clone(),
        members: w.stats,
        ..Report::default()
    };
    derive(&mut report, &w.ep);
    (report, w.ep)
}

struct Walker<'o> {
    opts: &'o InspectOptions,
    ep: DecodedEpisode,
    stats: [MemberStats; 6],
    findings: Vec<Finding>,
    seen: [bool; 7],
    meta_present: bool,
    meta_error: Option<&'static str>,
    parser: RowParser,
    splitter: LineSplitter,
}

/// Per-member row accounting while a JSONL member streams in.
#[derive(Default)]
struct MemberRead {
    rows: u64,
    skipped: u64,
    nonblank: u64,
    findings: Vec<Finding>,
    line_flag: bool,
    depth_flag: bool,
}

fn finding(code: &'static str, e: &Entry) -> Finding {
    Finding { code, member: e.name.clone() }
}

impl<'o> Walker<'o> {
    fn new(opts: &'o InspectOptions) -> Self {
        Walker {
            opts,
            ep: DecodedEpisode::default(),
            stats: [MemberStats::default(); 6],
            findings: Vec::new(),
            seen: [false; 7],
            meta_present: false,
            meta_error: None,
            parser: RowParser::new(opts.max_depth),
            splitter: LineSplitter::new(opts.max_line_bytes),
        }
    }

    fn walk<R: Read>(&mut self, tar: &mut TarReader<R>) -> Result<(), Fatal> {
        while let Some(e) = tar.next_entry()? {
            if e.is_unsafe() {
                self.findings.push(finding("unsafe-path", &e));
                tar.skip_data(e.size)?;
                continue;
            }
            let code = match e.kind {
                EntryKind::Symlink => Some("symlink"),
                EntryKind::Hardlink => Some("hardlink"),
                EntryKind::Special => Some("special-file"),
                EntryKind::Directory | EntryKind::Regular => None,
            };
            if let Some(code) = code {
                self.findings.push(finding(code, &e));
            }
            let member = match e.kind {
                EntryKind::Regular => Member::from_base_name(e.base_name()),
                _ => None,
            };
            let Some(m) = member else {
                tar.skip_data(e.size)?;
                continue;
            };
            let slot = m as usize;
            if self.seen[slot] {
                self.findings.push(finding("duplicate-member", &e));
                tar.skip_data(e.size)?;
                continue;
            }
            self.seen[slot] = true;
            if e.size > self.opts.max_member_bytes {
                self.findings.push(finding("limit:member-bytes", &e));
                return Err(Fatal::MemberBytes);
            }
            if m == Member::Meta {
                self.read_meta(tar, &e)?;
            } else {
                self.read_jsonl(tar, m, &e)?;
            }
        }
        Ok(())
    }

    fn read_meta<R: Read>(&mut self, tar: &mut TarReader<R>, e: &Entry) -> Result<(), Fatal> {
        // Bounded by max_member_bytes (checked before we get here).
        let mut buf = Vec::with_capacity(e.size.min(1 << 20) as usize);
        tar.read_data(e.size, |c| {
            buf.extend_from_slice(c);
            Ok(())
        })?;
        self.meta_present = true;
        match parse_meta(&buf, self.opts.max_depth) {
            MetaResult::Ok(m) => self.ep.meta = Some(*m),
            MetaResult::Invalid => self.meta_error = Some("invalid-json"),
            MetaResult::TooDeep => {
                self.meta_error = Some("invalid-json");
                self.findings.push(finding("limit:depth", e));
            }
        }
        Ok(())
    }

    fn read_jsonl<R: Read>(&mut self, tar: &mut TarReader<R>, m: Member, e: &Entry) -> Result<(), Fatal> {
        let Walker { opts, ep, parser, splitter, .. } = self;
        let max_rows = opts.max_rows;
        let mut st = MemberRead::default();
        splitter.reset();
        let mut on_line = |line: Line<'_>| -> Result<(), Fatal> {
            let text = match line {
                Line::Text(t) => match row_text(t) {
                    Some(t) => Some(t),
                    None => return Ok(()), // blank: not a row
                },
                Line::TooLong => None,
            };
            st.nonblank += 1;
            if st.nonblank > max_rows {
                return Err(Fatal::Rows);
            }
            let Some(text) = text else {
                st.skipped += 1;
                if !st.line_flag {
                    st.line_flag = true;
                    st.findings.push(finding("limit:line-bytes", e));
                }
                return Ok(());
            };
            match parser.parse_row(m, text, ep) {
                RowResult::Accepted => st.rows += 1,
                RowResult::Skipped => st.skipped += 1,
                RowResult::TooDeep => {
                    st.skipped += 1;
                    if !st.depth_flag {
                        st.depth_flag = true;
                        st.findings.push(finding("limit:depth", e));
                    }
                }
            }
            Ok(())
        };
        let r = tar.read_data(e.size, |chunk| splitter.feed(chunk, &mut on_line));
        let r = r.and_then(|_| splitter.finish(&mut on_line));
        match r {
            Ok(()) => {
                let idx = m.jsonl_index().expect("jsonl member");
                self.stats[idx] = MemberStats { present: true, rows: st.rows, skipped: st.skipped, bytes: e.size };
                self.findings.append(&mut st.findings);
                Ok(())
            }
            Err(f) => {
                // An interrupted member is reported as absent; only the
                // finding naming the fatal itself survives.
                self.ep.clear_member(m);
                if f == Fatal::Rows {
                    self.findings.push(finding("limit:rows", e));
                }
                Err(f)
            }
        }
    }
}

/// Everything after reading: labels, duration, spans, events, signals.
fn derive(r: &mut Report, ep: &DecodedEpisode) {
    let l = &ep.labels;
    let mut unknown: Vec<_> = l.phase.iter().filter(|p| phase_code(p) < 0).cloned().collect();
    unknown.sort_by(|a, b| a.cmp_js(b));
    unknown.dedup();
    let monotonic = (1..l.t_wall_ns.len()).all(|i| {
        l.t_wall_ns[i] >= l.t_wall_ns[i - 1]
            && match (l.t_mono_ns[i - 1], l.t_mono_ns[i]) {
                (Some(a), Some(b)) => b >= a,
                _ => true,
            }
    });
    r.labels = LabelSummary {
        count: l.t_wall_ns.len() as u64,
        monotonic,
        unknown_phases: unknown,
        phases: l.phase.iter().map(phase_code).filter(|&c| c >= 0).collect(),
        t0_wall_ns: l.t_wall_ns.first().copied(),
    };

    if let Some(t0) = r.labels.t0_wall_ns {
        let observed = ep.meta.as_ref().and_then(|m| m.duration_observed_s).filter(|d| d.is_finite() && *d > 0.0);
        r.duration_s = observed.or_else(|| {
            [&ep.proc, &ep.guest, &ep.qmp, &ep.netflow]
                .iter()
                .flat_map(|t| t.t_wall_ns.iter().copied())
                .max()
                .map(|tmax| ns_diff_s(tmax, t0))
        });
    }

    let pt = &ep.proc.t_wall_ns;
    if pt.len() >= 2 {
        let (lo, hi) = pt.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        r.proc_span_s = ns_diff_s(hi, lo);
    }

    let lk = PhaseLookup::new(l);
    let ev = &ep.events;
    let mut es = EventSummary::default();
    for i in 0..ev.event.len() {
        let name = ev.event[i].as_bytes();
        if name.starts_with(b"workload_") {
            es.workload_events += 1;
        }
        if name == b"workload_failed" {
            es.workload_failed = true;
        }
        if name == b"workload_killed" {
            let dormant = match &ev.phase[i] {
                Some(p) => p.eq_str("dormant"),
                None => lk.at(ev.t_wall_ns[i]) == DORMANT,
            };
            let probe_zero = ev.probe_yes[i].as_ref().is_some_and(|y| y.eq_str("0"));
            if dormant && probe_zero {
                es.killed_dormant_probe_zero = true;
            }
        }
    }
    r.events = es;

    r.signals = [
        signals::proc_signal(&ep.proc, &lk),
        signals::netflow_signal(&ep.netflow, &lk),
        signals::qmp_signal(&ep.qmp, &lk),
        signals::guest_signal(&ep.guest, &lk),
    ];
}
