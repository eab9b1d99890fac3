// One episode's script: when each phase starts, when the exploit and the
// payload run, when the workload really starts (not quite when the label says)
// and how it ends. All times are integer nanoseconds from the episode's grid
// origin, a whole wall-clock second shortly before the first label, so that
// netflow's one-second buckets are whole grid seconds.

import type { Phase } from "../episode/report.js";
import type { HostSpec } from "./hosts.js";
import type { Failure } from "./plan.js";
import type { ExploitSpec } from "./profiles.js";
import type { Rng } from "./rng.js";

export const NS = 1_000_000_000;

export interface Label {
  phase: Phase;
  ns: number;
}

export interface Timeline {
  labels: Label[];
  /** First label (episode time zero), ns from the grid origin. */
  t0: number;
  /** End of the episode's recording, ns from the grid origin. */
  end: number;
  /** Whole seconds covered by the simulation grid. */
  seconds: number;
  outcome: "completed" | "failed";
  // Workload script, in seconds from the grid origin (NaN when it never happens).
  exploitStart: number;
  exploitEnd: number;
  downloadStart: number;
  downloadEnd: number;
  /** The payload process starts (it may sleep before doing anything: onset). */
  exec: number;
  /** Behaviour ramps from onset to onset + ramp. */
  onset: number;
  ramp: number;
  /** The workload dies (late failure) or is stopped (end of dormant). */
  stop: number;
  dormantStart: number;
  failAt: number;
  /** When the orchestrator kills the workload (workload_killed), if it does. */
  killAt: number;
}

const secs = (lo: number, hi: number, rng: Rng) => Math.round(rng.uniform(lo, hi) * NS);

export function buildTimeline(
  rng: Rng,
  host: HostSpec,
  exploit: ExploitSpec,
  failure: Failure,
  dud: boolean,
  payloadBytes: number,
): Timeline {
  const t0 = NS + rng.int(0, NS - 1);
  const clean = secs(6, 10, rng);
  const armed = secs(4, 8, rng);
  const infecting = secs(5.5, 10.5, rng);
  const running = secs(13, 23, rng);
  const dormant = secs(7, 12.5, rng);

  const labels: Label[] = [{ phase: "clean", ns: t0 }];
  let at = t0 + clean;
  labels.push({ phase: "armed", ns: at });
  at += armed;
  const infectStart = at;
  labels.push({ phase: "infecting", ns: at });
  at += infecting;
  const runStart = at;

  let end: number;
  let failAt = NaN;
  let dormantStart = NaN;
  let outcome: Timeline["outcome"] = "completed";
  if (failure === "early") {
    failAt = runStart;
    labels.push({ phase: "failed", ns: runStart });
    end = runStart + secs(6, 14, rng);
    outcome = "failed";
  } else if (failure === "late") {
    labels.push({ phase: "infected_running", ns: runStart });
    failAt = runStart + secs(3, 10, rng);
    labels.push({ phase: "failed", ns: failAt });
    end = failAt + secs(5, 12, rng);
    outcome = "failed";
  } else {
    labels.push({ phase: "infected_running", ns: runStart });
    dormantStart = runStart + running;
    labels.push({ phase: "dormant", ns: dormantStart });
    end = dormantStart + dormant;
  }
  // Recording goes on a little after the last phase's nominal end.
  end += secs(0.3, 1.5, rng);

  // The exploit and the payload fetch happen inside `infecting`, squeezed if it is short.
  const inf0 = infectStart / NS;
  const inf1 = runStart / NS;
  const exploitStart = inf0 + rng.uniform(0.2, 0.8);
  const exploitLen = Math.min(rng.uniform(exploit.seconds[0], exploit.seconds[1]), (inf1 - exploitStart) * 0.45);
  const exploitEnd = exploitStart + exploitLen;
  const linkMBps = host.id === "elliott-thinkpad" ? rng.uniform(0.8, 3) : rng.uniform(2, 7);
  const downloadStart = exploitEnd + rng.uniform(0.1, 0.5);
  const downloadLen = Math.max(0.3, Math.min(payloadBytes / (linkMBps * 1048576), (inf1 - downloadStart) * 0.6));
  const downloadEnd = downloadStart + downloadLen;

  // The payload starts a little before the orchestrator notices and labels infected_running.
  const exec = failure === "early" ? NaN : Math.max(downloadEnd + 0.2, inf1 - rng.uniform(0.3, 1.5));
  // Some droppers sleep before doing anything: the label says running, the telemetry says not yet.
  const onset = exec + (rng.chance(0.12) ? rng.uniform(2, 6) : rng.uniform(0, 0.6));
  const ramp = rng.uniform(0.6, 3);
  const stop = failure === "late" ? failAt / NS : end / NS;
  const killAt = failure === "none" ? end / NS - rng.uniform(0.4, 0.9) : NaN;

  const timeline: Timeline = {
    labels,
    t0,
    end,
    seconds: Math.ceil(end / NS) + 1,
    outcome,
    exploitStart,
    exploitEnd,
    downloadStart,
    downloadEnd,
    exec,
    onset,
    ramp,
    stop,
    dormantStart: dormantStart / NS,
    failAt: failAt / NS,
    killAt,
  };
  if (dud) {
    // The exploit silently did nothing: no traffic, no payload, no workload.
    timeline.exploitStart = timeline.exploitEnd = timeline.downloadStart = timeline.downloadEnd = NaN;
    timeline.exec = timeline.onset = NaN;
  }
  return timeline;
}

/** Phase label at ns (last label whose time <= ns; before the first, clean). */
export function phaseAt(labels: Label[], ns: number): Phase {
  let phase: Phase = "clean";
  for (const l of labels) if (l.ns <= ns) phase = l.phase;
  return phase;
}
