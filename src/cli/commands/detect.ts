// `cis490 detect`: score a store with an exported ONNX model (src/deploy/).

import { Command, Option } from "clipanion";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OptionError, parseJobs, storeDirProblem, writeLine } from "../../io/command-support.js";
import { DEFAULT_POLICY, type AlertPolicy } from "../../deploy/alert.js";
import type { DetectEvaluation, Interval } from "../../deploy/evaluate.js";
import { describePolicy, renderDetectHtml, renderDetectMarkdown } from "../../deploy/report.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { formatTable } from "../text-table.js";
import { DetectError, type Scorer } from "../../deploy/detect.js";
import { detectStore } from "../../deploy/detect-store.js";
import { WorkerScorer } from "../../deploy/inference-worker.js";
import { ModelLoadError } from "../../deploy/session.js";
import { follow } from "../../deploy/follow.js";
import { HttpPublishClient } from "../../deploy/publish-client.js";
import { mkdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";

function formatEvaluation(e: DetectEvaluation): string {
  const n = (v: number | null, d = 2) => (v === null ? "–" : v.toFixed(d));
  const iv = (i: Interval, d: number) => `${n(i.point, d)} [${n(i.lo, d)}, ${n(i.hi, d)}]`;
  return [
    `Alert policy: ${describePolicy(e)}`,
    formatTable(["detection rate", "median delay s", "p95 delay s", "false alarms / clean h"], [[iv(e.detection_rate, 3), iv(e.median_delay_s, 1), iv(e.p95_delay_s, 1), iv(e.false_alarms_per_clean_hour, 2)]]),
    "Threshold sweep:",
    formatTable(
      ["threshold", "detected", "rate", "median delay s", "p95 delay s", "false alarms / clean h"],
      e.sweep.map((s) => [s.threshold.toFixed(2), `${s.detected}/${s.infected_episodes}`, n(s.detection_rate, 3), n(s.median_delay_s, 1), n(s.p95_delay_s, 1), n(s.false_alarms_per_clean_hour, 2)]),
    ),
  ].join("\n");
}

export class DetectCommand extends Command {
  static paths = [["detect"]];

  static usage = Command.Usage({
    description: "Score a store's episodes with an exported ONNX model: per-window probabilities and alerts as JSONL.",
    details: `
      Sweeps the store like \`validate\`, featurises every accepted or degraded episode with the model's window geometry (the native feature core), and scores each window with onnxruntime in a worker thread. Writes one JSON line per window \`{"episode_id", "host_id", "window", "t_s", "probs": {...}, "predicted", "alert"}\` (t_s: episode-relative end of the window) and one per episode (\`"window": null\`) with the verdict and the first alert time, to \`--out\` (written under a temporary name, renamed when complete) or to stdout.

      Alert policy: an episode alerts at the first window completing \`--consecutive\` windows in a row whose infected probability (infecting + infected_running) is at least \`--threshold\`.

      With \`--follow\` (needs \`--out\`), it keeps running: each poll reads index.jsonl from where it stopped (up to the last complete line), waits until an announced tarball is present at its announced size, validates it, and scores it if accepted or degraded; rows are appended to \`--out\` and the progress (index offset, decided episodes, output length) saved atomically to \`--state\` (default \`<out>.state.json\`), so a restart neither rescores nor skips. Torn index lines and half-written or changing tarballs are retried later, never scored. \`--publish URL\` POSTs a \`prediction\` event per window to the dashboard with \`Authorization: Bearer <token from --token-file>\`, queued and retried with backoff. Stop with SIGINT/SIGTERM (or \`--idle-exit-s\`).

      A model whose feature-schema hash differs from this build's feature core is refused, naming both hashes; so is a file that is not a (complete) cis490 ONNX model.

      Exit codes: 0 completed; 1 model or store unusable; 2 usage error.
    `,
    examples: [["Score a store", "$0 detect --model models/gru_realistic.onnx --store data/raw --out detections.jsonl"]],
  });

  model = Option.String("--model", { required: true, description: "Exported model (cis490 export)" });
  store = Option.String("--store", { required: true, description: "Store directory (index.jsonl + <host>/<episode>.tar.zst)" });
  out = Option.String("--out", { description: "JSONL output (default: stdout)" });
  threshold = Option.String("--threshold", String(DEFAULT_POLICY.threshold), { description: `Infected probability that counts toward an alert (default ${DEFAULT_POLICY.threshold})` });
  consecutive = Option.String("--consecutive", String(DEFAULT_POLICY.consecutive), { description: `Windows in a row above the threshold that raise an alert (default ${DEFAULT_POLICY.consecutive})` });
  jobs = Option.String("--jobs", { description: "Featurizer threads (default: all cores)" });
  threads = Option.String("--threads", "1", { description: "onnxruntime intra-op threads (default 1)" });
  evaluate = Option.Boolean("--evaluate", false, { description: "Score the alert policy against the store's labels: detection rate, delays, false alarms per clean hour (bootstrap CIs), threshold sweep" });
  report = Option.String("--report", { description: "--evaluate: write detect_eval.{json,md,html} (threshold sweep chart) into this directory" });
  resamples = Option.String("--resamples", "1000", { description: "--evaluate: bootstrap resamples over episodes (default 1000)" });
  follow = Option.Boolean("--follow", false, { description: "Keep watching the store and score episodes as they land" });
  state = Option.String("--state", { description: "Follow state file (default <out>.state.json)" });
  pollMs = Option.String("--poll-ms", "250", { description: "Follow: poll interval in ms (default 250)" });
  idleExit = Option.String("--idle-exit-s", { description: "Follow: exit after this many seconds without a new episode" });
  publish = Option.String("--publish", { description: "Follow: dashboard URL to POST prediction events to" });
  tokenFile = Option.String("--token-file", { description: "File holding the dashboard's bearer token (needed with --publish)" });
  json = Option.Boolean("--json", false, { description: "Print the run summary as JSON (on stderr when rows go to stdout)" });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    let policy: AlertPolicy;
    let jobs: number;
    let threads: number;
    try {
      const threshold = Number(this.threshold);
      if (this.threshold.trim() === "" || !(threshold >= 0 && threshold <= 1)) throw new OptionError(`--threshold must be a number in [0, 1] (got ${JSON.stringify(this.threshold)})`);
      const consecutive = Number(this.consecutive);
      if (!Number.isInteger(consecutive) || consecutive < 1) throw new OptionError(`--consecutive must be a positive integer (got ${JSON.stringify(this.consecutive)})`);
      threads = Number(this.threads);
      if (!Number.isInteger(threads) || threads < 1) throw new OptionError(`--threads must be a positive integer (got ${JSON.stringify(this.threads)})`);
      jobs = parseJobs(this.jobs);
      const resamples = Number(this.resamples);
      if (!Number.isInteger(resamples) || resamples < 1 || resamples > 1e6) throw new OptionError(`--resamples must be an integer in 1..1e6 (got ${JSON.stringify(this.resamples)})`);
      if (this.report && !this.evaluate) throw new OptionError("--report goes with --evaluate");
      if (this.evaluate && this.follow) throw new OptionError("--evaluate scores a whole labelled store; it does not combine with --follow");
      policy = { ...DEFAULT_POLICY, threshold, consecutive };
    } catch (error) {
      writeLine(stderr, `cis490 detect: ${(error as Error).message}`);
      return EXIT_USAGE;
    }
    const problem = await storeDirProblem(this.store);
    if (problem) {
      writeLine(stderr, `cis490 detect: ${problem}`);
      return EXIT_FAILURE;
    }
    if (this.follow) return this.runFollow(policy, jobs, threads);
    let scorer: Scorer | null = null;
    try {
      scorer = await WorkerScorer.start(this.model, { threads });
      const toStdout = !this.out;
      const r = await detectStore(scorer, {
        store: this.store,
        out: this.out ?? null,
        policy,
        jobs,
        evaluate: this.evaluate ? { resamples: Number(this.resamples), seed: 0 } : null,
        onRow: toStdout ? (row) => stdout.write(JSON.stringify(row) + "\n") : undefined,
      });
      const summaryStream = toStdout ? stderr : stdout;
      if (r.evaluation && this.report) {
        await mkdir(this.report, { recursive: true });
        const name = basename(this.model).replace(/\.onnx$/, "");
        await writeFileAtomic(join(this.report, "detect_eval.json"), JSON.stringify({ model: this.model, ...r.evaluation }, null, 2) + "\n");
        await writeFileAtomic(join(this.report, "detect_eval.md"), renderDetectMarkdown(r.evaluation, name));
        await writeFileAtomic(join(this.report, "detect_eval.html"), renderDetectHtml(r.evaluation, name));
      }
      if (this.json) writeLine(summaryStream, JSON.stringify({ model: this.model, kind: scorer.meta.kind, mode: scorer.meta.mode, policy, ...r }));
      else if (r.evaluation) writeLine(summaryStream, formatEvaluation(r.evaluation));
      if (!this.json) writeLine(summaryStream, `Scored ${r.windows} windows of ${r.episodes_scored} episodes (${r.episodes_unscored} unscored) with ${scorer.meta.kind} (${scorer.meta.mode}): ${r.episodes_alerted} alerted, in ${r.seconds.toFixed(1)} s${r.out ? `; rows in ${r.out}` : ""}`);
      return EXIT_OK;
    } catch (error) {
      if (!(error instanceof DetectError || error instanceof ModelLoadError)) throw error;
      writeLine(stderr, `cis490 detect: ${error.message}`);
      return EXIT_FAILURE;
    } finally {
      await scorer?.close();
    }
  }

  private async runFollow(policy: AlertPolicy, jobs: number, threads: number): Promise<number> {
    const { stdout, stderr } = this.context;
    const pollMs = Number(this.pollMs);
    const idle = this.idleExit === undefined ? null : Number(this.idleExit);
    if (!this.out || !(pollMs >= 10) || (idle !== null && !(idle > 0)) || (this.publish && !this.tokenFile)) {
      writeLine(stderr, `cis490 detect: --follow needs --out, --poll-ms >= 10, a positive --idle-exit-s, and --token-file with --publish`);
      return EXIT_USAGE;
    }
    let token = "";
    if (this.publish) {
      try {
        token = (await readFile(this.tokenFile!, "utf8")).trim();
      } catch (error) {
        writeLine(stderr, `cis490 detect: cannot read --token-file: ${(error as Error).message}`);
        return EXIT_FAILURE;
      }
    }
    let scorer: Scorer | null = null;
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      scorer = await WorkerScorer.start(this.model, { threads });
      let lastNew = Date.now();
      let seen = 0;
      let errors = 0;
      const r = await follow(scorer, {
        store: this.store,
        out: this.out,
        statePath: this.state ?? `${this.out}.state.json`,
        policy,
        jobs,
        pollMs,
        signal: abort.signal,
        modelName: basename(this.model).replace(/\.onnx$/, ""),
        publish: this.publish ? new HttpPublishClient({ url: this.publish, token }) : null,
        onPoll: (p) => {
          if (p.poll_errors > errors) writeLine(stderr, `cis490 detect: poll failed (will retry): ${p.last_error}`);
          errors = p.poll_errors;
          const n = p.episodes_scored + p.episodes_unscored;
          if (n !== seen) lastNew = Date.now();
          seen = n;
          if (idle !== null && Date.now() - lastNew > idle * 1000) abort.abort();
        },
      });
      if (this.json) writeLine(stdout, JSON.stringify({ model: this.model, policy, ...r }));
      else writeLine(stdout, `Followed ${this.store}: ${r.windows} windows of ${r.episodes_scored} episodes scored (${r.episodes_unscored} unscored, ${r.waiting} waiting), ${r.episodes_alerted} alerted; event-loop lag p99 ${r.event_loop_lag_ms.p99.toFixed(1)} ms`);
      return EXIT_OK;
    } catch (error) {
      // Also a state file that belongs to another model or does not match --out.
      writeLine(stderr, `cis490 detect: ${(error as Error).message}`);
      return EXIT_FAILURE;
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      await scorer?.close();
    }
  }
}
