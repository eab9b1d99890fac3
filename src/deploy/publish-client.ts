// Sending `prediction` events to the live dashboard. `detect --follow`
// talks to the PublishClient interface only, so the dashboard's own client
// can replace HttpPublishClient. Publishing never blocks or fails
// detection: events queue (bounded; the oldest are dropped and counted when
// the dashboard is away for long) and are POSTed in order with retry and
// exponential backoff.

export interface PredictionEvent {
  type: "prediction";
  episode_id: string;
  t_s: number;
  model: string;
  probs: Record<string, number>;
  predicted: string;
}

export interface PublishStats {
  sent: number;
  dropped: number;
  failures: number;
  queued: number;
}

export interface PublishClient {
  publish(event: PredictionEvent): void;
  /** Tries to send what is queued (up to `timeoutMs`), then stops. */
  close(timeoutMs?: number): Promise<PublishStats>;
  stats(): PublishStats;
}

export interface HttpPublishOptions {
  url: string;
  token: string;
  maxQueue?: number;
  /** First retry delay; doubles per failure up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export class HttpPublishClient implements PublishClient {
  private queue: PredictionEvent[] = [];
  private s: PublishStats = { sent: 0, dropped: 0, failures: 0, queued: 0 };
  private running = false;
  private closed = false;
  private backoff: number;
  private wake: (() => void) | null = null;

  constructor(private readonly o: HttpPublishOptions) {
    this.backoff = o.backoffMs ?? 200;
  }

  publish(event: PredictionEvent): void {
    if (this.closed) return;
    this.queue.push(event);
    const max = this.o.maxQueue ?? 10_000;
    while (this.queue.length > max) {
      this.queue.shift();
      this.s.dropped++;
    }
    if (!this.running) void this.pump();
  }

  stats(): PublishStats {
    return { ...this.s, queued: this.queue.length };
  }

  private async send(event: PredictionEvent): Promise<"sent" | "refused" | "retry"> {
    const f = this.o.fetchImpl ?? fetch;
    try {
      const res = await f(this.o.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.o.token}` },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 2000),
      });
      await res.arrayBuffer().catch(() => undefined);
      // 4xx other than 408/429: the dashboard refuses this event; retrying would not help.
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return "refused";
      return res.ok ? "sent" : "retry";
    } catch {
      return "retry";
    }
  }

  private async pump(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const outcome = await this.send(this.queue[0]);
      if (outcome !== "retry") {
        if (this.queue.length > 0) this.queue.shift();
        if (outcome === "sent") this.s.sent++;
        else this.s.dropped++;
        this.backoff = this.o.backoffMs ?? 200;
        continue;
      }
      this.s.failures++;
      if (this.closed) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, this.backoff);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = null;
      this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 10_000);
    }
    this.running = false;
  }

  async close(timeoutMs = 2000): Promise<PublishStats> {
    const deadline = Date.now() + timeoutMs;
    while (this.running && this.queue.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.closed = true;
    this.wake?.();
    this.s.dropped += this.queue.length;
    this.queue = [];
    return this.stats();
  }
}
