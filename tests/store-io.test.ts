// Atomic writes, durable moves (including across filesystems), and the
// acceptance index's Parquet round trip.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { moveFileDurable, removeStaleTemps, tempPathFor, writeFileAtomic } from "../src/io/atomic.js";
import { readParquet, writeParquet } from "../src/io/parquet.js";
import { ProgressBar } from "../src/cli/progress.js";
import { formatTable } from "../src/cli/text-table.js";
import { ACCEPTANCE_COLUMNS, acceptanceTable, type AcceptanceRow } from "../src/store/acceptance.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "cis490-io-"));

describe("atomic files", () => {
  it("writes atomically with mode and owner, leaving no temp file", async () => {
    const dir = tmp();
    const path = join(dir, "out.bin");
    writeFileSync(path, "old");
    await writeFileAtomic(path, "new", { mode: 0o640, uid: 1234, gid: 4321 });
    expect(readFileSync(path, "utf8")).toBe("new");
    const st = statSync(path);
    expect(st.mode & 0o777).toBe(0o640);
    if (process.getuid?.() === 0) expect([st.uid, st.gid]).toEqual([1234, 4321]);
    expect(readdirSync(dir)).toEqual(["out.bin"]);
  });

  it("moves within a filesystem by rename", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "a"), "payload");
    expect(await moveFileDurable(join(dir, "a"), join(dir, "sub", "b"))).toBe("renamed");
    expect(readFileSync(join(dir, "sub", "b"), "utf8")).toBe("payload");
    expect(existsSync(join(dir, "a"))).toBe(false);
  });

  it.skipIf(!existsSync("/dev/shm") || statSync("/dev/shm").dev === statSync(tmpdir()).dev)("moves across filesystems by copy + unlink", async () => {
    const src = join(tmp(), "a.tar.zst");
    writeFileSync(src, Buffer.alloc(300_000, 7));
    statSync(src);
    const dstDir = mkdtempSync("/dev/shm/cis490-io-");
    const dst = join(dstDir, "h", "a.tar.zst");
    expect(await moveFileDurable(src, dst)).toBe("copied");
    expect(readFileSync(dst)).toEqual(Buffer.alloc(300_000, 7));
    expect(existsSync(src)).toBe(false);
    expect(readdirSync(join(dstDir, "h"))).toEqual(["a.tar.zst"]);
    rmSync(dstDir, { recursive: true, force: true });
  });

  it("cleans up stale temp files of a target only", async () => {
    const dir = tmp();
    const target = join(dir, "x.tar.zst");
    writeFileSync(tempPathFor(target), "half");
    writeFileSync(tempPathFor(join(dir, "y.tar.zst")), "other");
    expect(await removeStaleTemps(target)).toBe(1);
    expect(readdirSync(dir)).toHaveLength(1);
  });
});

function row(i: number): AcceptanceRow {
  const counts = { labels: 5 + i, events: 2, proc: 600, guest: 60, qmp: 120, netflow: i === 1 ? 0 : 60 };
  return {
    episode_id: `ep-${i}`,
    host_id: `host-${i % 2}`,
    path: `host-${i % 2}/ep-${i}.tar.zst`,
    in_index: i !== 2,
    class: i === 1 ? "degraded" : i === 2 ? "rejected" : "accepted",
    reasons: i === 1 ? ["empty-netflow"] : i === 2 ? ["not-in-index", "meta-mismatch"] : [],
    profile: "cpu-saturate",
    sample_name: i === 0 ? null : "xmrig-6.21",
    sample_kind: "miner",
    module_name: "ssh-weak-cred",
    rows: counts,
    skipped: { labels: 0, events: 0, proc: i, guest: 0, qmp: 0, netflow: 0 },
    duration_s: i === 0 ? null : 52.5,
    proc_span_s: 51.9,
    sha256: "ab".repeat(32),
    size_bytes: 5_000_000_000 + i,
    expected_sha256: i === 2 ? null : "ab".repeat(32),
    expected_size_bytes: i === 2 ? null : 5_000_000_000 + i,
    received_at: "2026-04-02T10:12:00Z",
    quality: {
      meta_present: true,
      sample_present: i !== 0,
      labels_count: 5,
      workload_events: 2,
      workload_failed: false,
      killed_dormant_probe_zero: false,
      verdicts: { proc: "signal", netflow: "flat", qmp: "unknown", guest: "signal" },
    },
    spreads: { proc: 12.5, netflow: 10, qmp: null, guest: 0.5 },
    quality_reasons: i === 0 ? ["no-sample"] : [],
    findings: i === 1 ? ["limit:line-bytes@ep/netflow.jsonl"] : [],
  };
}

describe("acceptance index parquet", () => {
  it("round-trips rows, columns and values", async () => {
    const path = join(tmp(), "acceptance.parquet");
    const rows = [row(0), row(1), row(2)];
    await writeParquet(path, acceptanceTable(rows));
    const table = await readParquet(path);
    expect(table.numRows).toBe(3);
    expect(table.schema.fields.map((f) => f.name)).toEqual(ACCEPTANCE_COLUMNS.map((c) => c.name));
    expect(String(table.schema.fields.find((f) => f.name === "reasons")?.type)).toBe("List<Utf8>");
    const get = (name: string, i: number): unknown => {
      const v = table.getChild(name)?.get(i);
      return v && typeof v === "object" && "toArray" in v ? [...(v as { toArray(): unknown[] }).toArray()] : v;
    };
    expect(get("episode_id", 2)).toBe("ep-2");
    expect(get("class", 1)).toBe("degraded");
    expect(get("reasons", 2)).toEqual(["not-in-index", "meta-mismatch"]);
    expect(get("reasons", 0)).toEqual([]);
    expect(get("sample_name", 0)).toBe(null);
    expect(get("rows_netflow", 1)).toBe(0);
    expect(get("rows_labels", 2)).toBe(7);
    expect(get("skipped_proc", 2)).toBe(2);
    expect(get("duration_s", 0)).toBe(null);
    expect(get("duration_s", 1)).toBe(52.5);
    expect(get("size_bytes", 1)).toBe(5_000_000_001n);
    expect(get("expected_size_bytes", 2)).toBe(null);
    expect(get("in_index", 2)).toBe(false);
    expect(get("signal_qmp", 0)).toBe("unknown");
    expect(get("spread_qmp", 0)).toBe(null);
    expect(get("quality_reasons", 0)).toEqual(["no-sample"]);
    expect(get("findings", 1)).toEqual(["limit:line-bytes@ep/netflow.jsonl"]);
    expect(get("sample_present", 0)).toBe(false);
  });

  it("writes an empty index", async () => {
    const path = join(tmp(), "empty.parquet");
    await writeParquet(path, acceptanceTable([]));
    const table = await readParquet(path);
    expect(table.numRows).toBe(0);
    expect(table.numCols).toBe(ACCEPTANCE_COLUMNS.length);
  });
});

describe("formatTable", () => {
  it("aligns columns", () => {
    expect(formatTable(["a", "n"], [["xx", 1], ["y", 100]], ["left", "right"])).toBe("a     n\n--  ---\nxx    1\ny   100\n");
  });
});

describe("ProgressBar", () => {
  it("draws a bar only on a TTY; elsewhere plain lines per 10%", () => {
    const written: string[] = [];
    const tty = { isTTY: true, columns: 100, write: (s: string) => written.push(s) };
    const bar = new ProgressBar(tty, 10, "validate");
    bar.tick(10);
    bar.finish();
    expect(written.join("")).toMatch(/^\rvalidate \[#+\] 10\/10 [\d.]+ ep\/s ETA /);
    expect(written[written.length - 1]).toBe("\n");
    const piped: string[] = [];
    const quiet = new ProgressBar({ isTTY: false, write: (s: string) => piped.push(s) }, 10, "validate");
    quiet.tick(5);
    quiet.finish();
    expect(piped).toHaveLength(1);
    expect(piped[0]).toMatch(/^validate: 50% \(5\/10\) [\d.]+ ep\/s, elapsed \d\d:\d\d, ETA [\d:-]+\n$/);
  });
});
