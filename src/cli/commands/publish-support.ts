// Options and output shared by the `cis490 publish ...` commands.

import { Option } from "clipanion";
import type { Writable } from "node:stream";
import { writeLine } from "../../io/command-support.js";
import { readToken } from "../../dashboard/publisher.js";
import { defaultTokenFile } from "../../dashboard/token.js";
import type { SendResult, Target } from "../../dashboard/producers/send.js";

export const DEFAULT_URL = "http://127.0.0.1:8447";

export function publishOptions() {
  return {
    url: Option.String("--url", DEFAULT_URL, { description: `Dashboard server (default ${DEFAULT_URL})` }),
    tokenFile: Option.String("--token-file", { description: "Bearer token file (default ~/.config/cis490/dashboard.token)" }),
    dryRun: Option.Boolean("--dry-run", false, { description: "Print the events as JSONL instead of publishing them" }),
    json: Option.Boolean("--json", false, { description: "Print one JSON summary" }),
  };
}

export async function target(url: string, tokenFile: string | undefined): Promise<Target> {
  return { url, token: await readToken(tokenFile ?? defaultTokenFile()) };
}

export function report(stdout: Writable, json: boolean, what: string, r: SendResult, extra: Record<string, unknown> = {}): void {
  if (json) {
    writeLine(stdout, JSON.stringify({ published: r.published, rejected: r.rejected, fatal: r.fatal, ...extra }));
    return;
  }
  writeLine(stdout, `published ${r.published} ${what} event(s)`);
  for (const m of r.rejected) writeLine(stdout, `rejected: ${m}`);
  if (r.fatal) writeLine(stdout, `stopped: ${r.fatal}`);
}
