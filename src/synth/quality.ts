// The contract's per-source quality tests (docs/inspection.md, "Quality
// signals"), applied to the rows synth is about to write. synth uses them to
// make sure a dud really is flat and a normal episode really is not, with a
// margin, and to write the truth into the fault manifest. Times here are
// integer nanoseconds from the episode's grid origin (exact in a double).

export const THRESHOLDS = { proc: 5.0, netflow: 51200, qmp: 102400, guest: 0.1 } as const;
export type Source = keyof typeof THRESHOLDS;

export interface LabelRow {
  wall: number;
  phase: string;
}

export interface SourceRows {
  /** Row times, t_wall_ns offsets, in file order. */
  wall: number[];
  value: number[];
}

export interface Verdict {
  verdict: "signal" | "flat" | "unknown";
  spread: number | null;
}

function phaseOf(labels: LabelRow[], t: number): string {
  let phase = "clean";
  for (const l of labels) if (l.wall <= t) phase = l.phase;
  return phase;
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 === 1 ? v[(n - 1) >> 1] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

function decide(perPhase: Map<string, number>, threshold: number): Verdict {
  if (perPhase.size < 2) return { verdict: "unknown", spread: null };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of perPhase.values()) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const spread = hi - lo;
  return { verdict: spread >= threshold ? "signal" : "flat", spread };
}

function sortedIndex(wall: number[]): number[] {
  return wall.map((_, i) => i).sort((a, b) => wall[a] - wall[b] || a - b);
}

/** proc: per-phase median of host CPU% from jiffies deltas (USER_HZ 100). */
export function procVerdict(labels: LabelRow[], rows: SourceRows | null): Verdict {
  if (!rows || rows.wall.length === 0 || labels.length === 0) return { verdict: "unknown", spread: null };
  const order = sortedIndex(rows.wall);
  const groups = new Map<string, number[]>();
  for (let k = 1; k < order.length; k++) {
    const i = order[k];
    const j = order[k - 1];
    const dt = (rows.wall[i] - rows.wall[j]) / 1e9;
    if (!(dt > 0)) continue;
    const pct = ((rows.value[i] - rows.value[j]) / 100 / dt) * 100;
    const phase = phaseOf(labels, rows.wall[i]);
    const list = groups.get(phase) ?? [];
    list.push(pct);
    groups.set(phase, list);
  }
  const medians = new Map<string, number>();
  for (const [p, list] of groups) medians.set(p, median(list));
  return decide(medians, THRESHOLDS.proc);
}

/** netflow: per-phase sum of bytes_in + bytes_out, file order. */
export function netflowVerdict(labels: LabelRow[], rows: SourceRows | null): Verdict {
  if (!rows || rows.wall.length === 0 || labels.length === 0) return { verdict: "unknown", spread: null };
  const sums = new Map<string, number>();
  for (let i = 0; i < rows.wall.length; i++) {
    const phase = phaseOf(labels, rows.wall[i]);
    sums.set(phase, (sums.get(phase) ?? 0) + rows.value[i]);
  }
  return decide(sums, THRESHOLDS.netflow);
}

/** qmp: per-phase last - first of the block byte total, rows sorted by time. */
export function qmpVerdict(labels: LabelRow[], rows: SourceRows | null): Verdict {
  if (!rows || rows.wall.length === 0 || labels.length === 0) return { verdict: "unknown", spread: null };
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const i of sortedIndex(rows.wall)) {
    const phase = phaseOf(labels, rows.wall[i]);
    if (!first.has(phase)) first.set(phase, rows.value[i]);
    last.set(phase, rows.value[i]);
  }
  const deltas = new Map<string, number>();
  for (const [p, v] of last) deltas.set(p, v - first.get(p)!);
  return decide(deltas, THRESHOLDS.qmp);
}

/** guest: per-phase median of load_1m. */
export function guestVerdict(labels: LabelRow[], rows: SourceRows | null): Verdict {
  if (!rows || rows.wall.length === 0 || labels.length === 0) return { verdict: "unknown", spread: null };
  const groups = new Map<string, number[]>();
  for (let i = 0; i < rows.wall.length; i++) {
    const phase = phaseOf(labels, rows.wall[i]);
    const list = groups.get(phase) ?? [];
    list.push(rows.value[i]);
    groups.set(phase, list);
  }
  const medians = new Map<string, number>();
  for (const [p, list] of groups) medians.set(p, median(list));
  return decide(medians, THRESHOLDS.guest);
}

export type Verdicts = Record<Source, Verdict>;

/** flat-cpu as the prune rule states it: labels present, nothing signals, something is flat. */
export function isFlat(labels: LabelRow[], v: Verdicts): boolean {
  if (labels.length === 0) return false;
  const all = Object.values(v);
  return all.some((x) => x.verdict === "flat") && !all.some((x) => x.verdict === "signal");
}

/** Largest spread relative to its threshold (how clearly the episode signals). */
export function strongestRatio(v: Verdicts): number {
  let best = 0;
  for (const s of Object.keys(THRESHOLDS) as Source[]) {
    const spread = v[s].spread;
    if (spread !== null) best = Math.max(best, spread / THRESHOLDS[s]);
  }
  return best;
}
