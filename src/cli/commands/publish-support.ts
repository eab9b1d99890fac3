// The base of the `cis490 publish ...` commands: the shared options, the
// dry run (events as JSONL on stdout, the summary on stderr), the summary
// of a send, and the exit code (1 when anything was refused or not sent).

import { Option } from "clipanion";
import { readToken } from "../../dashboard/publisher.js";
import { defaultTokenFile } from "../../dashboard/token.js";
import type { SendResult, Target } from "../../dashboard/producers/send.js";
import { CliError } from "../../util/errors.js";
import { BaseCommand, EXIT_FAILURE, EXIT_OK, type Reporter } from "../command.js";

export const DEFAULT_URL = "http://127.0.0.1:8447";

export interface PublishOutcome {
  /** Event kind(s) for the text summary. */
  what: string;
  /** Null for a dry run. */
  sent: SendResult | null;
  /** Events printed by a dry run. */
  printed?: number;
  /** More fields for the --json document. */
  extra?: Record<string, unknown>;
  /** More lines for the text summary. */
  lines?: string[];
  /** A completed run that still failed (a checkpoint not measured, an interrupted replay). */
  failed?: boolean;
}

export abstract class PublishCommand extends BaseCommand<PublishOutcome> {
  url = Option.String("--url", DEFAULT_URL, { description: `Dashboard server (default ${DEFAULT_URL})` });
  tokenFile = Option.String("--token-file", { description: "Bearer token file (default ~/.config/cis490/dashboard.token)" });
  dryRun = Option.Boolean("--dry-run", false, { description: "Print the events as JSONL instead of publishing them" });

  protected abstract publish(reporter: Reporter): Promise<PublishOutcome>;

  protected async run(reporter: Reporter): Promise<PublishOutcome> {
    try {
      return await this.publish(reporter);
    } catch (error) {
      // Unreadable inputs and unreachable servers alike: a message, exit 1.
      throw error instanceof CliError ? error : new CliError((error as Error).message, { cause: error });
    }
  }

  protected async target(): Promise<Target> {
    return { url: this.url, token: await readToken(this.tokenFile ?? defaultTokenFile()) };
  }

  /** The dry run: every event as one JSON line on stdout. */
  protected printEvents(what: string, events: readonly unknown[], failed = false): PublishOutcome {
    for (const e of events) this.context.stdout.write(JSON.stringify(e) + "\n");
    return { what, sent: null, printed: events.length, failed };
  }

  protected resultStream(r: PublishOutcome): "stdout" | "stderr" {
    return r.sent === null ? "stderr" : "stdout";
  }

  protected toJson(r: PublishOutcome): unknown {
    if (r.sent === null) return { dry_run: true, printed: r.printed };
    return { published: r.sent.published, rejected: r.sent.rejected, fatal: r.sent.fatal, ...r.extra };
  }

  protected render(r: PublishOutcome): string {
    if (r.sent === null) return `dry run: ${r.printed} ${r.what} event(s) printed, nothing published`;
    const out = [`published ${r.sent.published} ${r.what} event(s)`, ...r.sent.rejected.map((m) => `rejected: ${m}`)];
    if (r.sent.fatal) out.push(`stopped: ${r.sent.fatal}`);
    return [...out, ...(r.lines ?? [])].join("\n");
  }

  protected exitCodeOf(r: PublishOutcome): number {
    return r.failed || r.sent?.fatal || r.sent?.rejected.length ? EXIT_FAILURE : EXIT_OK;
  }
}
