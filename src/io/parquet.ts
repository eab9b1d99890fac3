// Parquet on disk <-> Arrow tables in JS memory. parquet-wasm does the
// encoding; apache-arrow holds the data on the JS side. Files are written
// atomically (see atomic.ts).

import { readFile } from "node:fs/promises";
import { type Table, tableFromIPC, tableToIPC } from "apache-arrow";
import * as pw from "parquet-wasm";
import { writeFileAtomic } from "./atomic.js";

/** Encodes an Arrow table as Parquet bytes (zstd-compressed columns). */
export function encodeParquet(table: Table): Uint8Array {
  const wasmTable = pw.Table.fromIPCStream(tableToIPC(table, "stream"));
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setCreatedBy("cis490").build();
  // writeParquet consumes both the table and the properties.
  return pw.writeParquet(wasmTable, props);
}

export function decodeParquet(bytes: Uint8Array): Table {
  const wasmTable = pw.readParquet(bytes);
  return tableFromIPC(wasmTable.intoIPCStream());
}

export async function writeParquet(path: string, table: Table): Promise<void> {
  await writeFileAtomic(path, encodeParquet(table));
}

export async function readParquet(path: string): Promise<Table> {
  return decodeParquet(new Uint8Array(await readFile(path)));
}
