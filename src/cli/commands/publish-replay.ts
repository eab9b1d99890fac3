// `cis490 publish replay`: one episode's ground truth and a model's per-window predictions and embeddings, on the episode's clock.

import { Command, Option } from "clipanion";
import * as t from "typanion";
import { loadInferenceModel } from "../../dashboard/producers/inference.js";
import { planAnomalyReplay, planReplay, runSchedule } from "../../dashboard/producers/replay.js";
import { ANOMALY_CHECKPOINT_SUFFIX } from "../../anomaly/train.js";
import { sendOne, type SendResult } from "../../dashboard/producers/send.js";
import type { Reporter } from "../command.js";
import { PublishCommand, type PublishOutcome } from "./publish-support.js";

export class PublishReplayCommand extends PublishCommand {
  static paths = [["publish", "replay"]];

  static usage = Command.Usage({
    description: "Replay an episode to the dashboard: phase (ground truth), prediction and embedding events, at wall-clock speed or faster.",
    details: `
      The episode's windows are extracted on demand by the native featurizer (no tensor shards needed) with the checkpoint's window geometry, and \`--model\` (a \`.ckpt.json\` from cis490 train) predicts each one. A phase event goes out when a true phase starts, a prediction event when a window's data is complete; \`--speed 10\` plays ten times faster, \`--speed 0\` as fast as the server takes them.

      With each prediction goes an embedding event: the window's embedding (a neural net's penultimate layer, GBT's per-class margins, MiniRocket's PPV features) projected to 2-D by the PCA that \`cis490 train\` fitted on training windows and stored in the checkpoint. A checkpoint trained before that block existed publishes no embedding events and says why (retrain with \`--force\`). An autoencoder checkpoint (\`ae_<mode>.anomaly-ckpt.json\`) publishes phase events and its 16-d latent space projected the same way, no predictions.

      Exit codes: 0 when the whole episode was published; 1 when the episode or checkpoint is unusable or the server refused or could not be reached; 2 on usage errors.
    `,
    examples: [["Replay at 10x", "$0 publish replay --episode data/corpus/lab-r740/ep-0001.tar.zst --model artifacts/gbt_realistic.ckpt.json --speed 10"]],
  });
  episode = Option.String("--episode", { required: true, description: "Episode tarball (.tar.zst)" });
  model = Option.String("--model", { required: true, description: "Checkpoint sidecar (<model>_<mode>.ckpt.json, or ae_<mode>.anomaly-ckpt.json for the autoencoder's latent space)" });
  speed = Option.String("--speed", { validator: t.cascade(t.isNumber(), [t.isInInclusiveRange(0, 10_000)]), description: "Playback speed: 1 = wall clock (default), 10 = ten times faster, 0 = no waiting" });

  protected async publish(reporter: Reporter): Promise<PublishOutcome> {
    const speed = this.speed ?? 1;
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const anomaly = this.model.endsWith(ANOMALY_CHECKPOINT_SUFFIX);
      const plan = anomaly ? await planAnomalyReplay(this.episode, this.model) : await planReplay(this.episode, await loadInferenceModel(this.model));
      if (plan.embedding_note) reporter.info(plan.embedding_note);
      const what = anomaly ? "phase/embedding" : plan.embeddings > 0 ? "phase/prediction/embedding" : "phase/prediction";
      if (this.dryRun) return this.printEvents(what, plan.schedule.map((s) => ({ due_s: s.due_s, ...s.event })));
      const target = await this.target();
      reporter.info(`replaying ${plan.episode_id} (${plan.duration_s.toFixed(1)} s, ${plan.windows} windows) with ${plan.model} at ${speed === 0 ? "full speed" : `${speed}x`}`);
      const r: SendResult = { published: 0, rejected: [], fatal: null };
      await runSchedule(plan.schedule, speed, (s) => sendOne(target, s.event, r), abort.signal);
      return {
        what,
        sent: r,
        extra: { episode_id: plan.episode_id, model: plan.model, windows: plan.windows, embeddings: plan.embeddings, embedding_note: plan.embedding_note, interrupted: abort.signal.aborted },
        failed: abort.signal.aborted,
      };
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
}
