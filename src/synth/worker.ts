// Worker thread: generates and writes the episodes it is handed, and sends
// back everything the index and manifest need (not the bytes).

import { parentPort, workerData } from "node:worker_threads";
import { storeContext } from "./context.js";
import { generateEpisode } from "./episode.js";
import type { EpisodePlan, SynthParams } from "./plan.js";
import { writeEpisode } from "./store.js";

const { params, out } = workerData as { params: SynthParams; out: string };
const ctx = storeContext(params);

parentPort!.on("message", (plans: EpisodePlan[] | null) => {
  if (plans === null) {
    parentPort!.close();
    return;
  }
  const results = plans.map((plan) => {
    const result = generateEpisode(ctx, plan);
    writeEpisode(out, plan, result);
    delete result.bytes;
    return result;
  });
  parentPort!.postMessage(results);
});
