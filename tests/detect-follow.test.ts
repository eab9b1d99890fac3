// `detect --follow` against a store written while it runs, the hostile way:
// a torn index line (no newline yet), a tarball announced before it is
// fully written, a complete-size tarball with the wrong bytes, two records
// torn onto one line plus garbage, an episode missing a member, and a
// restart (also after a crash that left rows past the saved state).

import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../src/deploy/alert.js";
import { exportCheckpoint } from "../src/deploy/export.js";
import { follow, type FollowResult } from "../src/deploy/follow.js";
import { WorkerScorer } from "../src/deploy/inference-worker.js";
import type { PredictionEvent, PublishClient, PublishStats } from "../src/dashboard/publisher.js";
import { trainModel } from "../src/train/run.js";
import { buildEpisode, indexRow } from "./helpers/store-fixture.js";
import { makeToy, quick } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-follow-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let modelPath: string;

beforeAll(async () => {
  // The toy's schema (2 s windows at 5 Hz) is what the feature core makes with that geometry.
  const toy = await makeToy(join(root, "toy"));
  const r = await trainModel(quick(toy, "gbt", join(root, "artifacts"), { gbt: { rounds: 10, max_depth: 3, eta: 0.3, early_stopping_rounds: 0 } }));
  modelPath = join(root, "gbt.onnx");
  await exportCheckpoint(r.sidecarPath, modelPath);
});

const store = join(root, "store");
const out = join(root, "det.jsonl");
const statePath = join(root, "det.state.json");
const HOST = "host-a";
const ep = (i: number, omit?: Array<"labels">) => buildEpisode({ episode_id: `ep-${i}`, host_id: HOST, omit });
const tarPath = (i: number) => join(store, HOST, `ep-${i}.tar.zst`);
const line = (i: number, bytes: Buffer) => JSON.stringify(indexRow(`ep-${i}`, HOST, bytes));

class Recorder implements PublishClient {
  events: PredictionEvent[] = [];
  publish(e: PredictionEvent): void {
    this.events.push(e);
  }
  stats(): PublishStats {
    return { sent: this.events.length, dropped: 0, failures: 0, queued: 0 };
  }
  async close(): Promise<PublishStats> {
    return this.stats();
  }
}

/** Runs follow until `until(result)` holds after a poll (or a timeout), then stops it. */
async function runUntil(until: (r: FollowResult) => boolean, steps: Array<() => void> = [], publish: PublishClient | null = null): Promise<FollowResult> {
  const scorer = await WorkerScorer.start(modelPath);
  const abort = new AbortController();
  let polls = 0;
  const timer = setTimeout(() => abort.abort(), 60_000);
  try {
    return await follow(scorer, {
      store,
      out,
      statePath,
      policy: DEFAULT_POLICY,
      jobs: 1,
      pollMs: 15,
      signal: abort.signal,
      modelName: "gbt",
      publish,
      onPoll: (r) => {
        polls++;
        // Each step runs after a few polls have seen the previous state.
        if (polls % 3 === 0 && steps.length > 0) steps.shift()!();
        else if (steps.length === 0 && until(r)) abort.abort();
      },
    });
  } finally {
    clearTimeout(timer);
    await scorer.close();
  }
}

function rows(): Array<{ episode_id: string; window: number | null; verdict?: string; error?: string }> {
  const text = readFileSync(out, "utf8");
  return text.trim() === "" ? [] : text.trim().split("\n").map((l) => JSON.parse(l));
}

describe("detect --follow", () => {
  it("waits out torn lines and half-written or wrong tarballs, scores each episode once, and says why one is unscored", async () => {
    mkdirSync(join(store, HOST), { recursive: true });
    const b = [0, 1, 2, 3, 4].map((i) => ep(i));
    const missing = ep(5, ["labels"]);
    const seen: string[] = [];
    const check = (label: string, expectScored: string[]) => () => {
      const scored = rows().filter((r) => r.window === null).map((r) => r.episode_id);
      seen.push(`${label}: ${scored.join(",")}`);
      expect(scored, label).toEqual(expectScored);
    };
    const recorder = new Recorder();
    const r = await runUntil(
      (res) => res.episodes_scored + res.episodes_unscored >= 6,
      [
        // ep-0: tarball complete, its index line torn (no newline yet).
        () => {
          writeFileSync(tarPath(0), b[0]);
          writeFileSync(join(store, "index.jsonl"), line(0, b[0]).slice(0, 40));
        },
        check("torn line", []),
        () => appendFileSync(join(store, "index.jsonl"), line(0, b[0]).slice(40) + "\n"),
        check("line completed", ["ep-0"]),
        // ep-1: announced, tarball half-written.
        () => {
          writeFileSync(tarPath(1), b[1].subarray(0, b[1].length >> 1));
          appendFileSync(join(store, "index.jsonl"), line(1, b[1]) + "\n");
        },
        check("half tarball", ["ep-0"]),
        () => writeFileSync(tarPath(1), b[1]),
        check("tarball completed", ["ep-0", "ep-1"]),
        // ep-2: full size but wrong bytes (sha256 differs from the announcement).
        () => {
          const bad = Buffer.from(b[2]);
          bad[bad.length >> 1] ^= 0xff;
          writeFileSync(tarPath(2), bad);
          appendFileSync(join(store, "index.jsonl"), line(2, b[2]) + "\n");
        },
        check("wrong bytes", ["ep-0", "ep-1"]),
        () => writeFileSync(tarPath(2), b[2]),
        check("bytes fixed", ["ep-0", "ep-1", "ep-2"]),
        // ep-3 and ep-4 torn onto one line, a garbage line, and ep-5 missing labels.jsonl.
        () => {
          writeFileSync(tarPath(3), b[3]);
          writeFileSync(tarPath(4), b[4]);
          writeFileSync(tarPath(5), missing);
          appendFileSync(join(store, "index.jsonl"), line(3, b[3]) + line(4, b[4]) + "\n%%garbage{\n" + line(5, missing) + "\n");
        },
      ],
      recorder,
    );
    expect(seen).toHaveLength(6);
    const episodeRows = rows().filter((x) => x.window === null);
    expect(episodeRows.map((x) => x.episode_id).sort()).toEqual(["ep-0", "ep-1", "ep-2", "ep-3", "ep-4", "ep-5"]);
    const unscored = episodeRows.find((x) => x.episode_id === "ep-5")!;
    expect(unscored.verdict).toBe("unscored");
    expect(unscored.error).toMatch(/missing-member:labels.jsonl/);
    expect(r.episodes_scored).toBe(5);
    expect(r.index_problems).toBeGreaterThan(0);
    const windows = rows().filter((x) => x.window !== null).length;
    expect(windows).toBeGreaterThan(50);
    expect(windows).toBe(r.windows);
    expect(recorder.events).toHaveLength(windows);
    expect(r.event_loop_lag_ms.p99).toBeGreaterThan(0);
  });

  it("restarts without rescoring or skipping, also after a crash left rows past the saved state", async () => {
    const before = readFileSync(out, "utf8");
    // A crash between appending rows and saving the state: the tail is not in the state.
    appendFileSync(out, '{"episode_id":"ep-0","window":0,"half":');
    const b6 = ep(6);
    const r = await runUntil((res) => res.episodes_scored >= 1, [
      () => {
        writeFileSync(tarPath(6), b6);
        appendFileSync(join(store, "index.jsonl"), line(6, b6) + "\n");
      },
    ]);
    expect(r.episodes_scored).toBe(1);
    const after = readFileSync(out, "utf8");
    expect(after.startsWith(before)).toBe(true);
    const added = after.slice(before.length).trim().split("\n").map((l) => JSON.parse(l));
    expect(new Set(added.map((x) => x.episode_id))).toEqual(new Set(["ep-6"]));
    const state = JSON.parse(readFileSync(statePath, "utf8"));
    expect(Object.keys(state.processed).sort()).toEqual(["ep-0", "ep-1", "ep-2", "ep-3", "ep-4", "ep-5", "ep-6"]);
    expect(state.out_bytes).toBe(after.length);
  });

  it("an episode announced before a restart but landing after it is still scored", async () => {
    const b7 = ep(7);
    let r = await runUntil((res) => res.waiting === 1, [() => appendFileSync(join(store, "index.jsonl"), line(7, b7) + "\n")]);
    expect(r.episodes_scored).toBe(0);
    expect(JSON.parse(readFileSync(statePath, "utf8")).waiting.map((w: { episode_id: string }) => w.episode_id)).toEqual(["ep-7"]);
    r = await runUntil((res) => res.episodes_scored >= 1, [() => writeFileSync(tarPath(7), b7)]);
    expect(r.episodes_scored).toBe(1);
    expect(rows().filter((x) => x.window === null && x.episode_id === "ep-7")).toHaveLength(1);
  });

  it("stops by itself after --idle-exit-s without a newly decided episode", async () => {
    const scorer = await WorkerScorer.start(modelPath);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 30_000);
    const started = Date.now();
    try {
      const r = await follow(scorer, { store, out, statePath, policy: DEFAULT_POLICY, jobs: 1, pollMs: 15, signal: abort.signal, modelName: "gbt", idleExitMs: 200 });
      expect(abort.signal.aborted).toBe(false);
      expect(r.episodes_scored).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    } finally {
      clearTimeout(timer);
      await scorer.close();
    }
  });
});
