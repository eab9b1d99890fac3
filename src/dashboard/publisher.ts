// The one publisher client every producer uses (publish metrics|perf|
// profiles|replay, and `detect --publish`): validates the event locally,
// POSTs it with the bearer token, and retries with exponential backoff and
// jitter when the server is unreachable or answers 5xx/429. A 4xx is the
// event's or the token's fault: it is not retried, and its reason is kept.

import { readFile } from "node:fs/promises";
import { validateEvent, type DashboardEvent } from "./events.js";

export class PublishError extends Error {
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
      const res = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body,
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      });
      const text = await res.text();
      let doc: { seq?: number; error?: string } = {};
      try {
        doc = JSON.parse(text);
      } catch {
        // A proxy's HTML error page, say: keep the status.
      }
      if (res.ok) return { seq: Number(doc.seq), attempts: attempt };
      const permanent = res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408;
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
