// Smoke test of the Rust addon through src/native.ts: it loads, inspects a
// tarball built in memory, and turns bad arguments into JS errors.

import { createRequire } from "node:module";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compress } from "zstd-napi";
import { buildTar } from "../src/archive/tar-write.js";
import { DEFAULT_INSPECT_OPTIONS } from "../src/episode/report.js";
import { inspectBufferNative, nativeInspector, nativeVersion } from "../src/native/inspect.js";

const T0 = 1775124672000000000n;
const row = (o: Record<string, unknown>) => JSON.stringify(o, (_k, v) => (typeof v === "bigint" ? Number(v) : v));

function episode(): Buffer {
  const labels = [
    `{"t_mono_ns":0,"t_wall_ns":${T0},"phase":"clean"}`,
    `{"t_mono_ns":5000000000,"t_wall_ns":${T0 + 5_000_000_000n},"phase":"infected_running"}`,
  ].join("\n");
  const proc: string[] = [];
  let jiffies = 0;
  for (let k = 0; k < 100; k++) {
    jiffies += k < 50 ? 1 : 8;
    proc.push(`{"t_wall_ns":${T0 + BigInt(k) * 100_000_000n},"cpu_user_jiffies":${jiffies},"cpu_sys_jiffies":0,"rss_bytes":1e9}`);
  }
  const tar = buildTar([
    { name: "ep-1/", type: "dir" },
    { name: "ep-1/meta.json", data: row({ schema_version: 1, episode_id: "ep-1", sample: null, result: { duration_observed_s: 10 } }) },
    { name: "ep-1/labels.jsonl", data: labels + "\n" },
    { name: "ep-1/telemetry-proc.jsonl", data: proc.join("\n") + "\n" },
    { name: "ep-1/evil", type: "symlink", linkname: "/etc/passwd" },
  ]);
  return compress(tar);
}

describe("native addon", () => {
  const dir = mkdtempSync(join(tmpdir(), "cis490-native-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reports its version", () => {
    expect(nativeVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("inspects a buffer", () => {
    const buf = episode();
    const r = inspectBufferNative(buf, DEFAULT_INSPECT_OPTIONS);
    expect(r.size_bytes).toBe(buf.length);
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.fatal).toBeNull();
    expect(r.findings).toEqual([{ code: "symlink", member: "ep-1/evil" }]);
    expect(r.meta?.episode_id).toBe("ep-1");
    expect(r.meta?.sample_present).toBe(false);
    expect(r.members.proc).toEqual({ present: true, rows: 100, skipped: 0, bytes: expect.any(Number) });
    expect(r.members.netflow.present).toBe(false);
    expect(r.labels.t0_wall_ns).toBe(T0.toString());
    expect(r.labels.phases).toEqual([0, 3]);
    expect(r.duration_s).toBe(10);
    expect(r.signals.proc.verdict).toBe("signal");
    expect(r.signals.netflow).toEqual({ verdict: "unknown", spread: null });
    expect(r.columns).toBeNull();
    const withCols = inspectBufferNative(new Uint8Array(buf), { ...DEFAULT_INSPECT_OPTIONS, with_columns: true });
    expect(withCols.columns?.proc.rss_bytes[0]).toBe(1e9);
  });

  it("inspects files in parallel, in order, without rejecting for bad episodes", async () => {
    const good = join(dir, "good.tar.zst");
    const junk = join(dir, "junk.tar.zst");
    writeFileSync(good, episode());
    writeFileSync(junk, "not zstd");
    const reports = await nativeInspector.inspectFiles([good, join(dir, "missing.tar.zst"), junk, good], DEFAULT_INSPECT_OPTIONS, 2);
    expect(reports.map((r) => [r.io_error, r.fatal])).toEqual([
      [null, null],
      ["ENOENT", null],
      [null, "zstd-error"],
      [null, null],
    ]);
    expect(await nativeInspector.inspectFiles([], DEFAULT_INSPECT_OPTIONS, 0)).toEqual([]);
  });

  it("throws JS errors for bad arguments instead of crashing", async () => {
    const require = createRequire(import.meta.url);
    const addon = require("../native/cis490.node");
    expect(() => addon.inspectBuffer("not a buffer", "{}")).toThrow(/Buffer or Uint8Array/);
    expect(() => addon.inspectBuffer(Buffer.alloc(0))).toThrow(/optionsJson must be a string/);
    expect(() => addon.inspectBuffer(Buffer.alloc(0), "{nope")).toThrow(/invalid inspect options/);
    expect(() => addon.inspectBuffer(Buffer.alloc(0), '{"max_depth": "deep"}')).toThrow(Error);
    expect(() => addon.inspectFiles("x", "{}", 1)).toThrow(/array of strings/);
    expect(() => addon.inspectFiles([1], "{}", 1)).toThrow(/paths\[0\] must be a string/);
    expect(() => addon.inspectFiles([], "{}", "2")).toThrow(/jobs must be a number/);
    expect(() => addon.inspectFiles([], "{}", Number.NaN)).toThrow(/jobs/);
    // The process is still alive and the addon still works.
    expect(addon.version()).toBe(nativeVersion());
  });
});
