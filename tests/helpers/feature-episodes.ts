// Tiny hand-made episodes for the feature tests: every member given as rows
// (seconds relative to T0), everything else absent.

import { buildEpisode, jsonLine, T0, type MemberKey } from "./hostile.js";

export type Rows = Array<Record<string, unknown>>;

export interface TinyEpisode {
  /** meta.result.duration_observed_s; null falls back to the last row. */
  duration?: number | null;
  /** [seconds, phase] in file order. */
  labels?: Array<[number, string]>;
  proc?: Rows;
  guest?: Rows;
  qmp?: Rows;
  netflow?: Rows;
}

/** ns offset of `s` seconds from T0, exact for millisecond multiples. */
export function at(s: number): bigint {
  return T0 + BigInt(Math.round(s * 1000)) * 1_000_000n;
}

/** A row at `s` seconds with the given fields. */
export function row(s: number, fields: Record<string, unknown>): Record<string, unknown> {
  return { t_wall_ns: at(s), ...fields };
}

export function tinyEpisode(spec: TinyEpisode): Buffer {
  const lines = (rows: Rows | undefined) => (rows ?? []).map((r) => jsonLine(r) + "\n").join("");
  const drop: MemberKey[] = ["events"];
  const replace: Partial<Record<MemberKey, string>> = {
    labels: (spec.labels ?? [[0, "clean"]]).map(([s, phase]) => jsonLine({ t_wall_ns: at(s), phase }) + "\n").join(""),
  };
  for (const m of ["proc", "guest", "qmp", "netflow"] as const) {
    if (spec[m] === undefined) drop.push(m);
    else replace[m] = lines(spec[m]);
  }
  const duration = spec.duration === undefined ? 10 : spec.duration;
  return buildEpisode({ drop, replace, meta: { result: { duration_observed_s: duration, outcome: "completed" } } });
}
