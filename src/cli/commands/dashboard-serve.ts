// `cis490 dashboard serve`: the live dashboard (src/dashboard/server.ts) until SIGINT/SIGTERM.

import { Command, Option } from "clipanion";
import * as t from "typanion";
import { DEFAULT_MAX_BODY, DEFAULT_PORT, isLoopback, startDashboard } from "../../dashboard/server.js";
import { defaultTokenFile, loadOrCreateToken } from "../../dashboard/token.js";
import { CliError, UsageError } from "../../util/errors.js";
import { BaseCommand, type Reporter } from "../command.js";

const isIntegerIn = (min: number, max: number) => t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(min, max)]);

interface ServeResult {
  accepted: number;
  rejected: number;
  dropped_clients: number;
}

export class DashboardServeCommand extends BaseCommand<ServeResult> {
  static paths = [["dashboard", "serve"]];

  static usage = Command.Usage({
    description: "Serve the live dashboard: POST /publish for producers, a websocket page for people.",
    details: `
      Producers POST one JSON event per request to \`/publish\` with \`Authorization: Bearer <token>\`; the six event types are in docs/dashboard.md. The page at \`/\` connects to \`/ws\` with the same token, which it reads from the URL fragment (\`http://HOST:PORT/#token=...\`; a fragment never reaches the server's logs or other sites).

      The token is generated at first start into \`--token-file\` (mode 0600) and reused afterwards. The server binds 127.0.0.1 unless \`--host\` says otherwise; on any other address the token is the only protection.

      \`--log\` appends every accepted event to a JSONL file; \`--replay\` serves such a file instead, with publishing off, and the page scrubs through it.

      Exit codes: 0 after a graceful stop (SIGINT/SIGTERM); 1 when it cannot start (port in use, unreadable token or recording); 2 on usage errors.
    `,
    examples: [
      ["Serve on loopback and log the session", "$0 dashboard serve --log events.jsonl"],
      ["Review a recorded session", "$0 dashboard serve --replay events.jsonl --port 8448"],
    ],
  });

  host = Option.String("--host", "127.0.0.1", { description: "Address to bind (default 127.0.0.1)" });
  port = Option.String("--port", { validator: isIntegerIn(0, 65535), description: `Port (default ${DEFAULT_PORT}; 0 = any free port)` });
  tokenFile = Option.String("--token-file", { description: "Bearer token file (default ~/.config/cis490/dashboard.token)" });
  log = Option.String("--log", { description: "Append every accepted event to this JSONL file" });
  replay = Option.String("--replay", { description: "Serve this recorded JSONL session (publishing off)" });
  maxBody = Option.String("--max-body", { validator: isIntegerIn(64, 64 * 1024 * 1024), description: `Largest accepted POST body in bytes (default ${DEFAULT_MAX_BODY})` });

  /** Serves until SIGINT/SIGTERM; the announcement goes to stdout at once (people and scripts wait for the URL). */
  protected async run(reporter: Reporter): Promise<ServeResult> {
    if (this.log && this.replay) throw new UsageError("--log and --replay exclude each other (a replay accepts no events)");
    const say = (line: string) => void this.context.stdout.write(line + "\n");
    const tokenFile = this.tokenFile ?? defaultTokenFile();
    let server: Awaited<ReturnType<typeof startDashboard>>;
    let created: boolean;
    try {
      const loaded = await loadOrCreateToken(tokenFile);
      created = loaded.created;
      if (!isLoopback(this.host)) reporter.warn(`binding ${this.host}, not loopback: anyone who can reach it and holds the token can publish and watch; the token is the only protection`);
      server = await startDashboard({
        host: this.host,
        port: this.port ?? DEFAULT_PORT,
        token: loaded.token,
        logPath: this.log ?? null,
        replayPath: this.replay ?? null,
        maxBody: this.maxBody ?? DEFAULT_MAX_BODY,
        onWarning: (m) => reporter.warn(m),
      });
    } catch (error) {
      // A port in use or an unreadable file is the machine's state, not a bug.
      if (error instanceof CliError || (error as NodeJS.ErrnoException).code === undefined) throw error;
      throw new CliError((error as Error).message, { cause: error });
    }
    for (const s of server.skipped.slice(0, 10)) reporter.info(`recording: skipped ${s}`);
    if (server.skipped.length > 10) reporter.info(`recording: skipped ${server.skipped.length - 10} more line(s)`);
    say(`dashboard (${server.mode}) on ${server.url}`);
    say(`token ${created ? "created in" : "read from"} ${tokenFile} (mode 0600)`);
    say(`open ${server.url}#token=<the token>, e.g. xdg-open "${server.url}#token=$(cat ${tokenFile})"`);
    if (server.mode === "replay") say(`replaying ${server.stats().recording_events} event(s) from ${this.replay}`);
    if (this.log) say(`logging accepted events to ${this.log}`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await server.close();
    const s = server.stats();
    return { accepted: s.accepted, rejected: s.rejected, dropped_clients: s.dropped_clients };
  }

  protected render(s: ServeResult): string {
    return `stopped: ${s.accepted} event(s) accepted, ${s.rejected} rejected, ${s.dropped_clients} slow client(s) dropped`;
  }
}
