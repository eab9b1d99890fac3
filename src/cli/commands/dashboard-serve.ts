// `cis490 dashboard serve`: the live dashboard (src/dashboard/server.ts) until SIGINT/SIGTERM.

import { Command, Option } from "clipanion";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OptionError, writeLine } from "../../io/command-support.js";
import { DEFAULT_MAX_BODY, DEFAULT_PORT, DashboardError, isLoopback, startDashboard } from "../../dashboard/server.js";
import { defaultTokenFile, loadOrCreateToken, TokenError } from "../../dashboard/token.js";

function parseInteger(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new OptionError(`${flag} must be an integer in ${min}..${max} (got ${JSON.stringify(value)})`);
  return n;
}

export class DashboardServeCommand extends Command {
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
  port = Option.String("--port", String(DEFAULT_PORT), { description: `Port (default ${DEFAULT_PORT}; 0 = any free port)` });
  tokenFile = Option.String("--token-file", { description: "Bearer token file (default ~/.config/cis490/dashboard.token)" });
  log = Option.String("--log", { description: "Append every accepted event to this JSONL file" });
  replay = Option.String("--replay", { description: "Serve this recorded JSONL session (publishing off)" });
  maxBody = Option.String("--max-body", String(DEFAULT_MAX_BODY), { description: `Largest accepted POST body in bytes (default ${DEFAULT_MAX_BODY})` });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    let port: number;
    let maxBody: number;
    try {
      port = parseInteger("--port", this.port, 0, 65535);
      maxBody = parseInteger("--max-body", this.maxBody, 64, 64 * 1024 * 1024);
      if (this.log && this.replay) throw new OptionError("--log and --replay exclude each other (a replay accepts no events)");
    } catch (error) {
      writeLine(stderr, `cis490 dashboard serve: ${(error as Error).message}`);
      return EXIT_USAGE;
    }
    const tokenFile = this.tokenFile ?? defaultTokenFile();
    try {
      const { token, created } = await loadOrCreateToken(tokenFile);
      if (!isLoopback(this.host)) writeLine(stderr, `warning: binding ${this.host}, not loopback: anyone who can reach it and holds the token can publish and watch; the token is the only protection`);
      const server = await startDashboard({
        host: this.host,
        port,
        token,
        logPath: this.log ?? null,
        replayPath: this.replay ?? null,
        maxBody,
        onWarning: (m) => writeLine(stderr, `warning: ${m}`),
      });
      for (const s of server.skipped.slice(0, 10)) writeLine(stderr, `recording: skipped ${s}`);
      if (server.skipped.length > 10) writeLine(stderr, `recording: skipped ${server.skipped.length - 10} more line(s)`);
      writeLine(stdout, `dashboard (${server.mode}) on ${server.url}`);
      writeLine(stdout, `token ${created ? "created in" : "read from"} ${tokenFile} (mode 0600)`);
      writeLine(stdout, `open ${server.url}#token=<the token>, e.g. xdg-open "${server.url}#token=$(cat ${tokenFile})"`);
      if (server.mode === "replay") writeLine(stdout, `replaying ${server.stats().recording_events} event(s) from ${this.replay}`);
      if (this.log) writeLine(stdout, `logging accepted events to ${this.log}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await server.close();
      const s = server.stats();
      writeLine(stdout, `stopped: ${s.accepted} event(s) accepted, ${s.rejected} rejected, ${s.dropped_clients} slow client(s) dropped`);
      return EXIT_OK;
    } catch (error) {
      if (error instanceof DashboardError || error instanceof TokenError || (error as NodeJS.ErrnoException).code !== undefined) {
        writeLine(stderr, `cis490 dashboard serve: ${(error as Error).message}`);
        return EXIT_FAILURE;
      }
      throw error;
    }
  }
}
