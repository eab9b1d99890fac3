//! One test per rule of docs/inspection.md, through the public API and the
//! JSON report (what the TypeScript side sees).

mod common;

use cis490_core::{decode_reader, inspect_bytes, inspect_path, InspectOptions};
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Instant;

fn opts() -> InspectOptions {
    InspectOptions::default()
}

fn report_of(data: &[u8], o: &InspectOptions) -> Value {
    let r = inspect_bytes(data, o);
    serde_json::from_str(&r.to_json()).expect("report is valid JSON")
}

fn inspect_entries(entries: &[TEntry]) -> Value {
    report_of(&zst(&tar_of(entries)), &opts())
}

fn codes(r: &Value) -> Vec<(String, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap().to_string(), f["member"].as_str().unwrap().to_string()))
        .collect()
}

const LABELS: &str = "{\"t_mono_ns\":0,\"t_wall_ns\":1000000000,\"phase\":\"clean\"}\n{\"t_mono_ns\":10,\"t_wall_ns\":2000000000,\"phase\":\"infected_running\"}\n";

#[test]
fn realistic_episode_is_fully_read() {
    let data = realistic_episode(7);
    let r = report_of(&data, &opts());
    assert_eq!(r["fatal"], Value::Null, "{}", r["fatal_detail"]);
    assert_eq!(r["size_bytes"], data.len() as u64);
    let sha = Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(r["sha256"], sha);
    assert_eq!(r["findings"], json!([]));
    assert_eq!(r["meta_present"], true);
    assert_eq!(r["meta"]["episode_id"], "ep-000007");
    assert_eq!(r["meta"]["profile"], "cpu-saturate");
    assert_eq!(r["meta"]["duration_observed_s"], 52.4);
    for (m, rows) in [("labels", 5), ("events", 2), ("proc", 520), ("guest", 52), ("qmp", 104), ("netflow", 52)] {
        assert_eq!(r["members"][m]["present"], true, "{m}");
        assert_eq!(r["members"][m]["rows"], rows, "{m}");
        assert_eq!(r["members"][m]["skipped"], 0, "{m}");
    }
    assert_eq!(r["labels"], json!({"count": 5, "monotonic": true, "unknown_phases": [], "phases": [0,1,2,3,4], "t0_wall_ns": T0.to_string()}));
    assert_eq!(r["duration_s"], 52.4);
    assert_eq!(r["events"], json!({"workload_events": 2, "workload_failed": false, "killed_dormant_probe_zero": false}));
    assert_eq!(r["signals"]["proc"]["verdict"], "signal");
    assert_eq!(r["signals"]["guest"]["verdict"], "signal");
    assert_eq!(r["columns"], Value::Null);
}

#[test]
fn suffix_matching() {
    for prefix in ["./", "ep/", "", "././", "a/b/c/"] {
        let r = inspect_entries(&[file(&format!("{prefix}meta.json"), "{\"episode_id\":\"x\"}"), file(&format!("{prefix}labels.jsonl"), LABELS)]);
        assert_eq!(r["meta"]["episode_id"], "x", "{prefix}");
        assert_eq!(r["members"]["labels"]["rows"], 2, "{prefix}");
    }
    // Not a suffix match: a different base name, or a trailing slash.
    let r = inspect_entries(&[file("ep/xmeta.json", "{}"), file("ep/meta.json.bak", "{}")]);
    assert_eq!(r["meta_present"], false);
    assert_eq!(r["findings"], json!([]));
}

#[test]
fn unsafe_paths() {
    let r = inspect_entries(&[
        file("../x", "a"),
        file("/etc/passwd", "root"),
        file("a/../../b", "b"),
        file("../meta.json", "{\"episode_id\":\"evil\"}"),
        file("ep/meta.json", "{\"episode_id\":\"good\"}"),
    ]);
    assert_eq!(
        codes(&r),
        vec![
            ("unsafe-path".into(), "../x".into()),
            ("unsafe-path".into(), "/etc/passwd".into()),
            ("unsafe-path".into(), "a/../../b".into()),
            ("unsafe-path".into(), "../meta.json".into()),
        ]
    );
    assert_eq!(r["meta"]["episode_id"], "good");
    // An unsafe directory is still a finding ("any type").
    let r = inspect_entries(&[special("../d/", b'5')]);
    assert_eq!(codes(&r), vec![("unsafe-path".into(), "../d/".into())]);
}

#[test]
fn links_devices_and_directories() {
    let r = inspect_entries(&[
        special("ep/", b'5'),
        special("ep/meta.json", b'2'),
        special("ep/labels.jsonl", b'1'),
        special("ep/c", b'3'),
        special("ep/b", b'4'),
        special("ep/f", b'6'),
        special("ep/solaris-ext", b'X'),
        file("ep/telemetry-proc.jsonl", "{\"t_wall_ns\":1}\n"),
    ]);
    assert_eq!(
        codes(&r),
        vec![
            ("symlink".into(), "ep/meta.json".into()),
            ("hardlink".into(), "ep/labels.jsonl".into()),
            ("special-file".into(), "ep/c".into()),
            ("special-file".into(), "ep/b".into()),
            ("special-file".into(), "ep/f".into()),
            ("special-file".into(), "ep/solaris-ext".into()),
        ]
    );
    assert_eq!(r["meta_present"], false); // a symlink named meta.json is not meta
    assert_eq!(r["members"]["labels"]["present"], false);
    assert_eq!(r["members"]["proc"]["rows"], 1);
    // A directory with content: data skipped, no finding, archive continues.
    let mut d = special("ep/dir", b'5');
    d.data = vec![b'x'; 1000];
    let r = inspect_entries(&[d, file("meta.json", "{}")]);
    assert_eq!(r["findings"], json!([]));
    assert_eq!(r["meta_present"], true);
}

#[test]
fn duplicate_members_first_wins() {
    let r = inspect_entries(&[
        file("ep/meta.json", "{\"episode_id\":\"first\"}"),
        file("./meta.json", "{\"episode_id\":\"second\"}"),
        file("ep/labels.jsonl", LABELS),
        file("other/labels.jsonl", "garbage\n"),
    ]);
    assert_eq!(r["meta"]["episode_id"], "first");
    assert_eq!(codes(&r), vec![("duplicate-member".into(), "./meta.json".into()), ("duplicate-member".into(), "other/labels.jsonl".into())]);
    assert_eq!(r["members"]["labels"]["skipped"], 0);
}

#[test]
fn gnu_long_names() {
    let long = format!("{}/telemetry-proc.jsonl", "d".repeat(150));
    let tar = tar_gnu(&[(&long, b"{\"t_wall_ns\":5}\n"), ("ep/meta.json", b"{}")]);
    let r = report_of(&zst(&tar), &opts());
    assert_eq!(r["fatal"], Value::Null, "{}", r["fatal_detail"]);
    assert_eq!(r["members"]["proc"]["rows"], 1);
    assert_eq!(r["meta_present"], true);
    let evil = format!("{}/../../x", "d".repeat(150));
    let tar = tar_gnu(&[("ok", b"")]);
    // tar::Builder refuses `..`; write the long name record by hand.
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(evil.len() as u64 + 1);
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&h, format!("{evil}\0").as_bytes()).unwrap();
    let mut h2 = tar::Header::new_gnu();
    h2.as_old_mut().name[..5].copy_from_slice(b"short");
    h2.set_size(1);
    h2.set_cksum();
    b.append(&h2, &b"x"[..]).unwrap();
    let tar2 = b.into_inner().unwrap();
    let _ = tar;
    let r = report_of(&zst(&tar2), &opts());
    assert_eq!(codes(&r), vec![("unsafe-path".into(), evil)]);
}

#[test]
fn pax_headers_name_and_size_members() {
    let proc = "{\"t_wall_ns\":5}\n{\"t_wall_ns\":6}\n";
    let mut lying = file("placeholder", proc);
    lying.size = Some(0); // the header lies; the pax size record is the truth
    let r = inspect_entries(&[
        pax(b'g', &[("comment", "fleet packer"), ("mtime", "1775124672.5")]),
        pax(b'x', &[("mtime", "1775124672.25"), ("atime", "x"), ("path", "ep/meta.json")]),
        file("short", "{\"episode_id\":\"p\"}"),
        pax(b'x', &[("path", "ep/telemetry-proc.jsonl"), ("size", &proc.len().to_string())]),
        lying,
        pax(b'x', &[("path", "ep/labels.jsonl")]),
        file("labels-short", LABELS),
    ]);
    assert_eq!(r["fatal"], Value::Null, "{}", r["fatal_detail"]);
    assert_eq!(r["findings"], json!([]));
    assert_eq!(r["meta"]["episode_id"], "p");
    assert_eq!(r["members"]["proc"], json!({"present": true, "rows": 2, "skipped": 0, "bytes": proc.len()}));
    assert_eq!(r["members"]["labels"]["rows"], 2);
}

#[test]
fn pax_names_go_through_the_same_checks() {
    let r = inspect_entries(&[
        pax(b'x', &[("path", "../../etc/passwd")]),
        file("passwd", "root"),
        pax(b'x', &[("path", "/abs/meta.json")]),
        file("meta.json", "{}"),
        pax(b'x', &[("path", "ep/ok.txt")]),
        file("../../unsafe-header-name", "x"),
        pax(b'x', &[("path", "ep/meta.json"), ("linkpath", "/etc/passwd")]),
        special("l", b'2'),
        pax(b'x', &[("linkpath", "../../x")]),
        special("ep/labels.jsonl", b'1'),
        pax(b'x', &[("path", "ep/telemetry-proc.jsonl")]),
        special("dev", b'3'),
        // A global path names every following entry until a global `path=` clears it.
        pax(b'g', &[("path", "ep/telemetry-guest.jsonl")]),
        file("a", "{\"t_wall_ns\":1}\n"),
        file("b", "{\"t_wall_ns\":1}\n"),
        pax(b'x', &[("path", "")]), // own header name, not the global one
        file("ep/netflow.jsonl", "{\"t_wall_ns\":1}\n"),
        pax(b'g', &[("path", "")]),
        file("ep/meta.json", "{\"episode_id\":\"real\"}"),
    ]);
    assert_eq!(r["fatal"], Value::Null, "{}", r["fatal_detail"]);
    assert_eq!(
        codes(&r),
        vec![
            ("unsafe-path".into(), "../../etc/passwd".into()),
            ("unsafe-path".into(), "/abs/meta.json".into()),
            ("symlink".into(), "ep/meta.json".into()),
            ("hardlink".into(), "ep/labels.jsonl".into()),
            ("special-file".into(), "ep/telemetry-proc.jsonl".into()),
            ("duplicate-member".into(), "ep/telemetry-guest.jsonl".into()),
        ]
    );
    assert_eq!(r["meta"]["episode_id"], "real");
    assert_eq!(r["members"]["guest"]["rows"], 1);
    assert_eq!(r["members"]["netflow"]["rows"], 1);
}

#[test]
fn pax_size_is_bounded_like_header_sizes() {
    let o = InspectOptions { max_member_bytes: 1000, ..opts() };
    let t = tar_of(&[pax(b'x', &[("size", "1001")]), file("ep/telemetry-proc.jsonl", "")]);
    let r = report_of(&zst(&t), &o);
    assert_eq!(r["fatal"], "limit:member-bytes");
    assert_eq!(codes(&r), vec![("limit:member-bytes".into(), "ep/telemetry-proc.jsonl".into())]);
    // A huge size on an unknown entry is skipped until the stream ends: tar-error, no overflow.
    let t = tar_of(&[file("meta.json", "{}"), pax(b'x', &[("size", "18446744073709551615")]), file("pad.bin", "")]);
    let r = report_of(&zst(&t), &opts());
    assert_eq!(r["fatal"], "tar-error");
    assert_eq!(r["meta_present"], true);
}

#[test]
fn malformed_pax_is_tar_error_with_finding() {
    let cases: Vec<Vec<u8>> = vec![
        b"x9 path=a\n".to_vec(),
        b"99 path=a\n".to_vec(),
        b"9 pathab\n".to_vec(),
        b"10 path=ab\n".to_vec(),
        b"6 =ab\n".to_vec(),
        pax_record("size", b"12k"),
        pax_record("mtime", b"yesterday"),
        [pax_record("path", b"a"), vec![0], pax_record("path", b"b")].concat(),
    ];
    for (i, data) in cases.iter().enumerate() {
        for flag in [b'x', b'g'] {
            let t = tar_of(&[file("ep/meta.json", "{}"), pax_raw(flag, data), file("ep/labels.jsonl", LABELS)]);
            let r = report_of(&zst(&t), &opts());
            assert_eq!(r["fatal"], "tar-error", "case {i}");
            assert_eq!(codes(&r), vec![("malformed-pax".into(), "./PaxHeaders/e".into())], "case {i}");
            assert_eq!(r["meta_present"], true);
            assert_eq!(r["members"]["labels"]["present"], false);
        }
    }
    // Oversized: refused from the header alone, before any allocation.
    let mut big = pax_raw(b'x', b"");
    big.size = Some(4 << 30);
    let mut t = tar_of(&[file("ep/meta.json", "{}")]);
    t.truncate(1024);
    let mut h = tar_of(&[big]);
    h.truncate(512);
    t.extend(h);
    let r = report_of(&zst(&t), &opts());
    assert_eq!(r["fatal"], "tar-error");
    assert_eq!(codes(&r), vec![("malformed-pax".into(), "./PaxHeaders/e".into())]);
}

/// fixtures/pax: the same episode packed by GNU tar (ustar, posix, gnu) and
/// Python's tarfile (pax with a global header) reads identically.
#[test]
fn tool_made_fixtures_read_alike() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pax");
    let o = InspectOptions { with_columns: true, ..opts() };
    let mut first: Option<Value> = None;
    for f in ["gnu-ustar.tar.zst", "gnu-posix.tar.zst", "gnu-gnu.tar.zst", "python-pax.tar.zst"] {
        let mut r: Value = serde_json::from_str(&inspect_path(&dir.join(f), &o).to_json()).unwrap();
        assert_eq!(r["fatal"], Value::Null, "{f}: {}", r["fatal_detail"]);
        assert_eq!(r["findings"], json!([]), "{f}");
        assert_eq!(r["members"]["proc"]["rows"], 120, "{f}");
        let obj = r.as_object_mut().unwrap();
        obj.remove("sha256");
        obj.remove("size_bytes");
        match &first {
            None => first = Some(r),
            Some(a) => assert_eq!(&r, a, "{f}"),
        }
    }
}

#[test]
fn truncated_tarball() {
    let data = realistic_episode(3);
    for cut in [1, 10, data.len() / 3, data.len() / 2, data.len() - 1] {
        let part = &data[..cut];
        let r = report_of(part, &opts());
        assert_eq!(r["fatal"], "zstd-error", "cut at {cut}");
        assert_eq!(r["size_bytes"], cut as u64);
        let sha = Sha256::digest(part).iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(r["sha256"], sha);
    }
    // A complete zstd frame around a tar that stops inside member data.
    let tar = realistic_tar(3);
    let meta_end = 512 + 512 * 2; // header + meta data (< 1 KiB) + labels header
    let r = report_of(&zst(&tar[..meta_end + 100]), &opts());
    assert_eq!(r["fatal"], "tar-error");
    assert_eq!(r["meta_present"], true, "members fully read before the error stay");
    assert_eq!(r["members"]["labels"]["present"], false);
    // Stream ends inside a header.
    let r = report_of(&zst(&tar[..meta_end - 100]), &opts());
    assert_eq!(r["fatal"], "tar-error");
    // Stream ends exactly at a header boundary without zero blocks: fine.
    let r = report_of(&zst(&tar[..1024]), &opts());
    assert_eq!(r["fatal"], Value::Null);
    assert_eq!(r["meta_present"], true);
}

#[test]
fn empty_garbage_and_missing_files() {
    assert_eq!(report_of(b"", &opts())["fatal"], "zstd-error");
    assert_eq!(report_of(b"hello world, not zstd", &opts())["fatal"], "zstd-error");
    let mut two = zst(b"");
    two.extend_from_slice(b"trailing garbage");
    assert_eq!(report_of(&two, &opts())["fatal"], "zstd-error");
    // An empty zstd frame is an empty tar stream: no members, no error.
    let r = report_of(&zst(b""), &opts());
    assert_eq!(r["fatal"], Value::Null);
    let r = inspect_path(std::path::Path::new("/nonexistent/x.tar.zst"), &opts());
    assert_eq!(r.io_error.as_deref(), Some("ENOENT"));
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["sha256"], "");
    assert_eq!(v["members"]["proc"]["present"], false);
    let r = inspect_path(std::path::Path::new("/tmp"), &opts());
    assert_eq!(r.io_error.as_deref(), Some("EISDIR"));
}

#[test]
fn multiple_frames() {
    let tar = realistic_tar(5);
    let mut data = zst(&tar[..7000]);
    data.extend(zst(&tar[7000..]));
    let r = report_of(&data, &opts());
    assert_eq!(r["fatal"], Value::Null, "{}", r["fatal_detail"]);
    assert_eq!(r["members"]["proc"]["rows"], 520);
}

#[test]
fn lone_zero_block_is_tar_error() {
    let mut tar = tar_of(&[file("meta.json", "{}")]);
    tar.truncate(1024); // header + data
    tar.extend_from_slice(&[0u8; 512]);
    tar.extend_from_slice(&tar_of(&[file("x", "y")]));
    assert_eq!(report_of(&zst(&tar), &opts())["fatal"], "tar-error");
}

#[test]
fn bit_flips_never_panic() {
    let data = realistic_episode(11);
    let mut fatal_kinds = std::collections::BTreeSet::new();
    for i in (0..data.len()).step_by(97) {
        for bit in [0, 3, 7] {
            let mut d = data.clone();
            d[i] ^= 1 << bit;
            let r = report_of(&d, &opts());
            assert_eq!(r["size_bytes"], d.len() as u64);
            fatal_kinds.insert(r["fatal"].as_str().unwrap_or("none").to_string());
        }
    }
    assert!(fatal_kinds.contains("zstd-error"), "{fatal_kinds:?}");
    // Flips in the uncompressed tar reach the tar and JSON layers.
    let tar = realistic_tar(11);
    for i in (0..tar.len()).step_by(211) {
        let mut t = tar.clone();
        t[i] ^= 0x20;
        let r = report_of(&zst(&t), &opts());
        fatal_kinds.insert(r["fatal"].as_str().unwrap_or("none").to_string());
    }
    assert!(fatal_kinds.contains("tar-error"), "{fatal_kinds:?}");
}

fn max_rss_kib() -> i64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    u.ru_maxrss
}

/// Several GiB of zeros, compressed by streaming (small output).
fn zero_bomb(member: &str, gib: u64) -> Vec<u8> {
    use std::io::Write;
    let size = gib << 30;
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..member.len()].copy_from_slice(member.as_bytes());
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    enc.write_all(h.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(size >> 20) {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap()
}

#[test]
fn zstd_bomb_stops_at_total_bytes() {
    let bomb = zero_bomb("junk.bin", 4);
    assert!(bomb.len() < 1 << 20, "compressed bomb is small: {}", bomb.len());
    let before = max_rss_kib();
    let t = Instant::now();
    let r = report_of(&bomb, &opts());
    assert_eq!(r["fatal"], "limit:total-bytes");
    assert_eq!(r["size_bytes"], bomb.len() as u64, "the rest of the file is still hashed");
    assert!(t.elapsed().as_secs_f64() < 20.0);
    // A member-sized bomb: a JSONL "line" of zeros, discarded as it streams.
    let bomb = zero_bomb("telemetry-proc.jsonl", 1);
    let o = InspectOptions { max_member_bytes: 2 << 30, ..opts() };
    let r = report_of(&bomb, &o);
    assert_eq!(r["fatal"], "limit:total-bytes");
    assert_eq!(r["members"]["proc"]["present"], false);
    let grown_mib = (max_rss_kib() - before) / 1024;
    assert!(grown_mib < 200, "memory grew by {grown_mib} MiB");
}

/// A hand-made zstd frame (RFC 8878): no content size, not single-segment,
/// a window descriptor declaring 2^window_log bytes, raw blocks of <= 128 KiB.
fn raw_frame(data: &[u8], window_log: u8) -> Vec<u8> {
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, (window_log - 10) << 3];
    let chunks: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(128 * 1024).collect() };
    for (i, c) in chunks.iter().enumerate() {
        let h = u32::from(i + 1 == chunks.len()) | ((c.len() as u32) << 3);
        out.extend_from_slice(&h.to_le_bytes()[..3]);
        out.extend_from_slice(c);
    }
    out
}

#[test]
fn zstd_window_over_the_limit_is_refused_before_allocation() {
    let tar = realistic_tar(3);
    let before = max_rss_kib();
    for log in [28u8, 31, 41] {
        let r = report_of(&raw_frame(&tar, log), &opts());
        assert_eq!(r["fatal"], "limit:window-bytes", "window 2^{log}");
        assert!(r["fatal_detail"].as_str().unwrap().contains("max_window_bytes (134217728 bytes)"));
        assert_eq!(r["members"]["labels"]["present"], false);
    }
    assert!((max_rss_kib() - before) / 1024 < 64, "refusing must not allocate the window");
    assert_eq!(report_of(&raw_frame(&tar, 27), &opts())["fatal"], Value::Null);
    let small = InspectOptions { max_window_bytes: 1 << 21, ..opts() };
    assert_eq!(report_of(&raw_frame(&tar, 22), &small)["fatal"], "limit:window-bytes");
    assert_eq!(report_of(&raw_frame(&tar, 21), &small)["fatal"], Value::Null);
    // Streamed zstd output at level 3 (content size unknown) uses a 2 MiB window.
    assert_eq!(report_of(&zst(&tar), &InspectOptions { max_window_bytes: 1 << 21, ..opts() })["fatal"], Value::Null);
    // A later frame asking for too much: the members before it were read.
    let mut two = zst(&tar);
    two.extend(raw_frame(&[0u8; 1024], 31));
    let r = report_of(&two, &opts());
    assert_eq!(r["fatal"], "limit:window-bytes");
    assert_eq!(r["members"]["proc"]["present"], true);
}

#[test]
fn total_bytes_limit_is_exact() {
    let tar = realistic_tar(2);
    let data = zst(&tar);
    let o = InspectOptions { max_total_bytes: tar.len() as u64, ..opts() };
    assert_eq!(report_of(&data, &o)["fatal"], Value::Null);
    let o = InspectOptions { max_total_bytes: tar.len() as u64 - 1, ..opts() };
    let r = report_of(&data, &o);
    assert_eq!(r["fatal"], "limit:total-bytes");
    // The end-of-archive zero blocks come last; every member was read.
    assert_eq!(r["members"]["netflow"]["present"], true);
}

#[test]
fn member_bytes_limit() {
    let o = InspectOptions { max_member_bytes: 100, ..opts() };
    let big = "{\"t_wall_ns\":1}\n".repeat(10);
    let r = report_of(&zst(&tar_of(&[file("ep/meta.json", "{}"), file("ep/telemetry-proc.jsonl", big.clone()), file("ep/labels.jsonl", LABELS)])), &o);
    assert_eq!(r["fatal"], "limit:member-bytes");
    assert_eq!(codes(&r), vec![("limit:member-bytes".into(), "ep/telemetry-proc.jsonl".into())]);
    assert_eq!(r["meta_present"], true);
    assert_eq!(r["members"]["labels"]["present"], false);
    // Non-member files of any size are not limited by it.
    let r = report_of(&zst(&tar_of(&[file("ep/other.bin", big)])), &o);
    assert_eq!(r["fatal"], Value::Null);
}

#[test]
fn row_limit() {
    let o = InspectOptions { max_rows: 3, ..opts() };
    let rows = "{\"t_wall_ns\":1}\n\n  \nbad\n{\"t_wall_ns\":2}\n";
    let r = report_of(&zst(&tar_of(&[file("labels.jsonl", LABELS), file("p/telemetry-proc.jsonl", rows)])), &o);
    assert_eq!(r["fatal"], Value::Null); // 3 non-blank lines: at the limit
    assert_eq!(r["members"]["proc"]["rows"], 2);
    assert_eq!(r["members"]["proc"]["skipped"], 1);
    let rows4 = format!("{rows}{{\"t_wall_ns\":3}}");
    let r = report_of(&zst(&tar_of(&[file("labels.jsonl", LABELS), file("p/telemetry-proc.jsonl", rows4)])), &o);
    assert_eq!(r["fatal"], "limit:rows");
    assert_eq!(codes(&r), vec![("limit:rows".into(), "p/telemetry-proc.jsonl".into())]);
    assert_eq!(r["members"]["proc"], json!({"present": false, "rows": 0, "skipped": 0, "bytes": 0}));
    assert_eq!(r["members"]["labels"]["rows"], 2);
}

#[test]
fn huge_single_line() {
    let mut data = Vec::with_capacity(65 << 20);
    data.push(b'{');
    data.resize(64 << 20, b'a');
    data.extend_from_slice(b"\n{\"t_wall_ns\":7}\n");
    let o = InspectOptions { max_member_bytes: 128 << 20, ..opts() };
    let before = max_rss_kib();
    let r = report_of(&zst(&tar_of(&[file("ep/netflow.jsonl", data)])), &o);
    assert_eq!(r["fatal"], Value::Null);
    assert_eq!(r["members"]["netflow"], json!({"present": true, "rows": 1, "skipped": 1, "bytes": (64u64 << 20) + 17}));
    assert_eq!(codes(&r), vec![("limit:line-bytes".into(), "ep/netflow.jsonl".into())]);
    let _ = before;
}

#[test]
fn line_limit_counts_cr_and_finding_once() {
    let o = InspectOptions { max_line_bytes: 17, ..opts() };
    // 17 bytes incl. \r: kept; 18: too long (twice, one finding).
    let rows = "{\"t_wall_ns\":12}\r\n{\"t_wall_ns\":123}\r\n{\"t_wall_ns\":1234}\n";
    let r = report_of(&zst(&tar_of(&[file("telemetry-qmp.jsonl", rows)])), &o);
    assert_eq!(r["members"]["qmp"]["rows"], 1);
    assert_eq!(r["members"]["qmp"]["skipped"], 2);
    assert_eq!(codes(&r), vec![("limit:line-bytes".into(), "telemetry-qmp.jsonl".into())]);
}

#[test]
fn invalid_rows_are_skipped() {
    let rows = [
        "{\"t_wall_ns\":1}",                         // ok
        "{\"t_wall_ns\":2,\"x\":\"\u{e9}\"}",         // ok (UTF-8)
        "not json",
        "[1,2]",
        "\"str\"",
        "{\"t_wall_ns\":3,}",
        "{\"t_wall_ns\":1.0}",                       // not an integer
        "{\"t_wall_ns\":1e3}",
        "{\"t_wall_ns\":\"1\"}",
        "{\"t_wall_ns\":null}",
        "{\"t_mono_ns\":5}",                         // missing t_wall_ns
        "{\"t_wall_ns\":9223372036854775808}",      // > i64
        "{\"t_wall_ns\":-9223372036854775808,\"t_mono_ns\":null}", // ok
        "{\"t_wall_ns\":4,\"t_mono_ns\":1.5}",
        "{\"t_wall_ns\":4,\"t_mono_ns\":\"5\"}",
        "{\"t_wall_ns\":4,\"rss_bytes\":\"5\"}",
        "{\"t_wall_ns\":4,\"rss_bytes\":true}",
        "{\"t_wall_ns\":4,\"rss_bytes\":null,\"unknown\":{\"deep\":[1,{\"a\":null}]}}", // ok
        "{\"t_wall_ns\":4,\"rss_bytes\":\"x\",\"rss_bytes\":5}", // ok: last duplicate wins
        "{\"t_wall_ns\":4,\"rss_bytes\":5,\"rss_bytes\":[]}",
        "{\"t_wall\\u005fns\":6}",                    // ok: escaped key
        "\u{feff}{\"t_wall_ns\":6}",                  // BOM is not JSON whitespace
    ];
    let mut body = rows.join("\n").into_bytes();
    body.extend_from_slice(b"\n{\"t_wall_ns\":8,\"x\":\"\xff\xfe\"}\n{\"t_wall_ns\":8,\"x\":\"\xed\xa0\x80\"}\n");
    let o = InspectOptions { with_columns: true, ..opts() };
    let r = report_of(&zst(&tar_of(&[file("ep/telemetry-proc.jsonl", body)])), &o);
    assert_eq!(r["members"]["proc"]["rows"], 6);
    assert_eq!(r["members"]["proc"]["skipped"], rows.len() as u64 + 2 - 6);
    let c = &r["columns"]["proc"];
    assert_eq!(c["t_wall_ns"], json!(["1", "2", "-9223372036854775808", "4", "4", "6"]));
    assert_eq!(c["t_mono_ns"], json!([null, null, null, null, null, null]));
    assert_eq!(c["rss_bytes"], json!([null, null, null, null, 5, null]));
    assert_eq!(r["findings"], json!([]));
}

#[test]
fn deep_nesting() {
    let n = 100_000;
    let deep_arr = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let rows = format!(
        "{{\"t_wall_ns\":1,\"x\":{deep_arr}}}\n{deep_arr}\n{}\n{{\"t_wall_ns\":2}}\n",
        "[".repeat(n) // deep but invalid: just invalid JSON
    );
    let r = report_of(&zst(&tar_of(&[file("ep/telemetry-guest.jsonl", rows), file("ep/meta.json", format!("{{\"a\":{deep_arr}}}"))])), &opts());
    assert_eq!(r["members"]["guest"]["rows"], 1);
    assert_eq!(r["members"]["guest"]["skipped"], 3);
    assert_eq!(
        codes(&r),
        vec![("limit:depth".into(), "ep/telemetry-guest.jsonl".into()), ("limit:depth".into(), "ep/meta.json".into())]
    );
    assert_eq!(r["meta_present"], true);
    assert_eq!(r["meta_error"], "invalid-json");
    assert_eq!(r["meta"], Value::Null);
    // Exactly max_depth levels are fine; one more is not.
    let o = InspectOptions { max_depth: 3, ..opts() };
    let rows = "{\"t_wall_ns\":1,\"a\":[[1]]}\n{\"t_wall_ns\":1,\"a\":[[[1]]]}\n";
    let r = report_of(&zst(&tar_of(&[file("netflow.jsonl", rows)])), &o);
    assert_eq!(r["members"]["netflow"]["rows"], 1);
    assert_eq!(codes(&r), vec![("limit:depth".into(), "netflow.jsonl".into())]);
}

#[test]
fn meta_invalid() {
    for bad in ["", "[]", "{\"a\":1", "null", "\u{feff}{}"] {
        let r = inspect_entries(&[file("meta.json", bad)]);
        assert_eq!(r["meta_present"], true);
        assert_eq!(r["meta_error"], "invalid-json", "{bad:?}");
        assert_eq!(r["meta"], Value::Null);
    }
    let r = inspect_entries(&[file("meta.json", &b"{\"episode_id\":\"\xff\"}"[..])]);
    assert_eq!(r["meta_error"], "invalid-json");
    let doc = "{\"sample\":null,\"schema_version\":\"1\",\"result\":{\"duration_observed_s\":\"5\",\"outcome\":\"ok\"},\"episode_id\":\"\\ud800\"}";
    // serde_json (this test's parser) rejects lone surrogates that
    // JSON.parse accepts: check the raw report text instead.
    let raw = inspect_bytes(&zst(&tar_of(&[file("meta.json", doc)])), &opts()).to_json();
    assert!(raw.contains("\"episode_id\":\"\\ud800\""), "{raw}");
    let r = inspect_entries(&[file("meta.json", doc.replace("\\ud800", "e"))]);
    assert_eq!(
        r["meta"],
        json!({"schema_version": null, "episode_id": "e", "host_id": null, "started_at": null, "sample_present": false,
               "sample_name": null, "sample_kind": null, "profile": null, "module_name": null, "duration_observed_s": null, "outcome": "ok"})
    );
}

#[test]
fn typed_fields_per_member() {
    let guest = concat!(
        "{\"t_wall_ns\":1,\"cpu_total_jiffies\":{\"user\":1,\"system\":2,\"idle\":3,\"iowait\":4,\"softirq\":5},\"load_1m_5m_15m\":[0.5,1,2],\"mem_available_bytes\":10,\"mem_buffers_bytes\":11,\"mem_cached_bytes\":12,\"swap_used_bytes\":13,\"net\":{\"eth0\":{\"rx_bytes\":20,\"tx_bytes\":21,\"rx_pkts\":22,\"tx_pkts\":23}},\"listen_ports\":[22],\"top_procs\":[{},{}]}\n",
        "{\"t_wall_ns\":2,\"cpu_total_jiffies\":null,\"load_1m_5m_15m\":[],\"net\":{\"eth0\":null},\"listen_ports\":null}\n",
        "{\"t_wall_ns\":3,\"net\":5}\n",
        "{\"t_wall_ns\":3,\"net\":{\"eth0\":[]}}\n",
        "{\"t_wall_ns\":3,\"cpu_total_jiffies\":[]}\n",
        "{\"t_wall_ns\":3,\"cpu_total_jiffies\":{\"user\":\"1\"}}\n",
        "{\"t_wall_ns\":3,\"load_1m_5m_15m\":[1,null]}\n",
        "{\"t_wall_ns\":3,\"load_1m_5m_15m\":\"1\"}\n",
        "{\"t_wall_ns\":3,\"listen_ports\":{}}\n",
        "{\"t_wall_ns\":4,\"net\":5,\"net\":{\"lo\":1}}\n",
    );
    let qmp = concat!(
        "{\"t_wall_ns\":1,\"blockstats\":{\"virtio0\":{\"rd_ops\":1,\"wr_ops\":2,\"rd_bytes\":100,\"wr_bytes\":200},\"sda\":{\"rd_bytes\":1,\"wr_bytes\":null}},\"kvm_stats\":{\"remote_tlb_flush\":7,\"pages_4k\":8,\"pages_2m\":9}}\n",
        "{\"t_wall_ns\":2,\"blockstats\":{}}\n",
        "{\"t_wall_ns\":3,\"blockstats\":{\"sda\":null}}\n",
        "{\"t_wall_ns\":3,\"blockstats\":{\"sda\":{\"rd_bytes\":\"1\"}}}\n",
        "{\"t_wall_ns\":3,\"blockstats\":[]}\n",
        "{\"t_wall_ns\":3,\"kvm_stats\":1}\n",
        "{\"t_wall_ns\":4,\"blockstats\":{\"a\":{\"rd_bytes\":1},\"a\":{\"rd_bytes\":2},\"virtio0\":{\"wr_bytes\":1e400}}}\n",
    );
    let events = concat!(
        "{\"t_wall_ns\":1,\"event\":\"workload_started\",\"phase\":null}\n",
        "{\"t_wall_ns\":2,\"event\":\"workload_killed\",\"phase\":\"dormant\",\"pre_kill_probe\":{\"yes\":\"0\"},\"error\":{\"any\":[1]}}\n",
        "{\"t_wall_ns\":3,\"event\":5}\n",
        "{\"t_wall_ns\":3}\n",
        "{\"t_wall_ns\":3,\"event\":\"x\",\"phase\":1}\n",
        "{\"t_wall_ns\":3,\"event\":\"x\",\"pre_kill_probe\":\"yes\"}\n",
        "{\"t_wall_ns\":3,\"event\":\"x\",\"pre_kill_probe\":{\"yes\":0}}\n",
    );
    let labels = "{\"t_wall_ns\":1,\"phase\":\"clean\"}\n{\"t_wall_ns\":2}\n{\"t_wall_ns\":2,\"phase\":null}\n{\"t_wall_ns\":2,\"phase\":3}\n";
    let o = InspectOptions { with_columns: true, ..opts() };
    let data = zst(&tar_of(&[
        file("telemetry-guest.jsonl", guest),
        file("telemetry-qmp.jsonl", qmp),
        file("events.jsonl", events),
        file("labels.jsonl", labels),
    ]));
    let r = report_of(&data, &o);
    assert_eq!(r["members"]["guest"]["rows"], 3);
    assert_eq!(r["members"]["guest"]["skipped"], 7);
    let g = &r["columns"]["guest"];
    assert_eq!(g["cpu_user"], json!([1, null, null]));
    assert_eq!(g["cpu_softirq"], json!([5, null, null]));
    assert_eq!(g["load_1m"], json!([0.5, null, null]));
    assert_eq!(g["mem_available"], json!([10, null, null]));
    assert_eq!(g["swap_used"], json!([13, null, null]));
    assert_eq!(g["eth0_tx_pkts"], json!([23, null, null]));
    assert_eq!(g["n_listen_ports"], json!([1, null, null]));
    assert_eq!(g["n_top_procs"], json!([2, null, null]));
    assert_eq!(r["members"]["qmp"]["rows"], 3);
    let q = &r["columns"]["qmp"];
    assert_eq!(q["virtio0_rd_ops"], json!([1, null, null]));
    assert_eq!(q["virtio0_wr_bytes"], json!([200, null, null]));
    assert_eq!(q["kvm_pages_2m"], json!([9, null, null]));
    assert_eq!(q["blk_total_bytes"], json!([301, null, 2]));
    assert_eq!(r["members"]["events"]["rows"], 2);
    let e = &r["columns"]["events"];
    assert_eq!(e["phase"], json!([null, "dormant"]));
    assert_eq!(e["probe_yes"], json!([null, "0"]));
    assert_eq!(r["events"], json!({"workload_events": 2, "workload_failed": false, "killed_dormant_probe_zero": true}));
    assert_eq!(r["members"]["labels"]["rows"], 1);
}

#[test]
fn blk_total_sums_in_js_key_order() {
    // JS enumerates "2", "10" (array indices, ascending) before "b", "a".
    let row = "{\"t_wall_ns\":1,\"blockstats\":{\"b\":{\"rd_bytes\":1e16},\"10\":{\"rd_bytes\":1},\"a\":{\"rd_bytes\":-1e16},\"2\":{\"rd_bytes\":1}}}\n";
    let o = InspectOptions { with_columns: true, ..opts() };
    let r = report_of(&zst(&tar_of(&[file("telemetry-qmp.jsonl", row)])), &o);
    // ((1 + 1) + 1e16) + -1e16 = 2 ; insertion order would give 1 + 1 = ... 0 + 1 = 1.
    assert_eq!(r["columns"]["qmp"]["blk_total_bytes"], json!([2]));
}

#[test]
fn labels_monotonic_and_unknown_phases() {
    let labels = concat!(
        "{\"t_wall_ns\":10,\"t_mono_ns\":0,\"phase\":\"clean\"}\n",
        "{\"t_wall_ns\":20,\"phase\":\"zeta\"}\n",
        "{\"t_wall_ns\":30,\"t_mono_ns\":5,\"phase\":\"armed\"}\n",
        "{\"t_wall_ns\":40,\"t_mono_ns\":6,\"phase\":\"Alpha\"}\n",
        "{\"t_wall_ns\":50,\"t_mono_ns\":7,\"phase\":\"zeta\"}\n",
    );
    let r = inspect_entries(&[file("labels.jsonl", labels)]);
    assert_eq!(r["labels"], json!({"count": 5, "monotonic": true, "unknown_phases": ["Alpha", "zeta"], "phases": [0, 1], "t0_wall_ns": "10"}));
    // Missing t_mono_ns is not compared; a decreasing one is.
    let r = inspect_entries(&[file("labels.jsonl", "{\"t_wall_ns\":10,\"t_mono_ns\":5,\"phase\":\"clean\"}\n{\"t_wall_ns\":20,\"t_mono_ns\":4,\"phase\":\"armed\"}\n")]);
    assert_eq!(r["labels"]["monotonic"], false);
    let r = inspect_entries(&[file("labels.jsonl", "{\"t_wall_ns\":20,\"phase\":\"clean\"}\n{\"t_wall_ns\":10,\"phase\":\"armed\"}\n")]);
    assert_eq!(r["labels"]["monotonic"], false);
    assert_eq!(r["duration_s"], Value::Null); // labels but no telemetry, no meta
    let r = inspect_entries(&[]);
    assert_eq!(r["labels"], json!({"count": 0, "monotonic": true, "unknown_phases": [], "phases": [], "t0_wall_ns": null}));
}

#[test]
fn duration_and_span() {
    let proc = "{\"t_wall_ns\":1000000000}\n{\"t_wall_ns\":3500000001}\n{\"t_wall_ns\":2000000000}\n";
    let nf = "{\"t_wall_ns\":9000000000}\n";
    let r = inspect_entries(&[file("labels.jsonl", LABELS), file("telemetry-proc.jsonl", proc), file("netflow.jsonl", nf)]);
    assert_eq!(r["proc_span_s"], 2.500000001);
    assert_eq!(r["duration_s"], 8.0);
    let r = inspect_entries(&[file("labels.jsonl", LABELS), file("meta.json", "{\"result\":{\"duration_observed_s\":0}}"), file("netflow.jsonl", nf)]);
    assert_eq!(r["duration_s"], 8.0);
    let r = inspect_entries(&[file("labels.jsonl", LABELS), file("meta.json", "{\"result\":{\"duration_observed_s\":12.5}}")]);
    assert_eq!(r["duration_s"], 12.5);
    let r = inspect_entries(&[file("meta.json", "{\"result\":{\"duration_observed_s\":12.5}}"), file("netflow.jsonl", nf)]);
    assert_eq!(r["duration_s"], Value::Null);
    assert_eq!(r["proc_span_s"], 0);
}

/// Labels: clean [1s, 2s), infected_running [2s, ...).
fn signal_of(member: &str, rows: &str) -> Value {
    let r = inspect_entries(&[file("labels.jsonl", LABELS), file(member, rows)]);
    r["signals"].clone()
}

#[test]
fn proc_signal() {
    // 10 Hz; clean: 1 jiffy / 0.1 s = 10 %; infected: 5 jiffies / 0.1 s = 50 %.
    let mut rows = String::new();
    let mut j = 0;
    for k in 0..20i64 {
        let t = 1_000_000_000 + k * 100_000_000;
        j += if t >= 2_000_000_000 { 5 } else { 1 };
        rows += &format!("{{\"t_wall_ns\":{t},\"cpu_user_jiffies\":{j},\"cpu_sys_jiffies\":0}}\n");
    }
    let s = signal_of("telemetry-proc.jsonl", &rows);
    assert_eq!(s["proc"]["verdict"], "signal");
    assert_eq!(s["proc"]["spread"], 40.0);
    let flat: String = (0..20i64).map(|k| format!("{{\"t_wall_ns\":{},\"cpu_user_jiffies\":{k},\"cpu_sys_jiffies\":{k}}}\n", 1_000_000_000 + k * 100_000_000)).collect();
    let s = signal_of("telemetry-proc.jsonl", &flat);
    assert_eq!(s["proc"], json!({"verdict": "flat", "spread": 0}));
    // One phase only: unknown.
    let s = signal_of("telemetry-proc.jsonl", "{\"t_wall_ns\":3000000000,\"cpu_user_jiffies\":1}\n{\"t_wall_ns\":3100000000,\"cpu_user_jiffies\":2}\n");
    assert_eq!(s["proc"], json!({"verdict": "unknown", "spread": null}));
    // Missing member, and no labels: unknown.
    let r = inspect_entries(&[file("telemetry-proc.jsonl", rows.as_str())]);
    assert_eq!(r["signals"]["proc"]["verdict"], "unknown");
    assert_eq!(signal_of("x.txt", "")["proc"]["verdict"], "unknown");
}

#[test]
fn netflow_signal() {
    let rows = "{\"t_wall_ns\":1000000000,\"bytes_in\":100,\"bytes_out\":null}\n{\"t_wall_ns\":2000000000,\"bytes_in\":60000,\"bytes_out\":1000}\n{\"t_wall_ns\":3000000000,\"bytes_in\":1e400,\"bytes_out\":1}\n";
    assert_eq!(signal_of("netflow.jsonl", rows)["netflow"], json!({"verdict": "signal", "spread": 60901}));
    let rows = "{\"t_wall_ns\":1000000000,\"bytes_in\":100}\n{\"t_wall_ns\":2000000000,\"bytes_in\":200}\n";
    assert_eq!(signal_of("netflow.jsonl", rows)["netflow"], json!({"verdict": "flat", "spread": 100}));
    // A phase with rows but no finite bytes still counts (sum 0).
    let rows = "{\"t_wall_ns\":1000000000}\n{\"t_wall_ns\":2000000000,\"bytes_out\":51200}\n";
    assert_eq!(signal_of("netflow.jsonl", rows)["netflow"], json!({"verdict": "signal", "spread": 51200}));
    assert_eq!(signal_of("netflow.jsonl", "")["netflow"]["verdict"], "unknown");
}

#[test]
fn qmp_signal() {
    let dev = |t: i64, rd: i64, wr: i64| format!("{{\"t_wall_ns\":{t},\"blockstats\":{{\"virtio0\":{{\"rd_bytes\":{rd},\"wr_bytes\":{wr}}}}}}}\n");
    // Out of order on purpose: sorted by time before first/last.
    let rows = [dev(1_500_000_000, 0, 10), dev(1_000_000_000, 0, 0), dev(3_000_000_000, 0, 300_000), dev(2_000_000_000, 0, 1000)].concat();
    assert_eq!(signal_of("telemetry-qmp.jsonl", &rows)["qmp"], json!({"verdict": "signal", "spread": 299000 - 10}));
    let rows = [dev(1_000_000_000, 0, 0), dev(1_500_000_000, 0, 10), dev(2_000_000_000, 5, 5)].concat();
    assert_eq!(signal_of("telemetry-qmp.jsonl", &rows)["qmp"], json!({"verdict": "flat", "spread": 10}));
    let rows = "{\"t_wall_ns\":1000000000}\n{\"t_wall_ns\":2000000000,\"blockstats\":{}}\n";
    assert_eq!(signal_of("telemetry-qmp.jsonl", rows)["qmp"]["verdict"], "unknown");
}

#[test]
fn guest_signal() {
    let row = |t: i64, l: &str| format!("{{\"t_wall_ns\":{t},\"load_1m_5m_15m\":[{l},0,0]}}\n");
    let rows = [row(1_000_000_000, "0.1"), row(1_100_000_000, "0.3"), row(2_000_000_000, "0.2"), row(2_100_000_000, "0.5"), row(2_200_000_000, "0.9")].concat();
    assert_eq!(signal_of("telemetry-guest.jsonl", &rows)["guest"], json!({"verdict": "signal", "spread": 0.5 - (0.1 + 0.3) / 2.0}));
    let rows = [row(1_000_000_000, "0.1"), row(2_000_000_000, "0.15")].concat();
    let s = signal_of("telemetry-guest.jsonl", &rows);
    assert_eq!(s["guest"]["verdict"], "flat");
    assert_eq!(s["guest"]["spread"], 0.15 - 0.1);
    assert_eq!(signal_of("telemetry-guest.jsonl", &row(1_000_000_000, "1"))["guest"]["verdict"], "unknown");
}

#[test]
fn killed_dormant_probe_zero_uses_label_phase_when_no_phase_field() {
    let labels = "{\"t_wall_ns\":1,\"phase\":\"clean\"}\n{\"t_wall_ns\":100,\"phase\":\"dormant\"}\n";
    let ev = "{\"t_wall_ns\":150,\"event\":\"workload_killed\",\"pre_kill_probe\":{\"yes\":\"0\"}}\n{\"t_wall_ns\":150,\"event\":\"workload_failed\",\"error\":\"boom\"}\n";
    let r = inspect_entries(&[file("labels.jsonl", labels), file("events.jsonl", ev)]);
    assert_eq!(r["events"], json!({"workload_events": 2, "workload_failed": true, "killed_dormant_probe_zero": true}));
    let ev = "{\"t_wall_ns\":50,\"event\":\"workload_killed\",\"pre_kill_probe\":{\"yes\":\"0\"}}\n";
    let r = inspect_entries(&[file("labels.jsonl", labels), file("events.jsonl", ev)]);
    assert_eq!(r["events"]["killed_dormant_probe_zero"], false);
}

#[test]
fn columns_round_trip() {
    let data = realistic_episode(9);
    let o = InspectOptions { with_columns: true, ..opts() };
    let r = report_of(&data, &o);
    let c = &r["columns"];
    assert_eq!(c["proc"]["cpu_user_jiffies"].as_array().unwrap().len(), 520);
    assert_eq!(c["labels"]["phase"][4], "dormant");
    assert_eq!(c["netflow"]["t_mono_ns"][0], "987654000000000");
    let (_, ep) = decode_reader(&data[..], &opts());
    assert_eq!(ep.proc.len(), 520);
    assert_eq!(ep.guest.col("load_1m").len(), 52);
    assert!(ep.meta.is_some());
}
