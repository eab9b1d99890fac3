// The event log (one Envelope per line, JSONL) and reading it back for
// `--replay`. A line that is not a valid envelope is reported with its line
// number and skipped; the rest of the recording is still served.

import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { validateEvent, type Envelope } from "./events.js";

export class EventLog {
  private readonly stream: WriteStream;
  private failure: Error | null = null;

  constructor(readonly path: string, onError: (message: string) => void) {
    this.stream = createWriteStream(path, { flags: "a", mode: 0o600 });
    this.stream.on("error", (error) => {
      if (!this.failure) onError(`event log ${path}: ${error.message}; events are no longer logged`);
      this.failure = error;
    });
  }

  /** Resolves once the stream has opened (or rejects when the file cannot be opened). */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.stream.once("ready", () => resolve());
      this.stream.once("error", reject);
    });
  }

  append(env: Envelope): void {
    if (!this.failure) this.stream.write(JSON.stringify(env) + "\n");
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.failure ? resolve() : this.stream.end(() => resolve())));
  }
}

export interface Recording {
  envelopes: Envelope[];
  /** "line N: reason" per skipped line. */
  skipped: string[];
}

/** Reads a log written by EventLog. Bare events (no envelope) are accepted too and get line-numbered sequence numbers. */
export async function readRecording(path: string, maxEvents = 2_000_000): Promise<Recording> {
  const envelopes: Envelope[] = [];
  const skipped: string[] = [];
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    if (envelopes.length >= maxEvents) {
      skipped.push(`line ${n}: more than ${maxEvents} events; the rest is not served`);
      break;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (error) {
      skipped.push(`line ${n}: not JSON (${(error as Error).message})`);
      continue;
    }
    const wrapped = doc as Partial<Envelope>;
    const isEnvelope = typeof doc === "object" && doc !== null && "event" in doc;
    const v = validateEvent(isEnvelope ? wrapped.event : doc);
    if (!v.ok) {
      skipped.push(`line ${n}: ${v.reason}`);
      continue;
    }
    const seq = isEnvelope && Number.isInteger(wrapped.seq) ? (wrapped.seq as number) : n;
    const at = isEnvelope && Number.isFinite(wrapped.at_ms) ? (wrapped.at_ms as number) : 0;
    envelopes.push({ seq, at_ms: at, event: v.event });
  }
  return { envelopes, skipped };
}
