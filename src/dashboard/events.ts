// The dashboard's event contract: six event types, one validator shared by the
// server (POST /publish), the producers (before they send) and the tests.
// Validation is strict: an unknown type, an unknown or missing field, or a
// field of the wrong type gives a reason string naming the field.
// The table in docs/dashboard.md describes the same shapes.

export const EVENT_TYPES = ["phase", "prediction", "embedding", "model_metric", "model_perf", "attack_profile"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Points in an attack_profile curve. */
export const PROFILE_CURVE_POINTS = 80;

/** A point estimate with its 95% interval; lo/hi are null when the evaluation could not bound it (too few resamples with the class). */
export interface Interval3 {
  point: number;
  lo: number | null;
  hi: number | null;
}

export interface PhaseEvent {
  type: "phase";
  episode_id: string;
  /** Seconds since the episode's first label (t_wall_ns clock). */
  t_s: number;
  phase: string;
}

export interface PredictionEvent {
  type: "prediction";
  episode_id: string;
  t_s: number;
  model: string;
  /** Class probability per phase name; they sum to about 1. */
  probs: Record<string, number>;
  predicted: string;
}

export interface EmbeddingEvent {
  type: "embedding";
  episode_id: string;
  t_s: number;
  model: string;
  xy: [number, number];
}

export interface ModelMetricEvent {
  type: "model_metric";
  model: string;
  mode: string;
  /** Registry version or checkpoint identity; bars of different versions are compared side by side. */
  version: string;
  macro_f1: Interval3;
  per_class: Record<string, Interval3>;
  anomaly?: { roc_auc: number } & Record<string, number>;
}

export interface ModelPerfEvent {
  type: "model_perf";
  model: string;
  mode: string;
  latency_ms: { p50: number; p99: number };
  windows_per_s: number;
  params: number;
}

export interface AttackProfileEvent {
  type: "attack_profile";
  /** Profile name, e.g. cpu-saturate. */
  name: string;
  /** Human description of the curve's shape, e.g. "sustained plateau". */
  shape: string;
  /** Signature channel, e.g. guest.cpu_user. */
  channel: string;
  /** 80 values in [0, 1], evenly spaced on the episode's t_wall_ns clock. */
  curve: number[];
  /** The episode the curve comes from. */
  episode_id?: string;
}

export type DashboardEvent = PhaseEvent | PredictionEvent | EmbeddingEvent | ModelMetricEvent | ModelPerfEvent | AttackProfileEvent;

/** What the server sends to page clients and appends to the log: the event with its sequence number and arrival time. */
export interface Envelope {
  seq: number;
  /** Milliseconds since the Unix epoch when the server accepted it. */
  at_ms: number;
  event: DashboardEvent;
}

export type Validation = { ok: true; event: DashboardEvent } | { ok: false; reason: string };

type Check = (v: unknown, path: string) => string | null;

const MAX_STRING = 256;

const str: Check = (v, p) => (typeof v !== "string" ? `${p} must be a string` : v.length === 0 ? `${p} must not be empty` : v.length > MAX_STRING ? `${p} is longer than ${MAX_STRING} characters` : null);
const num: Check = (v, p) => (typeof v !== "number" || !Number.isFinite(v) ? `${p} must be a finite number` : null);
const nonNeg: Check = (v, p) => num(v, p) ?? ((v as number) < 0 ? `${p} must be >= 0` : null);
const unit: Check = (v, p) => num(v, p) ?? ((v as number) < 0 || (v as number) > 1 ? `${p} must be in [0, 1]` : null);

function object(fields: Record<string, Check>, optional: Record<string, Check> = {}, open = false): Check {
  return (v, p) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return `${p} must be an object`;
    const o = v as Record<string, unknown>;
    for (const [k, check] of Object.entries(fields)) {
      if (!(k in o)) return `${p}.${k} is missing`;
      const r = check(o[k], `${p}.${k}`);
      if (r) return r;
    }
    for (const [k, check] of Object.entries(optional)) {
      if (k in o && o[k] !== undefined) {
        const r = check(o[k], `${p}.${k}`);
        if (r) return r;
      }
    }
    if (!open) for (const k of Object.keys(o)) if (!(k in fields) && !(k in optional)) return `${p}.${k} is not a field of this object`;
    return null;
  };
}

function record(value: Check, maxKeys = 64): Check {
  return (v, p) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return `${p} must be an object`;
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) return `${p} must not be empty`;
    if (entries.length > maxKeys) return `${p} has more than ${maxKeys} keys`;
    for (const [k, x] of entries) {
      const r = str(k, `${p} key`) ?? value(x, `${p}.${k}`);
      if (r) return r;
    }
    return null;
  };
}

function array(item: Check, min: number, max: number): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return `${p} must be an array`;
    if (v.length < min || v.length > max) return min === max ? `${p} must have exactly ${min} entries (got ${v.length})` : `${p} must have ${min}..${max} entries (got ${v.length})`;
    for (let i = 0; i < v.length; i++) {
      const r = item(v[i], `${p}[${i}]`);
      if (r) return r;
    }
    return null;
  };
}

const unitOrNull: Check = (v, p) => (v === null ? null : unit(v, p));

const interval: Check = (v, p) => {
  const r = object({ point: unit, lo: unitOrNull, hi: unitOrNull })(v, p);
  if (r) return r;
  const o = v as Interval3;
  if ((o.lo === null) !== (o.hi === null)) return `${p}: lo and hi must both be numbers or both be null`;
  return o.lo === null || o.hi === null || (o.lo <= o.point && o.point <= o.hi) ? null : `${p} must satisfy lo <= point <= hi`;
};

const SCHEMAS: Record<EventType, Check> = {
  phase: object({ type: str, episode_id: str, t_s: nonNeg, phase: str }),
  prediction: (v, p) => {
    const r = object({ type: str, episode_id: str, t_s: nonNeg, model: str, probs: record(unit), predicted: str })(v, p);
    if (r) return r;
    const o = v as PredictionEvent;
    return o.predicted in o.probs ? null : `${p}.predicted (${JSON.stringify(o.predicted)}) is not a key of probs`;
  },
  embedding: object({ type: str, episode_id: str, t_s: nonNeg, model: str, xy: array(num, 2, 2) }),
  model_metric: object(
    { type: str, model: str, mode: str, version: str, macro_f1: interval, per_class: record(interval) },
    { anomaly: (v, p) => object({ roc_auc: unit }, {}, true)(v, p) ?? record(num)(v, p) },
  ),
  model_perf: object({ type: str, model: str, mode: str, latency_ms: object({ p50: nonNeg, p99: nonNeg }), windows_per_s: nonNeg, params: nonNeg }),
  attack_profile: object({ type: str, name: str, shape: str, channel: str, curve: array(unit, PROFILE_CURVE_POINTS, PROFILE_CURVE_POINTS) }, { episode_id: str }),
};

/** Checks one decoded JSON value against the contract. */
export function validateEvent(value: unknown): Validation {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, reason: "an event must be a JSON object" };
  const type = (value as { type?: unknown }).type;
  if (type === undefined) return { ok: false, reason: "event.type is missing" };
  if (typeof type !== "string" || !(EVENT_TYPES as readonly string[]).includes(type)) {
    return { ok: false, reason: `unknown event type ${JSON.stringify(type)} (expected one of ${EVENT_TYPES.join(", ")})` };
  }
  const reason = SCHEMAS[type as EventType](value, type);
  return reason ? { ok: false, reason } : { ok: true, event: value as DashboardEvent };
}

/**
 * The sticky-cache key: a page opened late sees the latest event per (type, key).
 * Replay streams are keyed per point in time (a phase per episode and phase
 * name, a prediction or embedding per episode, model and t_s), so a late page
 * still gets whole episodes; a re-published point replaces the old one.
 */
export function stickyKey(e: DashboardEvent): string {
  switch (e.type) {
    case "phase":
      return `phase|${e.episode_id}|${e.phase}`;
    case "prediction":
    case "embedding":
      return `${e.type}|${e.episode_id}|${e.model}|${e.t_s}`;
    case "model_metric":
      return `model_metric|${e.model}|${e.mode}|${e.version}`;
    case "model_perf":
      return `model_perf|${e.model}|${e.mode}`;
    case "attack_profile":
      return `attack_profile|${e.name}`;
  }
}
