// Where things live in a store: `<store>/index.jsonl` and
// `<store>/<host_id>/<episode_id>.tar.zst`. Paths handed to the decoder and
// to prune always come from walking the directory, never from joining ids
// read out of index.jsonl (an id like `../x` must not reach outside).

import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { CliError } from "../util/errors.js";

export const INDEX_FILE = "index.jsonl";
export const TARBALL_SUFFIX = ".tar.zst";

export interface StoreTarball {
  host_id: string;
  episode_id: string;
  /** `<host_id>/<episode_id>.tar.zst`, relative to the store. */
  rel: string;
  abs: string;
}

export interface StoreListing {
  tarballs: StoreTarball[];
  /** Entries named like tarballs that are not regular files (symlinks, dirs...): never read. */
  ignored: string[];
}

export function relPathOf(host_id: string, episode_id: string): string {
  return `${host_id}/${episode_id}${TARBALL_SUFFIX}`;
}

/** Lists `<store>/*\/*.tar.zst`, sorted by relative path. Dot-names (our temp files) are skipped. */
export async function listStore(store: string): Promise<StoreListing> {
  const tarballs: StoreTarball[] = [];
  const ignored: string[] = [];
  const hosts = await fsp.readdir(store, { withFileTypes: true });
  for (const host of hosts) {
    if (host.name.startsWith(".")) continue;
    if (!host.isDirectory()) continue;
    const hostDir = join(store, host.name);
    let entries;
    try {
      entries = await fsp.readdir(hostDir, { withFileTypes: true });
    } catch {
      ignored.push(host.name + "/");
      continue;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".") || !entry.name.endsWith(TARBALL_SUFFIX)) continue;
      const rel = `${host.name}/${entry.name}`;
      if (!entry.isFile()) {
        ignored.push(rel);
        continue;
      }
      const episode_id = entry.name.slice(0, -TARBALL_SUFFIX.length);
      tarballs.push({ host_id: host.name, episode_id, rel, abs: join(hostDir, entry.name) });
    }
  }
  tarballs.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  ignored.sort();
  return { tarballs, ignored };
}

/** Throws a CliError (exit 1) unless `dir` is a readable directory. */
export async function assertStoreDir(dir: string): Promise<void> {
  let problem: string | null = null;
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) problem = `store is not a directory: ${dir}`;
    else await fsp.readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problem = code === "ENOENT" ? `store not found: ${dir}` : `store unreadable: ${dir} (${(error as Error).message})`;
  }
  if (problem) throw new CliError(problem);
}
