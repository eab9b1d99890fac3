// The sticky cache: the latest envelope per (type, key), so a page opened
// late starts from the current state. Bounded: past `limit` keys the key
// updated longest ago is forgotten.

import { stickyKey, type Envelope } from "./events.js";

export class StickyCache {
  private readonly entries = new Map<string, Envelope>();

  constructor(private readonly limit = 20_000) {}

  put(env: Envelope): void {
    const key = stickyKey(env.event);
    // Delete first so that Map order is "least recently updated first".
    this.entries.delete(key);
    this.entries.set(key, env);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Cached envelopes in the order they were accepted. */
  snapshot(): Envelope[] {
    return [...this.entries.values()].sort((a, b) => a.seq - b.seq);
  }

  get size(): number {
    return this.entries.size;
  }
}
