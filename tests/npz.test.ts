// The .npz writer: round trip through our reader, the npy header layout
// (64-byte alignment), CRC-32 against zlib's, corruption detection, and
// numpy's own np.load (Debian's python3-numpy; required under `make test`).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { PYTHON, requirePrerequisite, skipWithout } from "./helpers/prerequisites.js";
import { crc32, decodeNpy, decodeNpz, encodeNpz, npyHeader, unicodeDtypeFor, type NpyArray } from "../src/io/npz.js";

const concat = (pieces: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(pieces.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function sampleArrays(): Record<string, NpyArray> {
  const n = 3;
  const x = new Float32Array(n * 2 * 4).map((_, i) => i * 0.5 - 3);
  x[5] = NaN;
  const mask = new Uint8Array(n * 2 * 4).map((_, i) => (i % 3 === 0 ? 1 : 0));
  const ids = ["ep-000001", "ep-2", "épisode-ü"];
  return {
    x: { dtype: "<f4", shape: [n, 2, 4], data: x },
    mask: { dtype: "|b1", shape: [n, 2, 4], data: mask },
    y: { dtype: "|i1", shape: [n], data: Int8Array.from([0, 3, -1]) },
    window: { dtype: "<i4", shape: [n], data: Int32Array.from([0, 1, 2_000_000_000]) },
    t_center_s: { dtype: "<f8", shape: [n], data: Float64Array.from([5, 10.25, Number.MAX_VALUE]) },
    episode_id: { dtype: unicodeDtypeFor(ids), shape: [n], data: ids },
  };
}

describe("npy header", () => {
  it("is version 1.0 and pads the data start to 64 bytes", () => {
    for (const shape of [[0], [7], [123456, 46, 100], [1, 2, 3, 4, 5, 6, 7, 8]]) {
      const h = npyHeader("<f4", shape);
      expect(h.length % 64).toBe(0);
      expect([...h.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
      const len = h[8] | (h[9] << 8);
      expect(10 + len).toBe(h.length);
      const text = new TextDecoder().decode(h.subarray(10));
      expect(text.endsWith("\n")).toBe(true);
      expect(text).toContain(`'shape': (${shape.length === 1 ? `${shape[0]},` : shape.join(", ")})`);
      expect(text).toContain("'fortran_order': False");
    }
  });

  it("sizes unicode to the longest string in code points", () => {
    expect(unicodeDtypeFor([])).toBe("<U1");
    expect(unicodeDtypeFor(["ab", "😀😀😀"])).toBe("<U3");
  });
});

describe("crc32", () => {
  it("matches the standard check value and zlib", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    const zcrc = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 2654435761) >>> 24);
    if (zcrc) expect(crc32(bytes)).toBe(zcrc(bytes));
    // Chunked continuation equals one pass.
    expect(crc32(bytes.subarray(50_001), crc32(bytes.subarray(0, 50_001)))).toBe(crc32(bytes));
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe("npz", () => {
  it("round-trips every dtype through our reader", () => {
    const arrays = sampleArrays();
    const back = decodeNpz(concat(encodeNpz(arrays)));
    expect(Object.keys(back)).toEqual(Object.keys(arrays));
    for (const [name, a] of Object.entries(arrays)) {
      expect(back[name].dtype).toBe(a.dtype);
      expect(back[name].shape).toEqual(a.shape);
      expect(Array.from(back[name].data as ArrayLike<unknown>)).toEqual(Array.from(a.data as ArrayLike<unknown>));
    }
  });

  it("writes an array given as pieces exactly like the same array in one piece", () => {
    const whole = Float32Array.from({ length: 24 }, (_, i) => i / 7);
    const pieces = [whole.subarray(0, 8), whole.subarray(8, 9), whole.subarray(9)];
    const a = concat(encodeNpz({ x: { dtype: "<f4", shape: [2, 3, 4], data: whole } }));
    const b = concat(encodeNpz({ x: { dtype: "<f4", shape: [2, 3, 4], pieces } }));
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    expect(() => encodeNpz({ x: { dtype: "<f4", shape: [2, 3, 5], pieces } })).toThrow(/24 elements/);
  });

  it("is deterministic and detects a corrupted byte", () => {
    const a = concat(encodeNpz(sampleArrays()));
    const b = concat(encodeNpz(sampleArrays()));
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    const bad = a.slice();
    bad[200] ^= 0xff; // inside x.npy's data
    expect(() => decodeNpz(bad)).toThrow(/CRC mismatch/);
  });

  it("rejects data that does not match the dtype or shape", () => {
    expect(() => encodeNpz({ a: { dtype: "<f4", shape: [3], data: new Float64Array(3) } })).toThrow(/Float32Array/);
    expect(() => encodeNpz({ a: { dtype: "<f4", shape: [4], data: new Float32Array(3) } })).toThrow(/3 elements/);
    expect(() => encodeNpz({ a: { dtype: "<U2", shape: [1], data: ["abc"] } })).toThrow(/longer/);
  });

  it("decodes a single .npy", () => {
    const arrays = sampleArrays();
    const [h, body] = [npyHeader("<i4", [3]), new Uint8Array(Int32Array.from([1, 2, 3]).buffer)];
    const back = decodeNpy(concat([h, body]));
    expect(Array.from(back.data as Int32Array)).toEqual([1, 2, 3]);
    expect(arrays.x.shape).toEqual([3, 2, 4]);
  });

  it.skipIf(skipWithout("numpy"))("loads with numpy's np.load, and we read numpy's own np.savez", () => {
    requirePrerequisite("numpy");
    const dir = mkdtempSync(join(tmpdir(), "cis490-npz-"));
    const path = join(dir, "a.npz");
    writeFileSync(path, concat(encodeNpz(sampleArrays())));
    const script = `
import json, sys, numpy as np
z = np.load(sys.argv[1])
out = {"meta": {k: {"dtype": z[k].dtype.str, "shape": list(z[k].shape)} for k in z.files}}
out["x_sum"] = float(np.nansum(z["x"]))
out["x_nan"] = int(np.isnan(z["x"]).sum())
out["mask_sum"] = int(z["mask"].sum())
out["ids"] = [str(s) for s in z["episode_id"]]
out["y"] = z["y"].tolist()
out["window"] = z["window"].tolist()
np.savez(sys.argv[2], a=np.arange(6, dtype=np.int32).reshape(2, 3), b=np.array(["x", "yz"]), c=np.array([True, False]))
print(json.dumps(out))
`;
    const res = spawnSync(PYTHON, ["-c", script, path, join(dir, "np.npz")], { encoding: "utf8" });
    expect(res.stderr).toBe("");
    const out = JSON.parse(res.stdout);
    expect(out.meta).toEqual({
      x: { dtype: "<f4", shape: [3, 2, 4] },
      mask: { dtype: "|b1", shape: [3, 2, 4] },
      y: { dtype: "|i1", shape: [3] },
      window: { dtype: "<i4", shape: [3] },
      t_center_s: { dtype: "<f8", shape: [3] },
      episode_id: { dtype: "<U9", shape: [3] },
    });
    const x = sampleArrays().x.data as Float32Array;
    expect(out.x_sum).toBeCloseTo(Array.from(x).filter((v) => !Number.isNaN(v)).reduce((a, b) => a + b, 0), 4);
    expect(out.x_nan).toBe(1);
    expect(out.mask_sum).toBe(8);
    expect(out.ids).toEqual(["ep-000001", "ep-2", "épisode-ü"]);
    expect(out.y).toEqual([0, 3, -1]);
    expect(out.window).toEqual([0, 1, 2_000_000_000]);

    const theirs = decodeNpz(new Uint8Array(readFileSync(join(dir, "np.npz"))));
    expect(theirs.a.shape).toEqual([2, 3]);
    expect(Array.from(theirs.a.data as Int32Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(theirs.b.data).toEqual(["x", "yz"]);
    expect(Array.from(theirs.c.data as Uint8Array)).toEqual([1, 0]);
  });
});
