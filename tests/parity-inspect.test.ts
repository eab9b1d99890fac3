// Parity: the native decoder (crates/, via src/native.ts) and the TypeScript
// reference must produce the same report for every input, hostile or not
// (docs/inspection.md). Only `fatal_detail` (free text) may differ.

import { beforeAll, expect, it } from "vitest";
import { DEFAULT_INSPECT_OPTIONS, type EpisodeReport, type InspectOptions } from "../src/episode/report.js";
import { inspectBytes } from "../src/reference/inspect/inspect.js";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { hostileCases, paxEpisodeTar, rng, variedEpisode, zst } from "./helpers/hostile.js";
import { PAX_FIXTURES } from "./helpers/pax-fixture.js";

import { describeWith } from "./helpers/prerequisites.js";

type NativeInspect = (buf: Uint8Array, options: InspectOptions) => EpisodeReport;

/** JSON round trip (NaN -> null, -0 -> 0, as the report is written), without the free-text detail. */
function normalise(report: EpisodeReport): unknown {
  const copy = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
  delete copy.fatal_detail;
  return copy;
}

/** The paths where two JSON values differ, with both values (first few only). */
function differences(a: unknown, b: unknown, path = "$", out: string[] = []): string[] {
  if (out.length >= 12) return out;
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
    return out;
  }
  if (!Object.is(a, b)) out.push(`${path}: native=${JSON.stringify(a)} reference=${JSON.stringify(b)}`);
  return out;
}

describeWith("native", "inspect parity: native vs reference", () => {
  let inspectNative: NativeInspect;
  beforeAll(async () => {
    const mod = (await import("../src/native/inspect.js")) as unknown as { inspectBufferNative: NativeInspect };
    inspectNative = mod.inspectBufferNative;
  });

  function expectSame(name: string, buf: Uint8Array, options: Partial<InspectOptions>): void {
    for (const withColumns of [false, true]) {
      const opts: InspectOptions = { ...DEFAULT_INSPECT_OPTIONS, ...options, with_columns: withColumns };
      const native = normalise(inspectNative(buf, opts));
      const reference = normalise(inspectBytes(buf, opts));
      const diff = differences(native, reference);
      expect(diff, `${name} (with_columns=${withColumns}):\n  ${diff.join("\n  ")}`).toEqual([]);
    }
  }

  for (const c of hostileCases()) {
    it(`hostile: ${c.name}`, () => {
      expectSame(c.name, c.build(), c.options ?? {});
    });
  }

  it("50 seeded varied episodes", () => {
    for (let seed = 1; seed <= 50; seed++) expectSame(`varied episode seed ${seed}`, variedEpisode(seed), {});
  });

  it("tool-made pax/GNU/ustar fixtures (fixtures/pax)", () => {
    for (const file of Object.keys(PAX_FIXTURES)) {
      const buf = readFileSync(fileURLToPath(new URL(`../fixtures/pax/${file}`, import.meta.url)));
      expectSame(file, buf, {});
      expectSame(`${file} tight`, buf, { max_member_bytes: 5000, max_total_bytes: 40_000 });
    }
  });

  it("seeded mutations of pax records: lengths, keys, values, separators", async () => {
    // A pax header with path and size records before every entry; then edits only inside the pax data.
    const tar = paxEpisodeTar({}, { pathRecords: true, tweak: (i, _name, size) => [["size", i % 2 ? "" : String(size)]] });
    const ranges: Array<[number, number]> = [];
    for (let off = 0; off + 512 <= tar.length && tar[off] !== 0; ) {
      const size = parseInt(tar.subarray(off + 124, off + 135).toString("latin1"), 8);
      if (tar[off + 156] === 0x78) ranges.push([off + 512, size]);
      off += 512 + Math.ceil(size / 512) * 512;
    }
    const alphabet = Buffer.from("0123456789 =\n\0x-./");
    const r = rng(490);
    for (let n = 0; n < 60; n++) {
      // Let the worker answer vitest's RPC now and then (a long synchronous stretch on loaded cores times it out).
      if (n % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
      const t = Buffer.from(tar);
      const edits = 1 + Math.floor(r() * 4);
      for (let e = 0; e < edits; e++) {
        const [start, len] = ranges[Math.floor(r() * ranges.length)];
        t[start + Math.floor(r() * len)] = alphabet[Math.floor(r() * alphabet.length)];
      }
      expectSame(`pax mutation ${n}`, zst(t), n % 3 === 0 ? { max_member_bytes: 20_000 } : {});
    }
  });

  it("varied episodes under tight limits", () => {
    const tight: Array<Partial<InspectOptions>> = [
      { max_rows: 37 },
      { max_line_bytes: 150 },
      { max_depth: 2 },
      { max_member_bytes: 20_000 },
      { max_total_bytes: 30_000 },
    ];
    for (let seed = 100; seed < 110; seed++) {
      const buf = variedEpisode(seed);
      for (const options of tight) expectSame(`seed ${seed} ${JSON.stringify(options)}`, buf, options);
    }
  });
});
