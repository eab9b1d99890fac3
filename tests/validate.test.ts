// `cis490 validate`: JSON shape, Parquet output, summary, exit codes.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readParquet } from "../src/io/parquet.js";
import { runCli } from "./helpers/cli.js";
import { availableEngines, writeStore } from "./helpers/store-fixture.js";
import { requirePrerequisite, skipWithout } from "./helpers/prerequisites.js";


function smallStore(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "cis490-validate-")), "store");
  writeStore(
    dir,
    [
      { spec: { episode_id: "ep-1", host_id: "lab-a" } },
      { spec: { episode_id: "ep-2", host_id: "lab-a", omit: ["netflow"] } },
      { spec: { episode_id: "ep-3", host_id: "lab-b", meta: { sample: null } } },
      { spec: { episode_id: "ep-4", host_id: "lab-b" }, file: false },
      { spec: { episode_id: "ep-5", host_id: "lab-b" }, index: false },
      { spec: { episode_id: "ep-6", host_id: "lab-b", extraLines: { guest: ["{bad"] } } },
    ],
    '{"episode_id":"ep-torn"',
  );
  return dir;
}

describe.each(availableEngines())("validate (%s engine)", (engine) => {
  it("prints one JSON document and writes the acceptance index", async () => {
    const store = smallStore();
    const out = join(store, "..", "acc.parquet");
    const res = await runCli(["validate", "--store", store, "--out", out, "--json", "--engine", engine, "--jobs", "2"]);
    // Without a terminal, stderr carries plain progress lines (docs/machine.md) and nothing else.
    expect(res.stderr.replace(/^[^\n]*: \d+% \(\d+\/\d+\)[^\n]*\n/gm, "")).toBe("");
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(res.stdout.trim().split("\n")).toHaveLength(1);
    expect(doc.counts).toEqual({ accepted: 3, degraded: 1, rejected: 1, errored: 1 });
    expect(doc.index).toMatchObject({ exists: true, torn_lines_recovered: 0, duplicates: [] });
    expect(doc.index.unrecoverable).toEqual([{ line: 6, byte_offset: expect.any(Number), reason: "half-record", snippet: '{"episode_id":"ep-torn"' }]);
    expect(doc.skipped_rows.guest).toBe(1);
    expect(doc.hosts["lab-b"]).toEqual({ accepted: 2, degraded: 0, rejected: 1, errored: 1 });
    expect(doc.episodes.map((e: { episode_id: string }) => e.episode_id)).toEqual(["ep-1", "ep-2", "ep-3", "ep-4", "ep-6", "ep-5"]);
    const e2 = doc.episodes[1];
    expect(Object.keys(e2)).toEqual(expect.arrayContaining(["episode_id", "host_id", "class", "reasons", "profile", "sample_name"]));
    expect(e2).toMatchObject({ episode_id: "ep-2", host_id: "lab-a", class: "degraded", reasons: ["missing-netflow"], profile: "cpu-saturate" });
    expect(doc.episodes[2]).toMatchObject({ sample_name: null, quality_reasons: ["no-sample"] });
    expect(doc.episodes[5]).toMatchObject({ episode_id: "ep-5", class: "rejected", reasons: ["not-in-index"] });

    const table = await readParquet(out);
    expect(table.numRows).toBe(6);
    expect(table.getChild("episode_id")?.toArray()).toEqual(["ep-1", "ep-2", "ep-3", "ep-4", "ep-6", "ep-5"]);
    expect(table.getChild("class")?.toArray()).toEqual(["accepted", "degraded", "accepted", "errored", "accepted", "rejected"]);
    expect([...table.getChild("reasons")!.get(3)!.toArray()]).toEqual(["tarball-missing"]);
    expect(table.getChild("skipped_guest")?.get(4)).toBe(1);
  });

  it("prints a readable summary", async () => {
    const store = smallStore();
    const out = join(store, "..", "acc.parquet");
    const res = await runCli(["validate", "--store", store, "--out", out, "--engine", engine]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/accepted\s+3\s+50\.0%/);
    expect(res.stdout).toMatch(/tarball-missing\s+1/);
    expect(res.stdout).toMatch(/lab-b\s+2\s+0\s+1\s+1/);
    expect(res.stdout).toContain("unrecoverable fragments: 1");
    expect(res.stdout).toMatch(/guest\s+1\s+1/);
    expect(res.stdout).toContain(out);
    expect(existsSync(out)).toBe(true);
  });

  it("applies --min-proc-seconds", async () => {
    const store = smallStore();
    const res = await runCli(["validate", "--store", store, "--out", join(store, "..", "a.parquet"), "--json", "--engine", engine, "--min-proc-seconds", "61"]);
    const doc = JSON.parse(res.stdout);
    expect(doc.episodes[0]).toMatchObject({ class: "rejected", reasons: ["too-few-proc-rows"] });
  });

  it("reads a missing index.jsonl as empty, with a warning", async () => {
    const store = smallStore();
    rmSync(join(store, "index.jsonl"));
    const res = await runCli(["validate", "--store", store, "--out", join(store, "..", "a.parquet"), "--json", "--engine", engine]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain("not found");
    const doc = JSON.parse(res.stdout);
    expect(doc.index.exists).toBe(false);
    expect(doc.counts.rejected).toBe(5);
    expect(new Set(doc.episodes.map((e: { reasons: string[] }) => e.reasons[0]))).toEqual(new Set(["not-in-index"]));
  });
});

describe("validate exit codes", () => {
  it("1 when the store does not exist or is not a directory", async () => {
    const base = mkdtempSync(join(tmpdir(), "cis490-validate-"));
    const missing = await runCli(["validate", "--store", join(base, "nope"), "--engine", "reference"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("store not found");
    writeFileSync(join(base, "file"), "x");
    expect((await runCli(["validate", "--store", join(base, "file"), "--engine", "reference"])).code).toBe(1);
  });

  it("1 when index.jsonl is unreadable", async () => {
    const store = smallStore();
    rmSync(join(store, "index.jsonl"));
    mkdirSync(join(store, "index.jsonl"));
    const res = await runCli(["validate", "--store", store, "--out", join(store, "..", "a.parquet"), "--engine", "reference"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("cannot read the store");
  });

  it("2 on usage errors", async () => {
    const store = smallStore();
    expect((await runCli(["validate", "--store", store, "--bogus"])).code).toBe(2);
    expect((await runCli(["validate"])).code).toBe(2);
    expect((await runCli(["validate", "--store", store, "--jobs", "zero"])).code).toBe(2);
    expect((await runCli(["validate", "--store", store, "--jobs", "0"])).code).toBe(2);
    expect((await runCli(["validate", "--store", store, "--engine", "fast"])).code).toBe(2);
    expect((await runCli(["validate", "--store", store, "--min-proc-seconds", "-1"])).code).toBe(2);
  });

  it("runs as a built CLI", { timeout: 60_000 }, (ctx) => {
    if (skipWithout("build")) ctx.skip();
    requirePrerequisite("build");
    const store = smallStore();
    const engine = availableEngines().includes("native") ? "native" : "reference";
    const ok = spawnSync("node", ["bin/cis490", "validate", "--store", store, "--out", join(store, "..", "a.parquet"), "--json", "--engine", engine], { encoding: "utf8" });
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).counts.accepted).toBe(3);
    expect(spawnSync("node", ["bin/cis490", "validate", "--store", join(store, "nope")], { encoding: "utf8" }).status).toBe(1);
    expect(spawnSync("node", ["bin/cis490", "validate", "--store", store, "--bogus"], { encoding: "utf8" }).status).toBe(2);
    expect(spawnSync("node", ["bin/cis490", "prune", "--store", store, "--archive", "--delete"], { encoding: "utf8" }).status).toBe(2);
  });
});
