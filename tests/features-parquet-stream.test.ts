// Streaming Parquet writer/reader: many row groups in ONE file, rows read
// back equal to what was written, atomic appearance, empty output.

import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Field, Float64, Int32, Schema, Table, Utf8, vectorFromArray } from "apache-arrow";
import { describe, expect, it } from "vitest";
import { parquetRowGroups, ParquetStreamWriter, readParquet, readParquetBatches, readParquetWasmBatches } from "../src/io/parquet.js";

const schema = new Schema([new Field("id", new Utf8(), true), new Field("k", new Int32(), true), new Field("v", new Float64(), true)]);

function batch(from: number, n: number): Table {
  const ids = Array.from({ length: n }, (_, i) => `ep-${String(from + i).padStart(6, "0")}`);
  const v = Float64Array.from({ length: n }, (_, i) => ((from + i) % 7 === 0 ? NaN : (from + i) / 3));
  return new Table({
    id: vectorFromArray(ids, new Utf8()),
    k: vectorFromArray(Int32Array.from({ length: n }, (_, i) => from + i)),
    v: vectorFromArray(v),
  });
}

describe("ParquetStreamWriter", () => {
  it("streams batches into one file with several row groups that reads back equal", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-pqs-"));
    const path = join(dir, "out.parquet");
    const w = await ParquetStreamWriter.open(path, schema, { rowGroupRows: 1000 });
    let total = 0;
    for (let b = 0; b < 12; b++) {
      const n = 333 + b * 17;
      await w.write(batch(total, n));
      total += n;
      // Nothing that looks whole exists until close().
      expect(existsSync(path)).toBe(false);
    }
    await w.close();
    expect(readdirSync(dir)).toEqual(["out.parquet"]);
    const meta = await parquetRowGroups(path);
    expect(meta.rows).toBe(total);
    expect(meta.rowGroups).toBe(Math.ceil(total / 1000));

    const whole = await readParquet(path);
    expect(whole.numRows).toBe(total);
    const k = whole.getChild("k")!.toArray() as Int32Array;
    expect(Array.from(k)).toEqual(Array.from({ length: total }, (_, i) => i));
    const v = whole.getChild("v")!.toArray() as Float64Array;
    for (let i = 0; i < total; i++) {
      if (i % 7 === 0) expect(Number.isNaN(v[i])).toBe(true);
      else expect(v[i]).toBe(i / 3);
    }
    expect(whole.getChild("id")!.get(total - 1)).toBe(`ep-${String(total - 1).padStart(6, "0")}`);

    // The batch reader yields the same rows, a column subset, in order.
    const ids: string[] = [];
    for await (const t of readParquetBatches(path, { columns: ["id"], batchSize: 500 })) {
      expect(t.schema.fields.map((f) => f.name)).toEqual(["id"]);
      expect(t.numRows).toBeLessThanOrEqual(500);
      ids.push(...(t.getChild("id")!.toArray() as string[]));
    }
    expect(ids).toHaveLength(total);
    expect(ids[1234]).toBe("ep-001234");
  });

  it("re-encodes wasm batches (merge path) without going through JS", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-pqs-"));
    const a = join(dir, "a.parquet");
    const w = await ParquetStreamWriter.open(a, schema, { rowGroupRows: 100 });
    await w.write(batch(0, 450));
    await w.close();
    const b = join(dir, "b.parquet");
    const w2 = await ParquetStreamWriter.open(b, schema, { rowGroupRows: 200 });
    for (const src of [a, a]) {
      for await (const rb of readParquetWasmBatches(src, { batchSize: 128 })) {
        const n = rb.numRows;
        await w2.writeWasmBatch(rb);
        w2.countRows(n);
      }
    }
    await w2.close();
    expect(w2.rowsWritten).toBe(900);
    const t = await readParquet(b);
    expect(t.numRows).toBe(900);
    expect(t.getChild("k")!.get(450)).toBe(0);
    expect((await parquetRowGroups(b)).rowGroups).toBe(5);
  });

  it("writes a readable empty file when no rows come", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-pqs-"));
    const path = join(dir, "empty.parquet");
    const w = await ParquetStreamWriter.open(path, schema);
    await w.close();
    const t = await readParquet(path);
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => f.name)).toEqual(["id", "k", "v"]);
  });

  it("abort leaves the destination untouched and no temp file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-pqs-"));
    const path = join(dir, "x.parquet");
    writeFileSync(path, "old");
    const w = await ParquetStreamWriter.open(path, schema, { rowGroupRows: 10 });
    await w.write(batch(0, 50));
    await w.abort();
    expect(readdirSync(dir)).toEqual(["x.parquet"]);
  });

  it("fails (and cleans up) on a batch whose schema differs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-pqs-"));
    const path = join(dir, "y.parquet");
    const w = await ParquetStreamWriter.open(path, schema, { rowGroupRows: 10 });
    await w.write(batch(0, 20));
    const other = new Table({ z: vectorFromArray(["a"], new Utf8()) });
    let failed = false;
    try {
      await w.write(other);
      await w.close();
    } catch {
      failed = true;
      await w.abort();
    }
    expect(failed).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});
