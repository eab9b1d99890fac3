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
}
