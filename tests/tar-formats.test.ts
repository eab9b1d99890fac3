// Tarballs packed by ordinary tools (issue 8, section 2): the same episode
// packed as ustar by our writer, by GNU tar in ustar, posix (pax) and gnu
// formats, by Python's tarfile (pax, with a global header), and as a
// hand-built pax layout must validate and featurise identically, with both
// engines. The tool-made files are committed (fixtures/pax, made by
// fixtures/pax/make.sh), so no tool is needed here.

import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_INSPECT_OPTIONS, type EpisodeReport } from "../src/episode/report.js";
import { DEFAULT_FEATURE_OPTIONS, type EpisodeWindows, type Featurizer } from "../src/features/types.js";
import { inspectBytes } from "../src/reference/inspect/inspect.js";
import { referenceFeaturizer } from "../src/reference/features.js";
import { listTarEntries } from "../src/reference/inspect/archive.js";
import { decompress } from "zstd-napi";
import { runCli } from "./helpers/cli.js";
import { buildEpisode, paxEpisodeTar, zst } from "./helpers/hostile.js";
import { runNativeSuites as haveNative } from "./helpers/native.js";
import { PAX_FIXTURE_SPEC, PAX_FIXTURES, paxFixtureFiles } from "./helpers/pax-fixture.js";

const fixtureDir = fileURLToPath(new URL("../fixtures/pax", import.meta.url));
const ID = { episode_id: "ep-pax-0001", host_id: "elliott-thinkpad" };

/** Every packing of the fixture episode: name -> .tar.zst bytes. */
function packings(): Array<[string, Buffer]> {
  return [
    ["our ustar writer", buildEpisode(PAX_FIXTURE_SPEC)],
    ["hand-built pax, path records", zst(paxEpisodeTar(PAX_FIXTURE_SPEC, { pathRecords: true }))],
    ...Object.entries(PAX_FIXTURES).map(([file, tool]): [string, Buffer] => [tool, readFileSync(join(fixtureDir, file))]),
  ];
}

/** The report without what must differ between packings (the file's digest and size). */
function comparable(r: EpisodeReport): unknown {
  const copy = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
  delete copy.sha256;
  delete copy.size_bytes;
  delete copy.fatal_detail;
  return copy;
}

describe("the fixture files", () => {
  it("hold what each tool writes", () => {
    const flags = (file: string) => {
      const tar = decompress(readFileSync(join(fixtureDir, file)));
      const out = new Set<string>();
      for (let off = 0; off + 512 <= tar.length; ) {
        const h = tar.subarray(off, off + 512);
        if (h.every((b) => b === 0)) break;
        out.add(String.fromCharCode(h[156]));
        const size = parseInt(h.subarray(124, 136).toString("latin1"), 8);
        off += 512 + Math.ceil(size / 512) * 512;
      }
      return [...out].sort().join("");
    };
    expect(flags("gnu-ustar.tar.zst")).toBe("05");
    expect(flags("gnu-posix.tar.zst")).toBe("05x");
    expect(flags("gnu-gnu.tar.zst")).toBe("05L");
    expect(flags("python-pax.tar.zst")).toBe("05gx");
    // The members are byte for byte those of tests/helpers/pax-fixture.ts.
    const want = new Map(paxFixtureFiles().map((f) => [f.name, Buffer.from(f.data).toString("utf8")]));
    for (const file of Object.keys(PAX_FIXTURES)) {
      const tar = decompress(readFileSync(join(fixtureDir, file)));
      const files = listTarEntries(tar).filter((e) => e.kind === "file");
      expect(files.map((e) => e.name).sort(), file).toEqual([...want.keys()].sort());
      for (const e of files) expect(tar.subarray(e.dataOffset, e.dataOffset + e.size).toString("utf8"), `${file} ${e.name}`).toBe(want.get(e.name));
      // Every member name is over 100 bytes (GNU 'L' records, pax path records, ustar prefixes).
      expect(files.every((e) => Buffer.byteLength(e.name) > 100)).toBe(true);
    }
  });
});

describe("the same episode, packed six ways", () => {
  let dir: string;
  const paths: string[] = [];
  const names: string[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "cis490-tar-formats-"));
    packings().forEach(([name, buf], i) => {
      // One store per packing: the index row carries that file's digest and size.
      const store = join(dir, `store-${i}`);
      mkdirSync(join(store, ID.host_id), { recursive: true });
      const file = join(store, ID.host_id, `${ID.episode_id}.tar.zst`);
      writeFileSync(file, buf);
      const row = { ...ID, sha256: createHash("sha256").update(buf).digest("hex"), size_bytes: buf.length, received_at: "2026-04-02T10:12:40Z" };
      writeFileSync(join(store, "index.jsonl"), `${JSON.stringify(row)}\n`);
      paths.push(file);
      names.push(name);
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("inspects identically (reference, and native when built), apart from digests", async () => {
    const reports = paths.map((p) => inspectBytes(readFileSync(p), DEFAULT_INSPECT_OPTIONS));
    expect(reports[0].fatal).toBeNull();
    expect(reports[0].findings).toEqual([]);
    expect(reports[0].members.proc.rows).toBe(120);
    for (let i = 1; i < reports.length; i++) expect(comparable(reports[i]), names[i]).toEqual(comparable(reports[0]));
    if (haveNative) {
      const { inspectBufferNative } = await import("../src/native/inspect.js");
      for (let i = 0; i < paths.length; i++) {
        const native = inspectBufferNative(readFileSync(paths[i]), { ...DEFAULT_INSPECT_OPTIONS, with_columns: true });
        const reference = inspectBytes(readFileSync(paths[i]), { ...DEFAULT_INSPECT_OPTIONS, with_columns: true });
        expect(comparable(native), names[i]).toEqual(comparable(reference));
        expect(native.sha256).toBe(reference.sha256);
      }
    }
  });

  for (const engine of haveNative ? ["reference", "native"] : ["reference"]) {
    it(`validate (${engine} engine) accepts every packing with the same row`, async () => {
      const rows: unknown[] = [];
      for (let i = 0; i < paths.length; i++) {
        const store = join(dir, `store-${i}`);
        const res = await runCli(["validate", "--store", store, "--out", join(store, "..", `acceptance-${i}-${engine}.parquet`), "--json", "--engine", engine, "--jobs", "1"]);
        expect(res.code, `${names[i]}: ${res.stderr}`).toBe(0);
        const doc = JSON.parse(res.stdout);
        expect(doc.counts, names[i]).toEqual({ accepted: 1, degraded: 0, rejected: 0, errored: 0 });
        const { sha256: _s, size_bytes: _b, ...row } = doc.episodes[0];
        expect(row.reasons, names[i]).toEqual([]);
        rows.push(row);
      }
      for (let i = 1; i < rows.length; i++) expect(rows[i], names[i]).toEqual(rows[0]);
    });
  }

  it("featurises identically (summaries and tensors, both featurizers)", async () => {
    const featurizers: Featurizer[] = [referenceFeaturizer];
    if (haveNative) featurizers.push((await import("../src/native/features.js")).nativeFeaturizer);
    const options = { ...DEFAULT_FEATURE_OPTIONS, tensors: true };
    let first: EpisodeWindows | null = null;
    for (const f of featurizers) {
      const out = await f.featurizeFiles(paths, options, DEFAULT_INSPECT_OPTIONS, 1);
      expect(out[0].error, f.name).toBeNull();
      expect(out[0].n_windows, f.name).toBeGreaterThan(0);
      for (let i = 1; i < out.length; i++) expect(out[i], `${f.name}: ${names[i]}`).toEqual(out[0]);
      if (first === null) first = out[0];
      else {
        // Across featurizers the parity test's tolerance applies; here only the shape and phases must agree.
        expect(out[0].n_windows).toBe(first.n_windows);
        expect(Array.from(out[0].phase)).toEqual(Array.from(first.phase));
      }
    }
  });
});
