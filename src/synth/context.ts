// Store-wide facts every episode needs (campaign dates, host boot times),
// derived from the seed alone so that each worker can rebuild them.

import type { StoreContext } from "./episode.js";
import { fleetHosts } from "./hosts.js";
import type { SynthParams } from "./plan.js";
import { deriveRng, parseSeed, tagOf } from "./rng.js";

/** 2026-03-02T06:00:00Z: the campaign starts within three weeks of it. */
const CAMPAIGN_EPOCH = Date.UTC(2026, 2, 2, 6, 0, 0) / 1000;
const DAY = 86400;

export function storeContext(params: SynthParams): StoreContext {
  const seed = parseSeed(params.seed);
  if (seed === null) throw new RangeError(`seed must be a non-negative integer, got ${params.seed}`);
  const rng = deriveRng(seed, tagOf("store"));
  const hosts = fleetHosts(params.hosts);
  const campaignStart = CAMPAIGN_EPOCH + rng.int(0, 20 * DAY);
  return {
    seed,
    hosts,
    campaignStart,
    hostBoot: hosts.map(() => campaignStart - rng.int(2 * DAY, 40 * DAY)),
    orchestratorStart: hosts.map(() => campaignStart - rng.int(3600, 3 * DAY)),
  };
}
