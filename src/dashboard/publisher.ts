// The one publisher client: every producer POSTs through here.
// - publishEvent (publish metrics|perf|profiles|replay): validates one
//   event locally, POSTs it with the bearer token, and retries with
//   exponential backoff and jitter when the server is unreachable or answers
//   5xx/408/429. A 4xx is the event's or the token's fault: it is not
//   retried, and its reason is kept.
// - HttpPublishClient (`detect --follow --publish`): a stream of prediction
//   events that must never block or fail detection: queued (bounded; the
//   oldest are dropped and counted when the dashboard is away for long),
//   POSTed in order with the same retry rule and exponential backoff.

import { readFile } from "node:fs/promises";
import { validateEvent, type DashboardEvent } from "./events.js";
import { CliError } from "../util/errors.js";

export class PublishError extends CliError {
  constructor(
    message: string,
    /** HTTP status; null when the server could not be reached. */
    readonly status: number | null,
    /** True when retrying cannot help (bad event, bad token, oversized). */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 6). */
  attempts?: number;
  /** First backoff in ms, doubled per retry (default 200). */
  baseDelayMs?: number;
  /** Largest backoff in ms (default 5000). */
  maxDelayMs?: number;
  /** Per-request timeout in ms (default 10000). */
  timeoutMs?: number;
  onRetry?: (attempt: number, delayMs: number, error: PublishError) => void;
}

export interface PublishResult {
  seq: number;
  attempts: number;
}

function publishUrl(url: string): string {
  const u = new URL(url);
  if (!u.pathname.endsWith("/publish")) u.pathname = u.pathname.replace(/\/?$/, "/publish");
  return u.toString();
}

/** 4xx other than 408/429: the server refuses this event; retrying would not help. */
function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 429 && status !== 408;
}

function post(target: string, token: string, body: string, timeoutMs: number, fetchImpl: typeof fetch = fetch): Promise<Response> {
  return fetchImpl(target, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes one event to a dashboard server (`url` is the server's base URL or its /publish URL). */
export async function publishEvent(url: string, token: string, event: DashboardEvent, o: RetryOptions = {}): Promise<PublishResult> {
  const v = validateEvent(event);
  if (!v.ok) throw new PublishError(`not published: ${v.reason}`, null, true);
  const target = publishUrl(url);
  const body = JSON.stringify(event);
  const attempts = Math.max(1, o.attempts ?? 6);
  const base = o.baseDelayMs ?? 200;
  const max = o.maxDelayMs ?? 5000;
  let last: PublishError | null = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await post(target, token, body, o.timeoutMs ?? 10_000);
      const text = await res.text();
      let doc: { seq?: number; error?: string } = {};
      try {
        doc = JSON.parse(text);
      } catch {
        // A proxy's HTML error page, say: keep the status.
      }
      if (res.ok) return { seq: Number(doc.seq), attempts: attempt };
      const permanent = isPermanent(res.status);
      last = new PublishError(`${target}: ${res.status} ${doc.error ?? res.statusText}`, res.status, permanent);
      if (permanent) throw last;
    } catch (error) {
      if (error instanceof PublishError) throw error;
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      last = new PublishError(`${target}: cannot reach the dashboard (${cause})`, null, false);
    }
    if (attempt < attempts) {
      const delay = Math.min(max, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      o.onRetry?.(attempt, delay, last);
      await sleep(delay);
    }
  }
  throw last!;
}

/** Reads a token file written by `dashboard serve` (or any file holding just the token). */
export async function readToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new PublishError(`cannot read the token file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, null, true);
  }
  const token = text.trim();
  if (token === "") throw new PublishError(`token file ${path} is empty`, null, true);
  return token;
}

// --- The queued stream client (detect --follow talks to PublishClient only) ---

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
  /** Posted to as given (not rewritten to /publish). */
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
    try {
      const res = await post(this.o.url, this.o.token, JSON.stringify(event), this.o.timeoutMs ?? 2000, this.o.fetchImpl);
      await res.arrayBuffer().catch(() => undefined);
      if (isPermanent(res.status)) return "refused";
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
