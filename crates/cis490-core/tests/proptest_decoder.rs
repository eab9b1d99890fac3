//! Property tests: whatever the bytes, `inspect_reader` returns a report
//! (valid JSON, size/sha of the whole input) and never panics.

mod common;

use cis490_core::{inspect_bytes, InspectOptions};
use common::*;
use proptest::prelude::*;
use std::sync::OnceLock;

fn check(data: &[u8], o: &InspectOptions) {
    let r = inspect_bytes(data, o);
    assert_eq!(r.size_bytes, data.len() as u64);
    assert_eq!(r.sha256.len(), 64);
    let json = r.to_json();
    // Lone surrogates are legal for JSON.parse but not serde_json; other
    // than that the report must parse.
    if !json.contains("\\ud") {
        let v: serde_json::Value = serde_json::from_str(&json).expect("report JSON");
        assert!(v["members"]["proc"].is_object());
    }
}

fn small_limits() -> InspectOptions {
    InspectOptions { max_total_bytes: 1 << 20, max_member_bytes: 1 << 18, max_line_bytes: 600, max_depth: 4, max_rows: 200, max_window_bytes: 1 << 20, with_columns: true }
}

fn base_tar() -> &'static Vec<u8> {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| realistic_tar(1))
}

fn base_zst() -> &'static Vec<u8> {
    static Z: OnceLock<Vec<u8>> = OnceLock::new();
    Z.get_or_init(|| zst(base_tar()))
}

/// The realistic episode as GNU `tar --format=posix` lays it out: a pax
/// header (mtime, path, size) before every member, and the data offsets of
/// those pax headers' records.
fn pax_tar() -> &'static (Vec<u8>, Vec<std::ops::Range<usize>>) {
    static T: OnceLock<(Vec<u8>, Vec<std::ops::Range<usize>>)> = OnceLock::new();
    T.get_or_init(|| {
        let mut entries = vec![pax(b'g', &[("comment", "fleet")])];
        for (name, data) in realistic_members(2) {
            entries.push(pax(b'x', &[("mtime", "1775124672.25"), ("path", &name), ("size", &data.len().to_string())]));
            entries.push(file("placeholder", data));
        }
        let tar = tar_of(&entries);
        // Walk the headers to find where pax data lives.
        let mut ranges = Vec::new();
        let mut off = 0;
        while off + 512 <= tar.len() && tar[off..off + 512].iter().any(|&b| b != 0) {
            let size = usize::from_str_radix(std::str::from_utf8(&tar[off + 124..off + 135]).unwrap().trim_matches(char::from(0)), 8).unwrap();
            if tar[off + 156] == b'x' || tar[off + 156] == b'g' {
                ranges.push(off + 512..off + 512 + size);
            }
            off += 512 + size.div_ceil(512) * 512;
        }
        (tar, ranges)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check(&data, &InspectOptions::default());
    }

    #[test]
    fn random_bytes_after_zstd_magic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut d = vec![0x28, 0xB5, 0x2F, 0xFD];
        d.extend(data);
        check(&d, &InspectOptions::default());
    }

    #[test]
    fn mutated_compressed(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                          cut in any::<prop::sample::Index>()) {
        let mut d = base_zst().clone();
        for (i, b) in edits {
            let i = i.index(d.len());
            d[i] = b;
        }
        d.truncate(cut.index(d.len() + 1).max(1));
        check(&d, &InspectOptions::default());
    }

    #[test]
    fn mutated_tar(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
                   cut in any::<prop::sample::Index>(), small in any::<bool>()) {
        let mut t = base_tar().clone();
        for (i, b) in edits {
            let i = i.index(t.len());
            t[i] = b;
        }
        t.truncate(cut.index(t.len() + 1));
        let o = if small { small_limits() } else { InspectOptions { with_columns: true, ..InspectOptions::default() } };
        check(&zst(&t), &o);
    }

    #[test]
    fn random_jsonl_members(lines in proptest::collection::vec("[ -~\\t\\r{}\\[\\]\":,0-9.eE+-]{0,80}", 0..40),
                            member in 0usize..6) {
        let names = ["labels.jsonl", "events.jsonl", "telemetry-proc.jsonl", "telemetry-guest.jsonl", "telemetry-qmp.jsonl", "netflow.jsonl"];
        let body = lines.join("\n");
        let t = tar_of(&[file("ep/labels.jsonl", "{\"t_wall_ns\":1,\"phase\":\"clean\"}\n"), file(&format!("ep/{}", names[member]), body)]);
        check(&zst(&t), &small_limits());
    }

    /// Edits confined to pax records (lengths, keys, values, separators):
    /// never a panic, always a whole report.
    #[test]
    fn mutated_pax_records(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(),
                                                              prop::sample::select(b"0123456789 =\n\0x-./".to_vec())), 1..6)) {
        let (tar, ranges) = pax_tar();
        let mut t = tar.clone();
        for (which, at, b) in edits {
            let r = &ranges[which.index(ranges.len())];
            t[r.start + at.index(r.len())] = b;
        }
        check(&zst(&t), &small_limits());
        check(&zst(&t), &InspectOptions::default());
    }
}
