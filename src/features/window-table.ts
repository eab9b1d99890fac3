// Rows of features_window.parquet (docs/features.md, "Files written"): one
// row per window, identity and label columns first, then the 230 summary
// features as float64 (NaN = missing). Built one batch of episodes at a
// time, so a table never holds more than a batch.

import {
  Field,
  Float64,
  Int32,
  Int64,
  Int8,
  Schema,
  Table,
  Utf8,
  makeVector,
  vectorFromArray,
  type Vector,
} from "apache-arrow";
import { PHASES } from "../episode/report.js";
import type { EpisodeWindows } from "./types.js";

/** What the acceptance index says about an episode (plus its class). */
export interface EpisodeIdentity {
  episode_id: string;
  host_id: string;
  profile: string | null;
  sample_name: string | null;
  sample_kind: string | null;
  acceptance_class: string;
  started_at: string | null;
}

/** Identity and label columns, in file order, before the features. */
export const ID_COLUMNS = [
  "episode_id",
  "host_id",
  "profile",
  "sample_name",
  "sample_kind",
  "acceptance_class",
  "started_at",
  "t0_wall_ns",
  "window",
  "t_start_s",
  "t_center_s",
  "phase",
  "label",
  "infecting_start_s",
] as const;

/** Low-cardinality string columns: dictionary encoding pays for these only. */
export const DICTIONARY_COLUMNS = ["episode_id", "host_id", "profile", "sample_name", "sample_kind", "acceptance_class", "started_at", "phase"];

export function windowSchema(features: readonly string[]): Schema {
  const s = (name: string): Field => new Field(name, new Utf8(), true);
  return new Schema([
    s("episode_id"),
    s("host_id"),
    s("profile"),
    s("sample_name"),
    s("sample_kind"),
    s("acceptance_class"),
    s("started_at"),
    new Field("t0_wall_ns", new Int64(), true),
    new Field("window", new Int32(), true),
    new Field("t_start_s", new Float64(), true),
    new Field("t_center_s", new Float64(), true),
    s("phase"),
    new Field("label", new Int8(), true),
    new Field("infecting_start_s", new Float64(), true),
    ...features.map((f) => new Field(f, new Float64(), true)),
  ]);
}

/** Phase name of a code; codes outside the table (-1: unknown) have no name. */
export function phaseName(code: number): string | null {
  return code >= 0 && code < PHASES.length ? PHASES[code] : null;
}

export interface FeaturizedEpisode {
  identity: EpisodeIdentity;
  result: EpisodeWindows;
}

/** One Arrow table holding every window of `episodes` (in the given order). */
export function windowTable(episodes: FeaturizedEpisode[], features: readonly string[], window_s: number): Table {
  const nFeatures = features.length;
  let rows = 0;
  for (const e of episodes) rows += e.result.n_windows;

  const str: Record<"episode_id" | "host_id" | "profile" | "sample_name" | "sample_kind" | "acceptance_class" | "started_at" | "phase", Array<string | null>> = {
    episode_id: new Array(rows),
    host_id: new Array(rows),
    profile: new Array(rows),
    sample_name: new Array(rows),
    sample_kind: new Array(rows),
    acceptance_class: new Array(rows),
    started_at: new Array(rows),
    phase: new Array(rows),
  };
  const t0 = new BigInt64Array(rows);
  const windowIdx = new Int32Array(rows);
  const tStart = new Float64Array(rows);
  const tCenter = new Float64Array(rows);
  const label = new Int8Array(rows);
  const infectingStart = new Float64Array(rows);
  const columns = Array.from({ length: nFeatures }, () => new Float64Array(rows));

  let at = 0;
  for (const { identity, result } of episodes) {
    const n = result.n_windows;
    if (n === 0) continue;
    if (result.summary.length !== n * nFeatures) {
      throw new Error(`${identity.episode_id}: summary has ${result.summary.length} values for ${n} windows x ${nFeatures} features`);
    }
    const t0ns = BigInt(result.t0_wall_ns ?? "0");
    const infecting = result.phase_start_s[PHASES.indexOf("infecting")];
    for (let w = 0; w < n; w++, at++) {
      str.episode_id[at] = identity.episode_id;
      str.host_id[at] = identity.host_id;
      str.profile[at] = identity.profile;
      str.sample_name[at] = identity.sample_name;
      str.sample_kind[at] = identity.sample_kind;
      str.acceptance_class[at] = identity.acceptance_class;
      str.started_at[at] = identity.started_at;
      str.phase[at] = phaseName(result.phase[w]);
      t0[at] = t0ns;
      windowIdx[at] = w;
      tStart[at] = result.t_start_s[w];
      tCenter[at] = result.t_start_s[w] + window_s / 2;
      label[at] = result.phase[w];
      infectingStart[at] = infecting;
      const base = w * nFeatures;
      for (let f = 0; f < nFeatures; f++) columns[f][at] = result.summary[base + f];
    }
  }

  const vectors: Record<string, Vector> = {};
  const utf8 = new Utf8();
  for (const name of ["episode_id", "host_id", "profile", "sample_name", "sample_kind", "acceptance_class", "started_at"] as const) {
    vectors[name] = vectorFromArray(str[name], utf8);
  }
  vectors.t0_wall_ns = makeVector(t0);
  vectors.window = makeVector(windowIdx);
  vectors.t_start_s = makeVector(tStart);
  vectors.t_center_s = makeVector(tCenter);
  vectors.phase = vectorFromArray(str.phase, utf8);
  vectors.label = makeVector(label);
  vectors.infecting_start_s = makeVector(infectingStart);
  features.forEach((name, f) => {
    vectors[name] = makeVector(columns[f]);
  });
  return new Table(vectors);
}
