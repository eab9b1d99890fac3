// Splits work per episode, never per window: the features file is reduced
// to one row per episode (identity, start time, window count, which phase
// labels occur). Read by streaming a few columns, so the features file's
// size does not matter.

import { PHASES } from "../episode/report.js";
import { readParquetBatches } from "../io/parquet.js";

export interface SplitEpisode {
  episode_id: string;
  host_id: string;
  profile: string | null;
  sample_name: string | null;
  started_at: string | null;
  /** First label's wall clock (ns since the epoch): the episode's start for the time recipe. */
  t0_wall_ns: bigint;
  windows: number;
  /** Windows per phase code (index = code; PHASES order). */
  phase_windows: number[];
}

const COLUMNS = ["episode_id", "host_id", "profile", "sample_name", "started_at", "t0_wall_ns", "label"];

/** One entry per episode, sorted by episode_id. */
export async function readSplitEpisodes(featuresPath: string): Promise<SplitEpisode[]> {
  const byId = new Map<string, SplitEpisode>();
  for await (const batch of readParquetBatches(featuresPath, { columns: COLUMNS })) {
    const col = (name: string): { get(i: number): unknown } => {
      const c = batch.getChild(name);
      if (!c) throw new Error(`${featuresPath} has no ${name} column (is it features_window.parquet?)`);
      return c;
    };
    const [ids, hosts, profiles, samples, starts, t0s, labels] = COLUMNS.map(col);
    for (let i = 0; i < batch.numRows; i++) {
      const id = ids.get(i) as string;
      let ep = byId.get(id);
      if (!ep) {
        ep = {
          episode_id: id,
          host_id: hosts.get(i) as string,
          profile: (profiles.get(i) as string | null) ?? null,
          sample_name: (samples.get(i) as string | null) ?? null,
          started_at: (starts.get(i) as string | null) ?? null,
          t0_wall_ns: BigInt((t0s.get(i) as bigint | number | null) ?? 0),
          windows: 0,
          phase_windows: PHASES.map(() => 0),
        };
        byId.set(id, ep);
      }
      ep.windows++;
      const code = labels.get(i) as number | null;
      if (code !== null && code >= 0 && code < PHASES.length) ep.phase_windows[code]++;
    }
  }
  return [...byId.values()].sort((a, b) => (a.episode_id < b.episode_id ? -1 : a.episode_id > b.episode_id ? 1 : 0));
}

