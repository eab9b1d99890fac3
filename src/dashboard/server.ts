// The dashboard server: POST /publish (bearer token, validated against
// events.ts), GET /ws (websocket broadcast with a sticky-cache replay on
// connect), the static page and its assets, an append-only event log, and
// `--replay` of a recorded session with no producers. Domain code: it reports
// through callbacks and never writes to stdout.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer, WebSocket } from "ws";
import { StickyCache } from "./cache.js";
import { validateEvent, type Envelope } from "./events.js";
import { EventLog, readRecording } from "./log.js";
import { tokenMatches } from "./token.js";
import { CliError } from "../util/errors.js";

/** Websocket subprotocol of the page protocol; the token travels as a second subprotocol "token.<token>". */
export const WS_PROTOCOL = "cis490.v1";
export const DEFAULT_PORT = 8447;
export const DEFAULT_MAX_BODY = 256 * 1024;
/** A client whose unsent queue exceeds this is dropped (ws bufferedAmount). */
export const DEFAULT_MAX_CLIENT_BUFFER = 4 * 1024 * 1024;

export interface DashboardOptions {
  host?: string;
  /** 0 = any free port. */
  port?: number;
  token: string;
  logPath?: string | null;
  replayPath?: string | null;
  maxBody?: number;
  maxClientBuffer?: number;
  /** Envelopes per websocket message when replaying the cache or a recording. */
  batchSize?: number;
  onWarning?: (message: string) => void;
}

export interface DashboardStats {
  accepted: number;
  rejected: number;
  clients: number;
  dropped_clients: number;
  cached: number;
  recording_events: number;
}

export interface DashboardServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly mode: "live" | "replay";
  /** Lines of the recording that were skipped, with reasons. */
  readonly skipped: string[];
  stats(): DashboardStats;
  close(): Promise<void>;
}

export class DashboardError extends CliError {}

const PAGE_DIR = fileURLToPath(new URL("../../src/dashboard/page/", import.meta.url));
const ASSETS: Record<string, string> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/style.css": "style.css",
};
const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

function echartsPath(): string {
  const require = createRequire(import.meta.url);
  return join(require.resolve("echarts/package.json"), "..", "dist", "echarts.min.js");
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...extra });
  res.end(text);
}

function bearer(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  const m = typeof h === "string" ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m ? m[1] : null;
}

/** Reads at most `limit` bytes; null when the body is larger (the rest is drained, not buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(over ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startDashboard(o: DashboardOptions): Promise<DashboardServer> {
  const host = o.host ?? "127.0.0.1";
  const maxBody = o.maxBody ?? DEFAULT_MAX_BODY;
  const maxClientBuffer = o.maxClientBuffer ?? DEFAULT_MAX_CLIENT_BUFFER;
  const batchSize = o.batchSize ?? 500;
  const warn = o.onWarning ?? (() => {});
  const mode = o.replayPath ? "replay" : "live";
  const cache = new StickyCache();
  let recording: Envelope[] = [];
  let skipped: string[] = [];
  if (o.replayPath) {
    try {
      ({ envelopes: recording, skipped } = await readRecording(o.replayPath));
    } catch (error) {
      throw new DashboardError(`cannot read recording ${o.replayPath}: ${(error as Error).message}`);
    }
    if (recording.length === 0) throw new DashboardError(`recording ${o.replayPath} holds no valid event${skipped.length ? ` (${skipped[0]})` : ""}`);
  }
  let log: EventLog | null = null;
  if (o.logPath && mode === "live") {
    log = new EventLog(o.logPath, warn);
    try {
      await log.ready();
    } catch (error) {
      throw new DashboardError(`cannot open event log ${o.logPath}: ${(error as Error).message}`);
    }
  }
  const echarts = echartsPath();
  // Lets a reconnecting page tell a restarted server (fresh sequence numbers) from the same one.
  const instance = randomBytes(8).toString("hex");
  let seq = 0;
  let accepted = 0;
  let rejected = 0;
  let dropped = 0;

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false) });

  const sendBatches = (ws: WebSocket, envs: Envelope[]) => {
    for (let i = 0; i < envs.length; i += batchSize) ws.send(JSON.stringify({ kind: "events", envelopes: envs.slice(i, i + batchSize) }));
  };

  wss.on("connection", (ws) => {
    ws.send(JSON.stringify({ kind: "hello", instance, mode, recording_events: recording.length, skipped: skipped.length }));
    sendBatches(ws, mode === "replay" ? recording : cache.snapshot());
    ws.on("error", () => ws.terminate());
    // Clients only listen; anything they send is ignored.
  });

  const broadcast = (env: Envelope) => {
    const text = JSON.stringify({ kind: "events", envelopes: [env] });
    for (const ws of wss.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      // send() never blocks; a client that does not read grows bufferedAmount. Past the bound it is dropped, so it costs the others nothing.
      if (ws.bufferedAmount > maxClientBuffer) {
        dropped++;
        ws.terminate();
        continue;
      }
      ws.send(text);
    }
  };

  const publish = async (req: IncomingMessage, res: ServerResponse) => {
    if (!tokenMatches(o.token, bearer(req))) {
      rejected++;
      req.resume();
      return sendJson(res, 401, { error: "missing or wrong bearer token (Authorization: Bearer <token from the token file>)" }, { "www-authenticate": "Bearer" });
    }
    if (mode === "replay") {
      req.resume();
      return sendJson(res, 409, { error: "this server replays a recording; publishing is off" });
    }
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBody) {
      rejected++;
      // Answer at once and close: the client need not upload the rest.
      res.setHeader("connection", "close");
      sendJson(res, 413, { error: `body of ${declared} bytes exceeds the limit of ${maxBody} bytes` });
      req.destroy();
      return;
    }
    const body = await readBody(req, maxBody);
    if (body === null) {
      rejected++;
      return sendJson(res, 413, { error: `body exceeds the limit of ${maxBody} bytes` });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString("utf8"));
    } catch (error) {
      rejected++;
      return sendJson(res, 400, { error: `body is not JSON: ${(error as Error).message}` });
    }
    const v = validateEvent(doc);
    if (!v.ok) {
      rejected++;
      return sendJson(res, 422, { error: v.reason });
    }
    const env: Envelope = { seq: ++seq, at_ms: Date.now(), event: v.event };
    accepted++;
    cache.put(env);
    log?.append(env);
    broadcast(env);
    sendJson(res, 202, { seq: env.seq });
  };

  const serveAsset = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const file = path === "/echarts.min.js" ? echarts : ASSETS[path] ? join(PAGE_DIR, ASSETS[path]) : null;
    if (!file) return sendJson(res, 404, { error: `no such page: ${path}` });
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (error) {
      return sendJson(res, 500, { error: `asset ${path} is missing from the package (${(error as Error).message})` });
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": data.length,
      "cache-control": "no-cache",
      // Everything comes from this server: no CDN, works offline.
      "content-security-policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
      "x-content-type-options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : data);
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const handle = async () => {
      if (path === "/publish") {
        if (req.method !== "POST") return sendJson(res, 405, { error: "POST /publish" }, { allow: "POST" });
        return publish(req, res);
      }
      if (path === "/healthz") return sendJson(res, 200, { ok: true, mode });
      if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: `${req.method} is not served here` });
      return serveAsset(req, res, path);
    };
    handle().catch((error) => {
      warn(`request ${req.method} ${path}: ${(error as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });

  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (path !== "/ws") return refuse("404 Not Found");
    const offered = String(req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((s) => s.trim());
    const token = offered.find((p) => p.startsWith("token."))?.slice("token.".length) ?? bearer(req);
    if (!tokenMatches(o.token, token)) return refuse("401 Unauthorized");
    if (!offered.includes(WS_PROTOCOL) && !bearer(req)) return refuse("400 Bad Request");
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(new DashboardError(`cannot listen on ${host}:${o.port ?? DEFAULT_PORT}: ${error.code ?? error.message}`)));
    server.listen(o.port ?? DEFAULT_PORT, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (o.port ?? DEFAULT_PORT);
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}/`,
    host,
    port,
    mode,
    skipped,
    stats: () => ({ accepted, rejected, clients: wss.clients.size, dropped_clients: dropped, cached: cache.size, recording_events: recording.length }),
    close() {
      closing ??= (async () => {
        for (const ws of wss.clients) ws.close(1001, "server stopping");
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // Clients that do not answer the close handshake are cut after a moment.
          setTimeout(() => {
            for (const ws of wss.clients) ws.terminate();
            server.closeAllConnections();
          }, 500).unref();
        });
        wss.close();
        await log?.close();
      })();
      return closing;
    },
  };
}
