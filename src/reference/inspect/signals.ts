// The TypeScript twin of crates/cis490-core/src/signals.rs: phase lookup and
// the per-source quality signals (docs/inspection.md, "Quality signals"),
// with float operations in the order the doc prescribes.

import { PHASES, type SourceSignal } from "../../episode/report.js";
import { SCHEMAS, type MemberTable } from "./parse.js";

const PHASE_CODE = new Map<string, number>(PHASES.map((p, i) => [p, i]));
export const DORMANT = PHASE_CODE.get("dormant")!;

export function phaseCode(phase: string): number {
  return PHASE_CODE.get(phase) ?? -1;
}

/** ns difference to seconds: exact i64 difference, then one rounding to f64, then / 1e9. */
export function nsToSeconds(later: bigint, earlier: bigint): number {
  return Number(later - earlier) / 1e9;
}

/** "The phase of an instant": the last label in file order whose t_wall_ns <= t; clean before any. */
export class PhaseLookup {
  private readonly sorted: boolean;
  constructor(
    private readonly walls: BigInt64Array,
    private readonly codes: number[],
  ) {
    let sorted = true;
    for (let i = 1; i < walls.length; i++) if (walls[i] < walls[i - 1]) sorted = false;
    this.sorted = sorted;
  }
  at(t: bigint): number {
    const w = this.walls;
    if (this.sorted) {
      // Binary search for the last index with w[i] <= t.
      let lo = 0;
      let hi = w.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (w[mid] <= t) lo = mid + 1;
        else hi = mid;
      }
      return lo === 0 ? 0 : this.codes[lo - 1];
    }
    for (let i = w.length - 1; i >= 0; i--) if (w[i] <= t) return this.codes[i];
    return 0;
  }
}

function median(values: number[]): number {
  const v = Float64Array.from(values).sort();
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function verdict(perPhase: Map<number, number>, threshold: number): SourceSignal {
  if (perPhase.size < 2) return { verdict: "unknown", spread: null };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of perPhase.values()) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const spread = hi - lo;
  return { verdict: spread >= threshold ? "signal" : "flat", spread };
}

/** Row indices sorted by t_wall_ns, stable (Array.prototype.sort is stable). */
function sortedByWall(walls: BigInt64Array): number[] {
  const idx = Array.from({ length: walls.length }, (_, i) => i);
  return idx.sort((a, b) => (walls[a] < walls[b] ? -1 : walls[a] > walls[b] ? 1 : 0));
}

function col(table: MemberTable, field: string): Float64Array {
  return table.nums[SCHEMAS[table.name].numFields.indexOf(field)].values();
}

export function procSignal(t: MemberTable, phaseAt: PhaseLookup): SourceSignal {
  const walls = t.wall.values();
  const user = col(t, "cpu_user_jiffies");
  const sys = col(t, "cpu_sys_jiffies");
  const order = sortedByWall(walls);
  const groups = new Map<number, number[]>();
  for (let k = 1; k < order.length; k++) {
    const prev = order[k - 1];
    const cur = order[k];
    const jPrev = user[prev] + sys[prev];
    const jCur = user[cur] + sys[cur];
    if (!Number.isFinite(jPrev) || !Number.isFinite(jCur)) continue;
    if (walls[cur] <= walls[prev]) continue;
    const dtS = nsToSeconds(walls[cur], walls[prev]);
    const cpuPct = ((jCur - jPrev) / 100 / dtS) * 100;
    const phase = phaseAt.at(walls[cur]);
    let g = groups.get(phase);
    if (!g) groups.set(phase, (g = []));
    g.push(cpuPct);
  }
  const medians = new Map<number, number>();
  for (const [phase, values] of groups) medians.set(phase, median(values));
  return verdict(medians, 5.0);
}

export function netflowSignal(t: MemberTable, phaseAt: PhaseLookup): SourceSignal {
  const walls = t.wall.values();
  const bin = col(t, "bytes_in");
  const bout = col(t, "bytes_out");
  const sums = new Map<number, number>();
  for (let i = 0; i < walls.length; i++) {
    const phase = phaseAt.at(walls[i]);
    let acc = sums.get(phase) ?? 0;
    if (Number.isFinite(bin[i])) acc += bin[i];
    if (Number.isFinite(bout[i])) acc += bout[i];
    sums.set(phase, acc);
  }
  return verdict(sums, 51200);
}

export function qmpSignal(t: MemberTable, phaseAt: PhaseLookup): SourceSignal {
  const walls = t.wall.values();
  const blk = col(t, "blk_total_bytes");
  const firstLast = new Map<number, [number, number]>();
  for (const i of sortedByWall(walls)) {
    if (!Number.isFinite(blk[i])) continue;
    const phase = phaseAt.at(walls[i]);
    const fl = firstLast.get(phase);
    if (fl) fl[1] = blk[i];
    else firstLast.set(phase, [blk[i], blk[i]]);
  }
  const deltas = new Map<number, number>();
  for (const [phase, [first, last]] of firstLast) deltas.set(phase, last - first);
  return verdict(deltas, 102400);
}

export function guestSignal(t: MemberTable, phaseAt: PhaseLookup): SourceSignal {
  const walls = t.wall.values();
  const load = col(t, "load_1m");
  const groups = new Map<number, number[]>();
  for (let i = 0; i < walls.length; i++) {
    if (!Number.isFinite(load[i])) continue;
    const phase = phaseAt.at(walls[i]);
    let g = groups.get(phase);
    if (!g) groups.set(phase, (g = []));
    g.push(load[i]);
  }
  const medians = new Map<number, number>();
  for (const [phase, values] of groups) medians.set(phase, median(values));
  return verdict(medians, 0.1);
}
