import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readIndex, splitLinePieces } from "../src/store/index-file.js";

const HEX = (c: string): string => c.repeat(64);
const rec = (id: string, host = "h1", extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ episode_id: id, host_id: host, sha256: HEX("a"), size_bytes: 10, received_at: "2026-04-02T10:00:00Z", ...extra });

function indexFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "cis490-index-"));
  const path = join(dir, "index.jsonl");
  writeFileSync(path, text);
  return path;
}

describe("splitLinePieces", () => {
  it("splits concatenated objects and keeps braces inside strings", () => {
    const a = rec("ep-1", "h{1}");
    const b = rec("ep-2");
    const pieces = splitLinePieces(a + b);
    expect(pieces.map((p) => p.kind)).toEqual(["object", "object"]);
    expect(pieces[0].text).toBe(a);
  });

  it("finds a whole record behind a half record", () => {
    const half = rec("ep-1").slice(0, 30);
    const whole = rec("ep-2");
    const pieces = splitLinePieces(half + whole);
    expect(pieces).toHaveLength(2);
    expect(pieces[0]).toMatchObject({ kind: "fragment", reason: "half-record", text: half });
    expect(pieces[1]).toMatchObject({ kind: "object", text: whole });
  });

  it("reports garbage between records", () => {
    const pieces = splitLinePieces(`xyz ${rec("a")} ###`);
    expect(pieces.map((p) => (p.kind === "fragment" ? p.reason : "object"))).toEqual(["garbage", "object", "garbage"]);
  });
});

describe("readIndex", () => {
  it("recovers every whole record from torn lines and reports the rest", async () => {
    const lines = [
      rec("ep-01"), // 1 plain
      rec("ep-02") + rec("ep-03"), // 2 two on one line
      rec("ep-04").slice(0, 40), // 3 half record
      "", // 4 blank
      "   ", // 5 whitespace only
      "garbage here", // 6
      rec("ep-05") + "\r", // 7 CRLF
      rec("ep-06").slice(0, 25) + rec("ep-07"), // 8 half + whole
      rec("ep-08") + rec("ep-09") + rec("ep-10"), // 9 three
      JSON.stringify({ episode_id: "ep-11", host_id: "h1" }), // 10 unusable: fields missing
      JSON.stringify({ episode_id: "ep-12", host_id: "h1", sha256: "zz", size_bytes: -1, received_at: 5 }), // 11 wrong types
      rec("ep-01", "h2"), // 12 duplicate episode_id
      "[1,2,3]", // 13 not an object
      rec("ep-13"), // 14 last line, no newline
    ];
    const path = indexFile(lines.slice(0, -1).join("\n") + "\n" + lines[lines.length - 1]);
    const result = await readIndex(path);
    expect(result.exists).toBe(true);
    expect(result.entries.map((e) => e.record.episode_id)).toEqual([
      "ep-01", "ep-02", "ep-03", "ep-05", "ep-07", "ep-08", "ep-09", "ep-10", "ep-13",
    ]);
    expect(result.entries.find((e) => e.record.episode_id === "ep-05")?.lineNo).toBe(7);
    expect(result.tornLinesRecovered).toBe(3); // lines 2, 8, 9
    expect(result.duplicates).toEqual([{ episode_id: "ep-01", host_id: "h2", lineNo: 12, firstLineNo: 1 }]);
    const problems = result.problems.map((p) => [p.lineNo, p.reason]);
    expect(problems).toEqual([
      [3, "half-record"],
      [6, "garbage"],
      [8, "half-record"],
      [10, "unusable-record"],
      [11, "unusable-record"],
      [13, "garbage"],
    ]);
    const wrong = result.problems.find((p) => p.lineNo === 11);
    expect(wrong?.detail).toContain("sha256");
    expect(wrong?.detail).toContain("size_bytes");
    expect(wrong?.detail).toContain("received_at");
    expect(result.problems[0].snippet.length).toBeLessThanOrEqual(81);
    expect(result.lines).toBe(12); // non-blank lines
  });

  it("records byte offsets of each line", async () => {
    const a = rec("ep-a");
    const b = rec("ep-b");
    const path = indexFile(`${a}\r\n${b}\n`);
    const result = await readIndex(path);
    expect(result.entries.map((e) => [e.lineStart, e.lineEnd])).toEqual([
      [0, a.length + 2],
      [a.length + 2, a.length + 3 + b.length],
    ]);
    expect(result.bytesRead).toBe(a.length + b.length + 3);
  });

  it("reads a missing index as empty", async () => {
    const result = await readIndex(join(mkdtempSync(join(tmpdir(), "cis490-index-")), "index.jsonl"));
    expect(result.exists).toBe(false);
    expect(result.entries).toEqual([]);
  });

  it("streams a large index", async () => {
    const n = 30_000;
    const text = Array.from({ length: n }, (_, i) => rec(`ep-${i}`)).join("\n") + "\n";
    const result = await readIndex(indexFile(text));
    expect(result.entries).toHaveLength(n);
    expect(result.entries[n - 1].lineEnd).toBe(Buffer.byteLength(text));
  });
});
