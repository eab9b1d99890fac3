// `cis490 detect --follow`: score episodes as the receiver lands them.
//
// The index is the announcement: each poll reads index.jsonl from the saved
// offset up to its last complete line (a line still being written waits for
// its newline; torn `{..}{..}` lines are split like `validate` does). An
// announced episode is examined once its tarball is present at the announced
// size; smaller means still being written, so it waits. It is then validated
// (the sweep's inspect + classify) and, when accepted or degraded,
// featurised and scored. A file that fails validation while its bytes differ
// from the announced sha256 is retried when it changes; one that matches its
// sha256 and is still rejected (e.g. a missing member) is final: it gets an
// "unscored" episode row with the reasons. Nothing half-written is scored,
// because scoring needs the sha256 the index announced.

import { watch, type FSWatcher } from "node:fs";
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Inspector } from "../episode/inspector.js";
import { loadInspector } from "../native/backend.js";
import { splitLinePieces, toIndexRecord, type IndexRecord } from "../store/index-file.js";
import { INDEX_FILE, listStore, relPathOf } from "../store/layout.js";
import { sweepTargets } from "../store/sweep.js";
import type { AlertPolicy } from "./alert.js";
import { featureOptionsFor, isUsable, scoreEpisodes, type EpisodeRow, type ScoredEpisode, type Scorer, type StoreEpisode } from "./detect.js";
import { readState, saveState, type FollowState } from "./follow-state.js";
import type { PublishClient, PublishStats } from "../dashboard/publisher.js";

export interface FollowOptions {
  store: string;
  out: string;
  statePath: string;
  policy: AlertPolicy;
  jobs: number;
  /** Poll interval; a change in the store directory wakes the loop earlier. */
  pollMs?: number;
  signal: AbortSignal;
  publish?: PublishClient | null;
  /** Name put in published events. */
  modelName: string;
  engine?: Inspector;
  /** After each scored episode (benchmarks, progress). */
  onScored?: (s: ScoredEpisode) => void;
  /** After each poll. */
  onPoll?: (r: FollowResult) => void;
  /** A poll failed (it is retried next poll). */
  onPollError?: (message: string) => void;
  /** Stop after this long without a newly decided episode (null: run until the signal). */
  idleExitMs?: number | null;
}

export interface FollowResult {
  episodes_scored: number;
  episodes_unscored: number;
  windows: number;
  episodes_alerted: number;
  /** Announced episodes not decided yet (tarball missing, short, or changing). */
  waiting: number;
  /** Unparseable index pieces and unusable records seen. */
  index_problems: number;
  /** Polls that failed (store unreadable, disk full...); the next poll tries again. */
  poll_errors: number;
  last_error: string | null;
  event_loop_lag_ms: { p50: number; p99: number; max: number };
  publish: PublishStats | null;
}

const RETRY_REASONS = /^(sha256-mismatch|size-mismatch|io-error|tarball-missing|decode|zstd|tar|truncated)/;

interface Waiting {
  record: IndexRecord;
  /** size:mtime of the file when it last failed validation. */
  tried: string | null;
}

export async function follow(scorer: Scorer, o: FollowOptions): Promise<FollowResult> {
  featureOptionsFor(scorer.meta);
  const engine = o.engine ?? (await loadInspector("native"));
  const state = await readState(o.statePath, scorer.meta.checkpoint_sha256);
  // Rows past out_bytes belong to an episode the state does not list: drop them, it is rescored.
  const out = await fsp.open(o.out, "a+");
  const st = await out.stat();
  if (st.size > state.out_bytes) await out.truncate(state.out_bytes);
  else if (st.size < state.out_bytes) {
    await out.close();
    throw new Error(`${o.out} is shorter (${st.size} bytes) than the follow state ${o.statePath} recorded (${state.out_bytes}): it was edited or replaced; move the state away to start over`);
  }

  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const waiting = new Map<string, Waiting>(state.waiting.filter((r) => !state.processed[r.episode_id]).map((r) => [r.episode_id, { record: r, tried: null }]));
  const result: FollowResult = { episodes_scored: 0, episodes_unscored: 0, windows: 0, episodes_alerted: 0, waiting: 0, index_problems: 0, poll_errors: 0, last_error: null, event_loop_lag_ms: { p50: 0, p99: 0, max: 0 }, publish: null };
  let wake: (() => void) | null = null;
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(o.store, () => wake?.());
    watcher.on("error", () => undefined); // polling still runs
  } catch {
    watcher = null;
  }

  const append = async (rows: object[]): Promise<void> => {
    const text = Buffer.from(rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    try {
      await out.write(text, 0, text.length, state.out_bytes);
      await out.sync();
    } catch (error) {
      // A partial append (disk full...) must not stay in the middle of the file.
      await out.truncate(state.out_bytes).catch(() => undefined);
      throw error;
    }
    state.out_bytes += text.length;
  };

  const decide = async (id: string, s: ScoredEpisode | { summary: EpisodeRow; reasons: string[]; cls: string; sha: string | null }): Promise<void> => {
    if ("windows" in s) {
      await append([...s.windows, s.summary]);
      for (const w of s.windows) {
        o.publish?.publish({ type: "prediction", episode_id: w.episode_id, t_s: w.t_s, model: o.modelName, probs: w.probs, predicted: w.predicted });
      }
    } else {
      await append([s.summary]);
    }
    const sum = s.summary;
    state.processed[id] = {
      host_id: sum.host_id,
      class: sum.acceptance_class,
      verdict: sum.verdict,
      sha256: "windows" in s ? null : s.sha,
      ...("reasons" in s ? { reasons: s.reasons } : {}),
    };
    if (sum.verdict === "unscored") result.episodes_unscored++;
    else result.episodes_scored++;
    if (sum.verdict === "alert") result.episodes_alerted++;
    if ("windows" in s) {
      result.windows += s.windows.length;
      o.onScored?.(s);
    }
    waiting.delete(id);
  };

  const readIndexTail = async (): Promise<boolean> => {
    const path = join(o.store, INDEX_FILE);
    let h;
    try {
      h = await fsp.open(path, "r");
    } catch {
      return false; // no index yet
    }
    try {
      const size = (await h.stat()).size;
      // A shorter index was rewritten (prune): read it again; processed episodes stay processed.
      if (size < state.index_offset) state.index_offset = 0;
      if (size === state.index_offset) return false;
      const buf = Buffer.alloc(size - state.index_offset);
      const { bytesRead } = await h.read(buf, 0, buf.length, state.index_offset);
      const last = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (last < 0) return false; // a line still being written
      const text = buf.subarray(0, last + 1).toString("utf8");
      for (const line of text.split("\n")) {
        for (const piece of splitLinePieces(line)) {
          if (piece.kind !== "object") {
            result.index_problems++;
            continue;
          }
          const rec = toIndexRecord(piece.value);
          if (typeof rec === "string") {
            result.index_problems++;
            continue;
          }
          if (state.processed[rec.episode_id] || waiting.has(rec.episode_id)) continue;
          waiting.set(rec.episode_id, { record: rec, tried: null });
        }
      }
      state.index_offset += last + 1;
      return true;
    } finally {
      await h.close();
    }
  };

  const poll = async (): Promise<void> => {
    let changed = await readIndexTail();
    if (waiting.size > 0) {
      const listing = await listStore(o.store);
      const byRel = new Map(listing.tarballs.map((t) => [t.rel, t.abs]));
      const ready: Array<{ id: string; w: Waiting; abs: string; key: string }> = [];
      for (const [id, w] of waiting) {
        const abs = byRel.get(relPathOf(w.record.host_id, w.record.episode_id));
        if (!abs) continue;
        const fst = await fsp.stat(abs).catch(() => null);
        if (!fst || fst.size < w.record.size_bytes) continue; // still arriving
        const key = `${fst.size}:${fst.mtimeMs}`;
        if (w.tried === key) continue;
        ready.push({ id, w, abs, key });
      }
      const targets = ready.map((r) => ({ episode_id: r.w.record.episode_id, host_id: r.w.record.host_id, rel: relPathOf(r.w.record.host_id, r.w.record.episode_id), abs: r.abs, record: r.w.record }));
      const usable: Array<{ id: string; ep: StoreEpisode }> = [];
      let k = 0;
      for await (const { row } of sweepTargets(targets, { engine, jobs: o.jobs })) {
        const r = ready[k++];
        if (isUsable(row.class)) {
          usable.push({ id: r.id, ep: { episode_id: row.episode_id, host_id: row.host_id, abs: r.abs, acceptance_class: row.class } });
        } else if (row.sha256 !== r.w.record.sha256 || row.reasons.some((x) => RETRY_REASONS.test(x))) {
          r.w.tried = r.key; // not the announced bytes (yet): retry when the file changes
        } else {
          const summary: EpisodeRow = { episode_id: row.episode_id, host_id: row.host_id, window: null, acceptance_class: row.class, windows: 0, verdict: "unscored", first_alert_t_s: null, first_alert_window: null, infecting_start_s: null, error: `not scored: ${row.class} (${row.reasons.join(", ")})` };
          await decide(r.id, { summary, reasons: row.reasons, cls: row.class, sha: row.sha256 });
          changed = true;
        }
      }
      if (usable.length > 0) {
        const scored = await scoreEpisodes(scorer, usable.map((u) => u.ep), { policy: o.policy, jobs: o.jobs });
        for (const [i, s] of scored.entries()) await decide(usable[i].id, s);
        changed = true;
      }
    }
    if (changed) {
      state.waiting = [...waiting.values()].map((w) => w.record);
      await saveState(o.statePath, state);
    }
    result.waiting = waiting.size;
  };

  const snapshot = (): FollowResult => {
    result.event_loop_lag_ms = { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 };
    result.publish = o.publish?.stats() ?? null;
    return { ...result };
  };

  let lastNew = Date.now();
  let decided = 0;
  try {
    while (!o.signal.aborted) {
      try {
        await poll();
      } catch (error) {
        // Never crash on the store's state; what was not decided is examined again next poll.
        result.poll_errors++;
        result.last_error = (error as Error).message;
        o.onPollError?.(result.last_error);
      }
      o.onPoll?.(snapshot());
      if (o.signal.aborted) break;
      const n = result.episodes_scored + result.episodes_unscored;
      if (n !== decided) lastNew = Date.now();
      decided = n;
      if (o.idleExitMs != null && Date.now() - lastNew > o.idleExitMs) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, o.pollMs ?? 250);
        function done(): void {
          clearTimeout(t);
          wake = null;
          o.signal.removeEventListener("abort", done);
          resolve();
        }
        wake = done;
        o.signal.addEventListener("abort", done);
      });
    }
  } finally {
    watcher?.close();
    lag.disable();
    await out.close();
  }
  if (o.publish) result.publish = await o.publish.close();
  return snapshot();
}

export type { FollowState };
