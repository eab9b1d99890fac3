// One small built store with an episode per validation reason, swept with
// every available engine: the class and reasons each episode must get.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compress, decompress } from "zstd-napi";
import { buildTar } from "../src/archive/tar-write.js";
import { loadInspector } from "../src/native/backend.js";
import type { AcceptanceRow } from "../src/store/acceptance.js";
import { planStore, sweepTargets, type StorePlan } from "../src/store/sweep.js";
import { rawZstdFrame } from "./helpers/hostile.js";
import { availableEngines, buildEpisode, writeStore, type StoreItem } from "./helpers/store-fixture.js";

const H = "lab-a";
const ep = (id: string, extra: Partial<StoreItem["spec"]> = {}, host = H): StoreItem["spec"] => ({ episode_id: id, host_id: host, ...extra });

/** [item, expected class, expected reasons] */
const CASES: Array<[StoreItem, string, string[]]> = [
  [{ spec: ep("ok") }, "accepted", []],
  [{ spec: ep("dot-prefix", { prefix: "./" }) }, "accepted", []],
  [{ spec: ep("skipped-rows", { extraLines: { proc: ["not json", '{"t_mono_ns":1}'] } }) }, "accepted", []],
  [{ spec: ep("no-netflow", { omit: ["netflow"] }) }, "degraded", ["missing-netflow"]],
  [{ spec: ep("empty-netflow", { empty: ["netflow"] }) }, "degraded", ["empty-netflow"]],
  [{ spec: ep("no-guest", { omit: ["guest"] }) }, "degraded", ["missing-guest"]],
  [{ spec: ep("empty-guest", { empty: ["guest"] }) }, "degraded", ["empty-guest"]],
  [{ spec: ep("sha-bad"), index: { sha256: "0".repeat(64) } }, "rejected", ["sha256-mismatch"]],
  [{ spec: ep("size-bad"), index: { size_bytes: 1 } }, "rejected", ["size-mismatch"]],
  [{ spec: ep("orphan"), index: false }, "rejected", ["not-in-index"]],
  [{ spec: ep("symlink", { extraEntries: [{ name: "symlink/x", type: "symlink", linkname: "/etc/passwd" }] }) }, "rejected", ["suspicious-entry:symlink"]],
  [{ spec: ep("hardlink", { extraEntries: [{ name: "hardlink/x", type: "hardlink", linkname: "hardlink/meta.json" }] }) }, "rejected", ["suspicious-entry:hardlink"]],
  [{ spec: ep("unsafe", { extraEntries: [{ name: "../escape.txt", data: "x" }] }) }, "rejected", ["suspicious-entry:unsafe-path"]],
  [{ spec: ep("special", { extraEntries: [{ name: "special/dev", type: "chardev" }] }) }, "rejected", ["suspicious-entry:special-file"]],
  [{ spec: ep("dup-member", { extraEntries: [{ name: "./labels.jsonl", data: "" }] }) }, "rejected", ["suspicious-entry:duplicate-member"]],
  [{ spec: ep("no-meta", { omit: ["meta"] }) }, "rejected", ["missing-member:meta.json"]],
  [{ spec: ep("no-labels-member", { omit: ["labels"] }) }, "rejected", ["missing-member:labels.jsonl"]],
  [{ spec: ep("no-proc", { omit: ["proc"] }) }, "rejected", ["missing-member:telemetry-proc.jsonl"]],
  [{ spec: ep("meta-bad", { meta: "{not json" }) }, "rejected", ["meta-invalid"]],
  [{ spec: ep("meta-other", { meta: { episode_id: "someone-else" } }) }, "rejected", ["meta-mismatch"]],
  [{ spec: ep("meta-host", { meta: { host_id: "lab-z" } }) }, "rejected", ["meta-mismatch"]],
  [{ spec: ep("orphan-mismatch", { meta: { host_id: "lab-z" } }), index: false }, "rejected", ["not-in-index", "meta-mismatch"]],
  [{ spec: ep("no-labels", { empty: ["labels"] }) }, "rejected", ["no-labels"]],
  [{ spec: ep("unknown-phase", { labels: [["clean", 0], ["bogus", 10], ["infected_running", 30]] }) }, "rejected", ["unknown-phase"]],
  [{ spec: ep("non-mono", { labels: [["clean", 0], ["infected_running", 30], ["armed", 10]] }) }, "rejected", ["labels-non-monotonic"]],
  [{ spec: ep("few-proc", { procRows: 49 }) }, "rejected", ["too-few-proc-rows"]],
  [{ spec: ep("enough-proc", { procRows: 50 }) }, "accepted", []],
  [{ spec: ep("missing-file"), file: false }, "errored", ["tarball-missing"]],
  [{ spec: ep("garbage"), bytes: Buffer.from("this is not zstd at all, not even close".repeat(20)) }, "errored", ["zstd-error", "sha256-mismatch"]],
  [{ spec: ep("truncated"), bytes: buildEpisode(ep("truncated")).subarray(0, 2000) }, "errored", ["zstd-error"]],
  [{ spec: ep("bad-tar"), bytes: compress(Buffer.alloc(1500, 0x41)) }, "errored", ["tar-error"]],
  [
    { spec: ep("huge-member"), bytes: compress(buildTar([{ name: "huge-member/netflow.jsonl", data: "", size: 100 * 1024 * 1024 }])) },
    "errored",
    ["limit:member-bytes"],
  ],
  // A good episode in a frame whose header asks for a 2 GiB zstd window.
  [{ spec: ep("huge-window"), bytes: rawZstdFrame(decompress(buildEpisode(ep("huge-window"))), 31) }, "errored", ["limit:window-bytes"]],
  [{ spec: ep("ok2", {}, "lab-b") }, "accepted", []],
];

describe.each(availableEngines())("sweep with the %s engine", (engineName) => {
  let plan: StorePlan;
  const rows = new Map<string, AcceptanceRow>();

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-sweep-"));
    // A duplicate row for "ok" (same episode again, later line) and torn junk.
    const items = CASES.map(([item]) => item);
    // The garbage case keeps the digest of a real episode, so its sha mismatches.
    const garbage = items.find((i) => i.spec.episode_id === "garbage")!;
    garbage.index = { sha256: "f".repeat(64), size_bytes: garbage.bytes!.length };
    const truncated = items.find((i) => i.spec.episode_id === "truncated")!;
    truncated.index = {};
    writeStore(dir, items, JSON.stringify({ episode_id: "ok", host_id: H, sha256: "1".repeat(64), size_bytes: 5, received_at: "later" }) + "\n{\"episode_id\":\"half\n");
    plan = await planStore(dir);
    const engine = await loadInspector(engineName);
    // batch size 4 exercises the batching/prefetch path
    for await (const { row } of sweepTargets(plan.targets, { engine, jobs: 2, batchSize: 4 })) rows.set(row.episode_id, row);
  });

  it("gives every index row and orphan exactly one row", () => {
    expect(rows.size).toBe(CASES.length);
    expect(plan.index.duplicates.map((d) => d.episode_id)).toEqual(["ok"]);
    expect(plan.index.problems.map((p) => p.reason)).toEqual(["half-record"]);
  });

  for (const [item, cls, reasons] of CASES) {
    it(`${item.spec.episode_id} -> ${cls} ${reasons.join(",")}`, () => {
      const row = rows.get(item.spec.episode_id)!;
      expect({ class: row.class, reasons: row.reasons }).toEqual({ class: cls, reasons });
    });
  }

  it("keeps the first of duplicate rows", () => {
    expect(rows.get("ok")?.received_at).toBe("2026-04-02T10:12:00Z");
    expect(rows.get("ok")?.class).toBe("accepted");
  });

  it("counts skipped rows without changing the class", () => {
    const row = rows.get("skipped-rows")!;
    expect(row.skipped.proc).toBe(2);
    expect(row.rows.proc).toBe(600);
  });

  it("fills the compact row", () => {
    const row = rows.get("ok")!;
    expect(row).toMatchObject({
      host_id: H,
      path: `${H}/ok.tar.zst`,
      in_index: true,
      profile: "cpu-saturate",
      sample_name: "xmrig-6.21",
      module_name: "ssh-weak-cred",
      duration_s: 60,
      quality_reasons: [],
    });
    expect(row.quality?.verdicts).toEqual({ proc: "signal", netflow: "signal", qmp: "signal", guest: "signal" });
    expect(row.sha256).toBe(row.expected_sha256);
    expect(rows.get("missing-file")?.quality).toBe(null);
  });
});
