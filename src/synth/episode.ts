// One episode, start to finish: script -> simulated truth -> measured members
// -> injected faults -> tar -> zstd. Pure: the bytes depend only on the store
// seed, the fleet and this episode's plan, never on which worker ran it.

import { createHash } from "node:crypto";
import { compress } from "zstd-napi";
import { buildTar, type TarEntry } from "../archive/tar-write.js";
import { JSONL_MEMBERS, MEMBER_FILES, type JsonlMember } from "../episode/report.js";
import { corruptBytes, expectedClass, noWallRow, tornRow, truncateBytes, wrongSha, wrongTypeRow, type ValidationClass } from "./faults.js";
import type { HostSpec } from "./hosts.js";
import type { EpisodePlan } from "./plan.js";
import { EXPLOITS, SAMPLES, WORKLOAD_ERRORS } from "./profiles.js";
import {
  guestVerdict, isFlat, netflowVerdict, procVerdict, qmpVerdict, strongestRatio, THRESHOLDS,
  type LabelRow, type Source, type Verdicts,
} from "./quality.js";
import { deriveRng, tagOf, type Rng } from "./rng.js";
import { simulate } from "./simulate.js";
import { measureGuest, measureNetflow, measureProc, measureQmp, wallNs, type Clocks, type Measured } from "./sources.js";
import { buildTimeline, NS, phaseAt, type Timeline } from "./timeline.js";

/** What every worker needs besides the plan: derived once per store. */
export interface StoreContext {
  seed: bigint;
  hosts: HostSpec[];
  /** Unix seconds when the campaign started (seed-derived). */
  campaignStart: number;
  /** Per host: Unix seconds of the capture host's boot and of the orchestrator's start. */
  hostBoot: number[];
  orchestratorStart: number[];
}

export interface Expectation {
  /** Class a sweep must assign (an orphan, having no index row, is rejected). */
  class: ValidationClass;
  /** Prune reasons a quality run must find (null: unreadable, no verdict). */
  prune: string[] | null;
  /** Rows each member's reader must skip. */
  skipped: Partial<Record<JsonlMember, number>>;
  /** Per-source quality verdicts of the content as written. */
  verdicts: Record<Source, string> | null;
}

export interface EpisodeResult {
  index: number;
  episodeId: string;
  hostId: string;
  /** Path relative to the store root. */
  path: string;
  /** The file's bytes (absent in results sent back from workers). */
  bytes?: Buffer;
  sha256: string;
  sizeBytes: number;
  /** What the index row says (differs from the file for the index-* faults). */
  indexSha256: string;
  indexSizeBytes: number;
  receivedAt: string;
  expect: Expectation;
}

const MAX_ATTEMPTS = 12;
/** Margins around the quality thresholds, so the manifest's verdicts do not hinge on rounding. */
const SIGNAL_MARGIN = 1.5;
const FLAT_MARGIN = 0.6;
const ZSTD_LEVEL = 3;

interface Content {
  rng: Rng;
  timeline: Timeline;
  clocks: Clocks;
  labels: LabelRow[];
  labelRows: string[];
  events: string[] | null;
  proc: Measured | null;
  guest: Measured | null;
  qmp: Measured;
  netflow: Measured | null;
  meta: string;
  verdicts: Verdicts;
}

export function generateEpisode(ctx: StoreContext, plan: EpisodePlan): EpisodeResult {
  const host = ctx.hosts[plan.host];
  const has = (f: string) => plan.faults.includes(f);
  const dud = has("flat") || has("silent");

  // Retry the episode's randomness until its content says what the plan means:
  // a dud is flat in every source, anything else clearly signals somewhere.
  let content: Content | null = null;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    content = buildContent(ctx, plan, host, dud, attempt);
    if (has("labels-empty")) break;
    const v = Object.entries(content.verdicts) as Array<[Source, { spread: number | null }]>;
    const ok = dud
      ? v.every(([s, x]) => x.spread === null || x.spread <= THRESHOLDS[s] * FLAT_MARGIN) && isFlat(content.labels, content.verdicts)
      : strongestRatio(content.verdicts) >= SIGNAL_MARGIN;
    if (ok) break;
  }
  return pack(ctx, plan, host, content!);
}

function buildContent(ctx: StoreContext, plan: EpisodePlan, host: HostSpec, dud: boolean, attempt: number): Content {
  const rng = deriveRng(ctx.seed, tagOf("episode"), plan.index, attempt);
  const has = (f: string) => plan.faults.includes(f);
  const sample = SAMPLES[plan.sample];
  const exploit = EXPLOITS[plan.exploit];

  // Weak episodes exist: the sample half-worked, or the VM was starved.
  const strength = rng.spread(0.22) * (rng.chance(0.08) ? rng.uniform(0.15, 0.4) : 1);
  const payloadBytes = Math.round(rng.uniform(sample.payloadBytes[0], sample.payloadBytes[1]));
  const timeline = buildTimeline(rng, host, exploit, plan.failure, dud, payloadBytes);
  const sim = simulate({ rng, host, sample, exploit, profile: plan.profile, timeline, strength, payloadBytes, dud });

  const originSec = ctx.campaignStart + plan.index * 43 + rng.int(0, 40);
  const clocks: Clocks = {
    originSec,
    orchMonoNs: ((originSec - ctx.orchestratorStart[plan.host]) % (30 * 86400)) * NS + rng.int(0, NS - 1),
    uptimeNs: ((originSec - ctx.hostBoot[plan.host]) % (90 * 86400)) * NS + rng.int(0, NS - 1),
    guestSkewNs: Math.round(rng.normal() * 12e6),
  };

  // labels
  let labelList = timeline.labels.map((l) => ({ phase: l.phase as string, ns: l.ns, mono: l.ns - timeline.t0 }));
  if (has("labels-unknown-phase")) {
    // An old orchestrator build's name for infecting.
    labelList = labelList.map((l) => (l.phase === "infecting" ? { ...l, phase: "exploiting" } : l));
  }
  if (has("labels-non-monotonic")) {
    // An NTP step: the wall clock jumped back 2-4 s right before a label.
    const i = rng.int(2, labelList.length - 1);
    labelList[i] = { ...labelList[i], ns: labelList[i - 1].ns - Math.round(rng.uniform(2, 4) * NS) };
  }
  if (has("labels-empty")) labelList = [];
  const labels: LabelRow[] = labelList.map((l) => ({ wall: l.ns, phase: l.phase }));
  const labelRows = labelList.map((l) => `{"t_mono_ns":${l.mono},"t_wall_ns":${wallNs(clocks, l.ns)},"phase":"${l.phase}"}`);

  const events = has("events-missing") ? null : buildEvents(rng, plan, timeline, clocks, has("events-no-workload"), has("silent"));

  // telemetry
  const proc0 = measureProc(rng, sim, timeline, clocks, rng.int(2000, 60000));
  let proc: Measured | null = proc0;
  if (has("missing-proc-member")) proc = null;
  if (has("proc-too-few-rows")) {
    const keep = rng.int(12, 40);
    proc = { rows: proc0.rows.slice(0, keep), wall: proc0.wall.slice(0, keep), value: proc0.value.slice(0, keep) };
  }
  // The guest still runs the vulnerable service even when meta forgot which exploit ran.
  const guestFull = measureGuest(rng, sim, timeline, clocks, { host, sample, exploit, pids: new Map<string, number>() });
  const guest = has("guest-agent-dead") ? null : has("guest-empty") ? { rows: [], wall: [], value: [] } : guestFull;
  const qmp = measureQmp(rng, sim, timeline, clocks, host.extraDisks);
  const netflowFull = measureNetflow(rng, sim, timeline, clocks);
  const netflow = host.netflow && !has("netflow-missing") ? netflowFull : null;

  const verdicts: Verdicts = {
    proc: procVerdict(labels, proc),
    netflow: netflowVerdict(labels, netflow),
    qmp: qmpVerdict(labels, qmp),
    guest: guestVerdict(labels, guest),
  };
  const meta = buildMeta(plan, host, timeline, clocks, rng);
  return { rng, timeline, clocks, labels, labelRows, events, proc, guest, qmp, netflow, meta, verdicts };
}

function buildEvents(rng: Rng, plan: EpisodePlan, tl: Timeline, clocks: Clocks, noWorkload: boolean, silent: boolean): string[] {
  const list: Array<{ ns: number; text: (ns: number) => string }> = [];
  const row = (ns: number, event: string, extra = "") =>
    `{"t_mono_ns":${ns - tl.t0},"t_wall_ns":${wallNs(clocks, ns)},"event":"${event}","phase":"${phaseAt(tl.labels, ns)}"${extra}}`;
  const at = (sec: number) => Math.round(sec * NS);
  const add = (ns: number, event: string, extra = "") => list.push({ ns, text: (n) => row(n, event, extra) });

  add(tl.t0 + at(rng.uniform(0.02, 0.2)), "vm_ready");
  const infect = tl.labels.find((l) => l.phase === "infecting")!;
  add(infect.ns + at(rng.uniform(0.05, 0.3)), "exploit_launched", `,"module":"${EXPLOITS[plan.exploit].module}"`);
  if (!noWorkload) {
    const running = tl.labels.find((l) => l.phase === "infected_running");
    if (running) add(running.ns + at(rng.uniform(0.01, 0.2)), "workload_started", `,"pid":${rng.int(900, 30000)}`);
    if (Number.isFinite(tl.failAt)) {
      const error = WORKLOAD_ERRORS[rng.int(0, WORKLOAD_ERRORS.length - 1)];
      add(at(tl.failAt) + at(rng.uniform(0.05, 0.3)), "workload_failed", `,"error":"${error}"`);
    }
    if (Number.isFinite(tl.killAt)) {
      const yes = silent || plan.probeZero ? "0" : "1";
      add(at(tl.killAt), "workload_killed", `,"signal":"SIGKILL","pre_kill_probe":{"yes":"${yes}","checked":"ps"}`);
    }
  }
  add(tl.end - at(rng.uniform(0.01, 0.1)), "episode_finished");
  list.sort((a, b) => a.ns - b.ns);
  return list.map((e) => e.text(e.ns));
}

function buildMeta(plan: EpisodePlan, host: HostSpec, tl: Timeline, clocks: Clocks, rng: Rng): string {
  const sample = SAMPLES[plan.sample];
  const noSample = plan.faults.includes("no-sample");
  const startedAt = new Date((clocks.originSec + Math.floor(tl.t0 / NS)) * 1000).toISOString().replace(".000Z", "Z");
  const meta = {
    schema_version: 1,
    episode_id: plan.episodeId,
    host_id: host.id,
    started_at: startedAt,
    sample: noSample ? null : { name: sample.name, kind: sample.kind, profile: sample.profile },
    exploit: noSample ? null : { module_name: EXPLOITS[plan.exploit].module },
    fleet: { slot: rng.int(0, host.parallelSlots - 1), parallel_slots: host.parallelSlots },
    result: { duration_observed_s: Math.round((tl.end - tl.t0) / 1e8) / 10, outcome: tl.outcome },
  };
  return JSON.stringify(meta, null, 2) + "\n";
}

/** Malformed rows go in as extra lines, so the real rows (and the quality verdicts) stay intact. */
function injectBadRows(rng: Rng, plan: EpisodePlan, members: Partial<Record<JsonlMember, string[]>>): Partial<Record<JsonlMember, number>> {
  const skipped: Partial<Record<JsonlMember, number>> = {};
  const targets = (["proc", "guest", "qmp", "netflow"] as const).filter((m) => (members[m]?.length ?? 0) > 0);
  if (targets.length === 0) return skipped;
  const FIELD: Record<string, string> = { proc: "rss_bytes", guest: "mem_available_bytes", qmp: "rd_ops", netflow: "bytes_out" };
  for (const fault of plan.faults) {
    if (!fault.startsWith("rows-")) continue;
    const member = targets[rng.int(0, targets.length - 1)];
    const rows = members[member]!;
    const count = rng.int(1, 3);
    for (let i = 0; i < count; i++) {
      const src = rows[rng.int(0, rows.length - 1)];
      const bad =
        fault === "rows-invalid-json" ? tornRow(src, rng) : fault === "rows-wrong-type" ? wrongTypeRow(src, FIELD[member]) : noWallRow(src, rng.chance(0.5));
      rows.splice(rng.int(0, rows.length), 0, bad);
    }
    skipped[member] = (skipped[member] ?? 0) + count;
  }
  // Members in contract order, so manifests compare as text.
  const ordered: Partial<Record<JsonlMember, number>> = {};
  for (const m of JSONL_MEMBERS) if (skipped[m] !== undefined) ordered[m] = skipped[m];
  return ordered;
}

function pack(ctx: StoreContext, plan: EpisodePlan, host: HostSpec, c: Content): EpisodeResult {
  const rng = deriveRng(ctx.seed, tagOf("pack"), plan.index);
  const has = (f: string) => plan.faults.includes(f);
  const members: Partial<Record<JsonlMember, string[]>> = {
    labels: c.labelRows,
    events: c.events ?? undefined,
    proc: c.proc?.rows.slice(),
    guest: c.guest?.rows.slice(),
    qmp: c.qmp.rows.slice(),
    netflow: c.netflow?.rows.slice(),
  };
  const skipped = injectBadRows(rng, plan, members);

  const prefix = rng.chance(host.dotSlashShare) ? "./" : `${plan.episodeId}/`;
  const mtime = c.clocks.originSec + Math.floor(c.timeline.end / NS);
  const entries: TarEntry[] = [{ name: prefix, type: "dir", mtime }];
  entries.push({ name: prefix + MEMBER_FILES.meta, data: c.meta, mtime });
  for (const m of ["labels", "events", "proc", "guest", "qmp", "netflow"] as const) {
    const rows = members[m];
    if (rows === undefined) continue;
    entries.push({ name: prefix + MEMBER_FILES[m], data: rows.length ? rows.join("\n") + "\n" : "", mtime });
  }
  if (rng.chance(0.08)) {
    // The orchestrator sometimes ships its own log; readers must ignore unknown members.
    entries.push({ name: prefix + "orchestrator.log", data: `episode ${plan.episodeId} on ${host.id}: ${c.timeline.outcome}\n`, mtime });
  }
  let tar = buildTar(entries);
  if (has("tar-truncated")) {
    // Cut inside the proc member's data, never on a block boundary (that would read as a clean end).
    let offset = 0;
    let cut = Math.floor(tar.length / 2);
    for (const e of entries) {
      const size = typeof e.data === "string" ? Buffer.byteLength(e.data) : 0;
      if (e.name.endsWith(MEMBER_FILES.proc) && size > 1024) cut = offset + 512 + Math.floor(size * rng.uniform(0.3, 0.7));
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    if (cut % 512 === 0) cut += 7;
    tar = tar.subarray(0, cut);
  }
  let bytes: Buffer = compress(tar, { compressionLevel: ZSTD_LEVEL, checksumFlag: true });
  if (has("zstd-truncated")) bytes = truncateBytes(bytes, rng);
  if (has("zstd-corrupt")) bytes = corruptBytes(bytes, rng);

  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const indexSha256 = has("index-sha-mismatch") ? wrongSha(sha256, rng) : sha256;
  const indexSizeBytes = has("index-size-mismatch") ? bytes.length + (rng.chance(0.5) ? rng.int(1, 4096) : -rng.int(1, Math.min(4096, bytes.length - 1))) : bytes.length;
  const delay = rng.chance(0.02) ? rng.uniform(600, 7200) : rng.uniform(2, 45);
  const receivedMs = Math.round((c.clocks.originSec + c.timeline.end / NS + delay) * 1000);

  const cls = expectedClass(plan.faults, host.netflow);
  return {
    index: plan.index,
    episodeId: plan.episodeId,
    hostId: host.id,
    path: `${host.id}/${plan.episodeId}.tar.zst`,
    bytes,
    sha256,
    sizeBytes: bytes.length,
    indexSha256,
    indexSizeBytes,
    receivedAt: new Date(receivedMs).toISOString(),
    expect: {
      class: cls,
      prune: cls === "errored" ? null : pruneReasons(plan, c, members.events ?? null),
      skipped,
      verdicts: cls === "errored" ? null : {
        proc: c.verdicts.proc.verdict,
        netflow: c.verdicts.netflow.verdict,
        qmp: c.verdicts.qmp.verdict,
        guest: c.verdicts.guest.verdict,
      },
    },
  };
}

/** The prune reasons, read off the content exactly as the contract's rules state them. */
function pruneReasons(plan: EpisodePlan, c: Content, events: string[] | null): string[] {
  const reasons: string[] = [];
  if (plan.faults.includes("no-sample")) reasons.push("no-sample");
  const names = (events ?? []).map((e) => /"event":"([^"]*)"/.exec(e)?.[1] ?? "");
  if (!names.some((n) => n.startsWith("workload_"))) reasons.push("no-workload-events");
  if (names.includes("workload_failed")) reasons.push("workload-failed");
  const flat = isFlat(c.labels, c.verdicts);
  if (flat) reasons.push("flat-cpu");
  const probeZero = (events ?? []).some((e) => e.includes('"event":"workload_killed"') && e.includes('"phase":"dormant"') && e.includes('"yes":"0"'));
  if (flat && probeZero) reasons.push("workload-silent");
  return reasons;
}
