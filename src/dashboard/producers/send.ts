// Sends a producer's events through the publisher client, one after
// another. A rejected event is counted with its reason and the rest go on;
// a refused token or an unreachable server (after the client's retries) ends
// the batch, since every later event would fail the same way.

import { publishEvent, PublishError, type RetryOptions } from "../publisher.js";
import type { DashboardEvent } from "../events.js";

export interface Target {
  url: string;
  token: string;
  retry?: RetryOptions;
}

export interface SendResult {
  published: number;
  rejected: string[];
  /** Set when the batch stopped early. */
  fatal: string | null;
}

export async function sendAll(target: Target, events: Iterable<DashboardEvent>): Promise<SendResult> {
  const out: SendResult = { published: 0, rejected: [], fatal: null };
  for (const event of events) {
    const r = await sendOne(target, event, out);
    if (!r) break;
  }
  return out;
}

/** Publishes one event into `out`; false when the caller should stop. */
export async function sendOne(target: Target, event: DashboardEvent, out: SendResult): Promise<boolean> {
  try {
    await publishEvent(target.url, target.token, event, target.retry);
    out.published++;
    return true;
  } catch (error) {
    if (!(error instanceof PublishError)) throw error;
    if (error.status === 401 || error.status === 409 || !error.permanent) {
      out.fatal = error.message;
      return false;
    }
    out.rejected.push(error.message);
    return true;
  }
}
