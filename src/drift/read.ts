// Reading windows for drift: chosen feature columns as a float32 matrix plus
// each window's episode, host and profile, optionally only the episodes of
// some split sides. Also the reference sample file stored with a version.

import { Table, Utf8, makeVector, vectorFromArray, type Vector } from "apache-arrow";
import { readParquetBatches } from "../io/parquet.js";
import { encodeParquet } from "../io/parquet.js";

export interface WindowMatrix {
  x: Float32Array;
  width: number;
  episodes: string[];
  hosts: string[];
  profiles: string[];
}

export async function readWindowMatrix(path: string, names: readonly string[], episodes: Set<string> | null = null, withIds = true): Promise<WindowMatrix> {
  const width = names.length;
  const chunks: Float32Array[] = [];
  const out: WindowMatrix = { x: new Float32Array(0), width, episodes: [], hosts: [], profiles: [] };
  const idCols = withIds ? ["episode_id", "host_id", "profile"] : ["episode_id"];
  for await (const batch of readParquetBatches(path, { columns: [...idCols, ...names] })) {
    const col = (name: string) => {
      const c = batch.getChild(name);
      if (!c) throw new Error(`${path} has no column ${name}`);
      return c;
    };
    const ids = col("episode_id");
    const rows: number[] = [];
    for (let i = 0; i < batch.numRows; i++) if (episodes === null || episodes.has(ids.get(i) as string)) rows.push(i);
    if (rows.length === 0) continue;
    const host = withIds ? col("host_id") : null;
    const profile = withIds ? col("profile") : null;
    for (const i of rows) {
      out.episodes.push(ids.get(i) as string);
      out.hosts.push(host ? String(host.get(i)) : "");
      out.profiles.push(profile ? String(profile.get(i)) : "");
    }
    const m = new Float32Array(rows.length * width);
    names.forEach((name, f) => {
      const c = col(name);
      const values = c.toArray() as ArrayLike<number>;
      const nulls = c.nullCount > 0;
      rows.forEach((i, k) => (m[k * width + f] = nulls && c.get(i) === null ? Number.NaN : values[i]));
    });
    chunks.push(m);
  }
  out.x = new Float32Array(out.episodes.length * width);
  let at = 0;
  for (const c of chunks) {
    out.x.set(c, at);
    at += c.length;
  }
  return out;
}

/** The reference sample as Parquet bytes: episode_id, host_id, profile + one float32 column per feature. */
export function referenceSampleParquet(names: readonly string[], m: WindowMatrix): Uint8Array {
  const { x, episodes } = m;
  const n = episodes.length;
  const width = names.length;
  const columns: Record<string, Vector> = { episode_id: vectorFromArray(episodes, new Utf8()), host_id: vectorFromArray(m.hosts, new Utf8()), profile: vectorFromArray(m.profiles, new Utf8()) };
  names.forEach((name, f) => {
    const col = new Float32Array(n);
    for (let i = 0; i < n; i++) col[i] = x[i * width + f];
    columns[name] = makeVector(col);
  });
  return encodeParquet(new Table(columns));
}
