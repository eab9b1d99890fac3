// `cis490 detect`: score a store with an exported ONNX model (src/deploy/).
// Rows go to --out or stdout; with rows on stdout the summary goes to stderr.

import { basename } from "node:path";
import { Command, Option } from "clipanion";
import * as t from "typanion";
import { HttpPublishClient, readToken } from "../../dashboard/publisher.js";
import { DEFAULT_POLICY, type AlertPolicy } from "../../deploy/alert.js";
import type { Scorer } from "../../deploy/detect.js";
import { detectStore, type DetectStoreResult } from "../../deploy/detect-store.js";
import { follow, type FollowResult } from "../../deploy/follow.js";
import { WorkerScorer } from "../../deploy/inference-worker.js";
import { writeDetectReport } from "../../deploy/report.js";
import { assertStoreDir } from "../../store/layout.js";
import { CliError, UsageError } from "../../util/errors.js";
import { BaseCommand, type Reporter } from "../command.js";
import { isIntegerAtLeast, isJobCount, isNumberAbove, isNumberAtLeast, jobsOrDefault } from "../options.js";
import { formatEvaluation } from "../render/detect.js";

type DetectOutcome =
  | ({ kind: "score"; model: string; meta: { kind: string; mode: string }; policy: AlertPolicy; toStdout: boolean } & DetectStoreResult)
  | ({ kind: "follow"; model: string; store: string; policy: AlertPolicy } & FollowResult);

export class DetectCommand extends BaseCommand<DetectOutcome> {
  static paths = [["detect"]];

  static usage = Command.Usage({
    description: "Score a store's episodes with an exported ONNX model: per-window probabilities and alerts as JSONL.",
    details: `
      Sweeps the store like \`validate\`, featurises every accepted or degraded episode with the model's window geometry (the native feature core), and scores each window with onnxruntime in a worker thread. Writes one JSON line per window \`{"episode_id", "host_id", "window", "t_s", "probs": {...}, "predicted", "alert"}\` (t_s: episode-relative end of the window) and one per episode (\`"window": null\`) with the verdict and the first alert time, to \`--out\` (written under a temporary name, renamed when complete) or to stdout.

      Alert policy: an episode alerts at the first window completing \`--consecutive\` windows in a row whose infected probability (infecting + infected_running) is at least \`--threshold\`.

      With \`--follow\` (needs \`--out\`), it keeps running: each poll reads index.jsonl from where it stopped (up to the last complete line), waits until an announced tarball is present at its announced size, validates it, and scores it if accepted or degraded; rows are appended to \`--out\` and the progress (index offset, decided episodes, output length) saved atomically to \`--state\` (default \`<out>.state.json\`), so a restart neither rescores nor skips. Torn index lines and half-written or changing tarballs are retried later, never scored. \`--publish URL\` POSTs a \`prediction\` event per window to the dashboard with \`Authorization: Bearer <token from --token-file>\`, queued and retried with backoff. Stop with SIGINT/SIGTERM (or \`--idle-exit-s\`).

      Episodes are featurized with the model's window geometry and, for a model trained on --baseline / --missing-indicators features, the schema options in its metadata (the baseline is computed causally from each episode's own samples). A model whose feature-schema hash differs from what this build's feature core then produces is refused, naming both hashes; so is a file that is not a (complete) cis490 ONNX model.

      Exit codes: 0 completed; 1 model or store unusable; 2 usage error.
    `,
    examples: [["Score a store", "$0 detect --model models/gru_realistic.onnx --store data/raw --out detections.jsonl"]],
  });

  model = Option.String("--model", { required: true, description: "Exported model (cis490 export)" });
  store = Option.String("--store", { required: true, description: "Store directory (index.jsonl + <host>/<episode>.tar.zst)" });
  out = Option.String("--out", { description: "JSONL output (default: stdout)" });
  threshold = Option.String("--threshold", { validator: t.cascade(t.isNumber(), [t.isInInclusiveRange(0, 1)]), description: `Infected probability that counts toward an alert (default ${DEFAULT_POLICY.threshold})` });
  consecutive = Option.String("--consecutive", { validator: isIntegerAtLeast(1), description: `Windows in a row above the threshold that raise an alert (default ${DEFAULT_POLICY.consecutive})` });
  jobs = Option.String("--jobs", { validator: isJobCount, description: "Featurizer threads (default: all cores)" });
  threads = Option.String("--threads", { validator: isIntegerAtLeast(1), description: "onnxruntime intra-op threads (default 1)" });
  evaluate = Option.Boolean("--evaluate", false, { description: "Score the alert policy against the store's labels: detection rate, delays, false alarms per clean hour (bootstrap CIs), threshold sweep" });
  report = Option.String("--report", { description: "--evaluate: write detect_eval.{json,md,html} (threshold sweep chart) into this directory" });
  resamples = Option.String("--resamples", { validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 1e6)]), description: "--evaluate: bootstrap resamples over episodes (default 1000)" });
  follow = Option.Boolean("--follow", false, { description: "Keep watching the store and score episodes as they land" });
  state = Option.String("--state", { description: "Follow state file (default <out>.state.json)" });
  pollMs = Option.String("--poll-ms", { validator: isNumberAtLeast(10), description: "Follow: poll interval in ms (default 250)" });
  idleExit = Option.String("--idle-exit-s", { validator: isNumberAbove(0), description: "Follow: exit after this many seconds without a new episode" });
  publish = Option.String("--publish", { description: "Follow: dashboard URL to POST prediction events to" });
  tokenFile = Option.String("--token-file", { description: "File holding the dashboard's bearer token (needed with --publish)" });

  protected async run(reporter: Reporter): Promise<DetectOutcome> {
    if (this.report && !this.evaluate) throw new UsageError("--report goes with --evaluate");
    if (this.evaluate && this.follow) throw new UsageError("--evaluate scores a whole labelled store; it does not combine with --follow");
    if (this.follow && !this.out) throw new UsageError("--follow needs --out");
    if (this.publish && !this.tokenFile) throw new UsageError("--publish needs --token-file");
    const policy: AlertPolicy = { ...DEFAULT_POLICY, threshold: this.threshold ?? DEFAULT_POLICY.threshold, consecutive: this.consecutive ?? DEFAULT_POLICY.consecutive };
    await assertStoreDir(this.store);
    const token = this.publish ? await readToken(this.tokenFile!) : "";
    let scorer: Scorer | null = null;
    try {
      scorer = await WorkerScorer.start(this.model, { threads: this.threads ?? 1 });
      return this.follow ? await this.runFollow(scorer, policy, token, reporter) : await this.runOnce(scorer, policy);
    } finally {
      await scorer?.close();
    }
  }

  private async runOnce(scorer: Scorer, policy: AlertPolicy): Promise<DetectOutcome> {
    const toStdout = !this.out;
    const r = await detectStore(scorer, {
      store: this.store,
      out: this.out ?? null,
      policy,
      jobs: jobsOrDefault(this.jobs),
      evaluate: this.evaluate ? { resamples: this.resamples ?? 1000, seed: 0 } : null,
      onRow: toStdout ? (row) => this.context.stdout.write(JSON.stringify(row) + "\n") : undefined,
    });
    if (r.evaluation && this.report) await writeDetectReport(this.report, this.model, r.evaluation);
    return { kind: "score", model: this.model, meta: { kind: scorer.meta.kind, mode: scorer.meta.mode }, policy, toStdout, ...r };
  }

  /** Runs until SIGINT/SIGTERM or --idle-exit-s, then returns the final summary. */
  private async runFollow(scorer: Scorer, policy: AlertPolicy, token: string, reporter: Reporter): Promise<DetectOutcome> {
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      const r = await follow(scorer, {
        store: this.store,
        out: this.out!,
        statePath: this.state ?? `${this.out}.state.json`,
        policy,
        jobs: jobsOrDefault(this.jobs),
        pollMs: this.pollMs ?? 250,
        signal: abort.signal,
        modelName: basename(this.model).replace(/\.onnx$/, ""),
        publish: this.publish ? new HttpPublishClient({ url: this.publish, token }) : null,
        onPollError: (m) => reporter.info(`poll failed (will retry): ${m}`),
        idleExitMs: this.idleExit === undefined ? null : this.idleExit * 1000,
      });
      return { kind: "follow", model: this.model, store: this.store, policy, ...r };
    } catch (error) {
      // Also a state file that belongs to another model or does not match --out.
      throw error instanceof CliError ? error : new CliError((error as Error).message, { cause: error });
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  }

  protected resultStream(r: DetectOutcome): "stdout" | "stderr" {
    return r.kind === "score" && r.toStdout ? "stderr" : "stdout";
  }

  protected toJson(r: DetectOutcome): unknown {
    if (r.kind === "follow") {
      const { kind: _k, store: _s, ...doc } = r;
      return doc;
    }
    const { kind: _k, meta, toStdout: _t, model, policy, ...rest } = r;
    return { model, kind: meta.kind, mode: meta.mode, policy, ...rest };
  }

  protected render(r: DetectOutcome): string {
    if (r.kind === "follow") {
      return `Followed ${r.store}: ${r.windows} windows of ${r.episodes_scored} episodes scored (${r.episodes_unscored} unscored, ${r.waiting} waiting), ${r.episodes_alerted} alerted; event-loop lag p99 ${r.event_loop_lag_ms.p99.toFixed(1)} ms`;
    }
    const scored = `Scored ${r.windows} windows of ${r.episodes_scored} episodes (${r.episodes_unscored} unscored) with ${r.meta.kind} (${r.meta.mode}): ${r.episodes_alerted} alerted, in ${r.seconds.toFixed(1)} s${r.out ? `; rows in ${r.out}` : ""}`;
    return r.evaluation ? `${formatEvaluation(r.evaluation)}\n${scored}` : scored;
  }
}
