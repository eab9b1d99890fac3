// The dashboard server on loopback: event contract, bearer token on both
// /publish and /ws, body size limit, sticky-cache replay on connect, slow
// clients dropped without stalling the others, the event log and --replay,
// and the publisher client's retry.

import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { StickyCache } from "../src/dashboard/cache.js";
import { validateEvent, type Envelope } from "../src/dashboard/events.js";
import { publishEvent, PublishError } from "../src/dashboard/publisher.js";
import { startDashboard, WS_PROTOCOL, type DashboardServer } from "../src/dashboard/server.js";
import { loadOrCreateToken } from "../src/dashboard/token.js";
import { probsFor, sampleEvents } from "./helpers/dashboard-events.js";

const TOKEN = "a".repeat(40);
const servers: DashboardServer[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) {
    ws.on("error", () => {});
    if (ws.readyState === WebSocket.OPEN) ws.terminate();
  }
  for (const s of servers.splice(0)) await s.close();
});

async function start(extra: Partial<Parameters<typeof startDashboard>[0]> = {}): Promise<DashboardServer> {
  const s = await startDashboard({ host: "127.0.0.1", port: 0, token: TOKEN, ...extra });
  servers.push(s);
  return s;
}

function post(s: DashboardServer, body: string, token: string | null = TOKEN) {
  return fetch(`${s.url}publish`, { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {}, body });
}

interface Client {
  ws: WebSocket;
  hello: Promise<Record<string, unknown>>;
  envelopes: Envelope[];
}

function connect(s: DashboardServer, protocols: string[] = [WS_PROTOCOL, `token.${TOKEN}`]): Client {
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`, protocols);
  sockets.push(ws);
  const envelopes: Envelope[] = [];
  const hello = new Promise<Record<string, unknown>>((resolve, reject) => {
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data));
      if (msg.kind === "hello") resolve(msg);
      else envelopes.push(...msg.envelopes);
    });
    ws.on("error", reject);
  });
  return { ws, hello, envelopes };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("event contract", () => {
  it("accepts one sample of each type", () => {
    const types = new Set<string>();
    for (const e of sampleEvents()) {
      expect(validateEvent(e)).toEqual({ ok: true, event: e });
      types.add(e.type);
    }
    expect(types.size).toBe(6);
  });

  it("gives a reason for unknown types and missing, mistyped or extra fields", () => {
    const [phase, , pred, , emb, metric, , perf, profile] = sampleEvents();
    const reason = (v: unknown) => {
      const r = validateEvent(v);
      return r.ok ? "accepted" : r.reason;
    };
    expect(reason({ type: "nope" })).toMatch(/unknown event type "nope"/);
    expect(reason([])).toMatch(/JSON object/);
    expect(reason({ episode_id: "x" })).toMatch(/type is missing/);
    expect(reason({ ...phase, t_s: "3" })).toBe("phase.t_s must be a finite number");
    expect(reason({ ...phase, t_s: -1 })).toBe("phase.t_s must be >= 0");
    const { phase: _drop, ...noPhase } = phase as { phase: string };
    expect(reason(noPhase)).toBe("phase.phase is missing");
    expect(reason({ ...phase, colour: "red" })).toBe("phase.colour is not a field of this object");
    expect(reason({ ...pred, predicted: "nonsense" })).toMatch(/predicted .* is not a key of probs/);
    expect(reason({ ...pred, probs: { clean: 1.5 } })).toMatch(/probs.clean must be in \[0, 1\]/);
    expect(reason({ ...emb, xy: [1, 2, 3] })).toMatch(/xy must have exactly 2 entries/);
    expect(reason({ ...metric, macro_f1: { point: 0.5, lo: 0.6, hi: 0.7 } })).toMatch(/lo <= point <= hi/);
    expect(reason({ ...metric, anomaly: { pr_auc: 0.3 } })).toMatch(/anomaly.roc_auc is missing/);
    expect(reason({ ...metric, anomaly: { roc_auc: 0.9, pr_auc: 0.3 } })).toBe("accepted");
    expect(reason({ ...perf, latency_ms: { p50: 1 } })).toMatch(/latency_ms.p99 is missing/);
    expect(reason({ ...profile, curve: [0.5] })).toMatch(/curve must have exactly 80 entries \(got 1\)/);
    expect(reason({ ...profile, curve: Array(80).fill(NaN) })).toMatch(/curve\[0\] must be a finite number/);
  });
});

describe("dashboard server", () => {
  it("requires the bearer token on /publish and /ws", async () => {
    const s = await start();
    const body = JSON.stringify(sampleEvents()[0]);
    expect((await post(s, body, null)).status).toBe(401);
    const wrong = await post(s, body, "b".repeat(40));
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error).toMatch(/bearer token/);
    const ok = await post(s, body);
    expect(ok.status).toBe(202);
    expect((await ok.json()).seq).toBe(1);

    const refused = new WebSocket(`ws://127.0.0.1:${s.port}/ws`, [WS_PROTOCOL, `token.${"b".repeat(40)}`]);
    sockets.push(refused);
    const status = await new Promise<number>((resolve) => refused.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(401);
    const c = connect(s);
    expect((await c.hello).mode).toBe("live");
    expect(s.stats()).toMatchObject({ accepted: 1, rejected: 2 });
  });

  it("rejects bad events with 4xx and a reason, and oversized bodies with 413", async () => {
    const s = await start({ maxBody: 1024 });
    const notJson = await post(s, "{nope");
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error).toMatch(/not JSON/);
    const unknown = await post(s, JSON.stringify({ type: "weather", t_s: 1 }));
    expect(unknown.status).toBe(422);
    expect((await unknown.json()).error).toMatch(/unknown event type "weather"/);
    const mistyped = await post(s, JSON.stringify({ type: "phase", episode_id: "e", t_s: "late", phase: "clean" }));
    expect((await mistyped.json()).error).toBe("phase.t_s must be a finite number");
    const big = await post(s, JSON.stringify({ type: "phase", episode_id: "e".repeat(2000), t_s: 1, phase: "clean" }));
    expect(big.status).toBe(413);
    expect((await big.json()).error).toMatch(/limit of 1024 bytes/);
    expect((await fetch(`${s.url}publish`)).status).toBe(405);
    // Nothing rejected reached the cache.
    expect(s.stats()).toMatchObject({ accepted: 0, rejected: 4, cached: 0 });
  });

  it("replays the latest event per (type, key) to a client that connects late, then broadcasts", async () => {
    const s = await start();
    const pred = (t_s: number, winner: string) => ({ type: "prediction", episode_id: "e1", t_s, model: "gbt_realistic", probs: probsFor(winner), predicted: winner });
    const perf = (p50: number) => ({ type: "model_perf", model: "gbt", mode: "realistic", latency_ms: { p50, p99: 9 }, windows_per_s: 10, params: 5 });
    const events = [
      { type: "phase", episode_id: "e1", t_s: 0, phase: "clean" },
      pred(5, "clean"),
      perf(1),
      { type: "phase", episode_id: "e1", t_s: 10, phase: "infecting" },
      // Re-published: replace the earlier events with the same key.
      pred(5, "armed"),
      perf(2),
    ];
    for (const e of events) expect((await post(s, JSON.stringify(e))).status).toBe(202);
    const c = connect(s);
    await c.hello;
    await until(() => c.envelopes.length === 4);
    expect(c.envelopes.map((e) => e.seq)).toEqual([1, 4, 5, 6]);
    expect(c.envelopes.map((e) => e.event)).toEqual([events[0], events[3], events[4], events[5]]);
    const live = { type: "phase", episode_id: "e3", t_s: 1, phase: "clean" };
    await post(s, JSON.stringify(live));
    await until(() => c.envelopes.length === 5);
    expect(c.envelopes[4]).toMatchObject({ seq: 7, event: live });
    expect(c.envelopes[4].at_ms).toBeGreaterThan(Date.now() - 60_000);
  });

  it("keeps the sticky cache bounded, forgetting the key updated longest ago", () => {
    const cache = new StickyCache(3);
    const phase = (episode_id: string) => ({ type: "phase" as const, episode_id, t_s: 0, phase: "clean" });
    ["a", "b", "c"].forEach((id, i) => cache.put({ seq: i + 1, at_ms: 0, event: phase(id) }));
    cache.put({ seq: 4, at_ms: 0, event: phase("a") });
    cache.put({ seq: 5, at_ms: 0, event: phase("d") });
    expect(cache.size).toBe(3);
    expect(cache.snapshot().map((e) => (e.event as { episode_id: string }).episode_id)).toEqual(["c", "a", "d"]);
  });

  it("drops a client that stops reading without stalling the others", async () => {
    const s = await start({ maxClientBuffer: 64 * 1024, maxBody: 1024 * 1024 });
    const fast = connect(s);
    const slow = connect(s);
    await Promise.all([fast.hello, slow.hello]);
    // The slow client stops reading: its kernel buffers fill, then the server's queue (bufferedAmount).
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const perClass = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`class-${i}-${"x".repeat(200)}`, { point: 0.5, lo: 0.4, hi: 0.6 }]));
    let sent = 0;
    for (; sent < 3000 && s.stats().dropped_clients === 0; sent++) {
      const e = { type: "model_metric", model: `m${sent}`, mode: "realistic", version: "v1", macro_f1: { point: 0.5, lo: 0.4, hi: 0.6 }, per_class: perClass };
      expect((await post(s, JSON.stringify(e))).status).toBe(202);
    }
    expect(s.stats().dropped_clients).toBe(1);
    expect(s.stats().clients).toBe(1);
    // The fast client got every event, including those sent after the drop.
    await post(s, JSON.stringify({ type: "phase", episode_id: "after", t_s: 0, phase: "clean" }));
    await until(() => fast.envelopes.length === sent + 1, 20_000);
    expect(fast.envelopes.at(-1)!.event).toMatchObject({ episode_id: "after" });
  });

  it("logs accepted events as JSONL and serves the log with --replay (publishing off)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-dash-"));
    const logPath = join(dir, "events.jsonl");
    const live = await start({ logPath });
    for (const e of sampleEvents()) await post(live, JSON.stringify(e));
    await post(live, JSON.stringify({ type: "bogus" }));
    await live.close();
    const lines = readFileSync(logPath, "utf8").trim().split("\n");
    expect(lines).toHaveLength(sampleEvents().length);
    expect(JSON.parse(lines[0])).toMatchObject({ seq: 1, event: sampleEvents()[0] });

    writeFileSync(logPath, readFileSync(logPath, "utf8") + "{torn\n" + JSON.stringify({ type: "phase" }) + "\n");
    const replay = await start({ replayPath: logPath });
    expect(replay.mode).toBe("replay");
    expect(replay.skipped).toEqual([`line ${lines.length + 1}: not JSON (${replay.skipped[0].replace(/^.*not JSON \(|\)$/g, "")})`, `line ${lines.length + 2}: phase.episode_id is missing`]);
    const c = connect(replay);
    expect(await c.hello).toMatchObject({ mode: "replay", recording_events: lines.length });
    // Every recorded event, not only the sticky cache's latest per key: the page scrubs through them.
    await until(() => c.envelopes.length === lines.length);
    expect(c.envelopes.map((e) => e.event)).toEqual(sampleEvents());
    expect((await post(replay, JSON.stringify(sampleEvents()[0]))).status).toBe(409);
  });

  it("serves the page and ECharts from the package", async () => {
    const s = await start();
    const page = await fetch(s.url);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
    expect(await page.text()).toContain('src="echarts.min.js"');
    const ech = await fetch(`${s.url}echarts.min.js`);
    expect(ech.status).toBe(200);
    expect((await ech.text()).length).toBeGreaterThan(500_000);
    expect((await fetch(`${s.url}app.js`)).status).toBe(200);
    expect((await fetch(`${s.url}../../package.json`)).status).toBe(404);
  });
});

describe("token file and publisher", () => {
  it("creates the token 0600, reuses it, refuses a file others can read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-token-"));
    const path = join(dir, "sub", "dashboard.token");
    const a = await loadOrCreateToken(path);
    expect(a.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const b = await loadOrCreateToken(path);
    expect(b).toEqual({ token: a.token, created: false });
    chmodSync(path, 0o644);
    await expect(loadOrCreateToken(path)).rejects.toThrow(/readable by others/);
  });

  it("retries until the server is up, and does not retry a rejected event", async () => {
    // Reserve a free port, then start the server on it a moment after publishing began.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const retries: number[] = [];
    const later = new Promise<DashboardServer>((resolve) => setTimeout(() => resolve(start({ port })), 400));
    const result = await publishEvent(`http://127.0.0.1:${port}`, TOKEN, sampleEvents()[0], { baseDelayMs: 100, attempts: 10, onRetry: (n) => retries.push(n) });
    await later;
    expect(result.attempts).toBeGreaterThan(1);
    expect(retries.length).toBe(result.attempts - 1);
    const err = await publishEvent(`http://127.0.0.1:${port}/publish`, "c".repeat(40), sampleEvents()[0], { baseDelayMs: 10 }).catch((e) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect(err).toMatchObject({ status: 401, permanent: true });
    await expect(publishEvent(`http://127.0.0.1:${port}`, TOKEN, { type: "phase" } as never)).rejects.toThrow(/not published: phase.episode_id is missing/);
  });
});
