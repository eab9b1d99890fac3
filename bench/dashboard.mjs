// The dashboard server's own path, without a browser: POST /publish ->
// websocket message at a subscribed client, over loopback, one event at a
// time (--events N, default 500), plus the throughput of back-to-back
// publishes with --clients K subscribers (default 8). The page's share of
// publish -> rendered latency is in tests/dashboard-page.test.ts.
import { join } from "node:path";
import { arg, root } from "./common.mjs";

const { startDashboard } = await import(join(root, "dist", "dashboard", "server.js"));
const { WebSocket } = await import("ws");
const events = Number(arg("events", "500"));
const clients = Number(arg("clients", "8"));
const token = "b".repeat(40);
const server = await startDashboard({ host: "127.0.0.1", port: 0, token });
const seen = [];
const sockets = await Promise.all(
  Array.from({ length: clients }, (_, k) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, ["cis490.v1", `token.${token}`]);
    const got = new Map();
    seen[k] = got;
    ws.on("message", (d) => {
      const m = JSON.parse(d);
      if (m.kind === "events") for (const e of m.envelopes) got.set(e.seq, performance.now());
    });
    return new Promise((resolve) => ws.on("open", () => resolve(ws)));
  }),
);
const post = (i) =>
  fetch(`${server.url}publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify({ type: "prediction", episode_id: "bench", t_s: i / 10, model: "m", probs: { clean: 0.9, armed: 0.1 }, predicted: "clean" }),
  }).then((r) => r.json());

const lat = [];
for (let i = 0; i < events; i++) {
  const t = performance.now();
  const { seq } = await post(i);
  while (!seen.every((g) => g.has(seq))) await new Promise((r) => setImmediate(r));
  lat.push(Math.max(...seen.map((g) => g.get(seq))) - t);
}
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * (lat.length - 1)))].toFixed(2);
console.log(`publish -> last of ${clients} clients, ${events} events one at a time: p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, p99 ${q(0.99)} ms`);
const t0 = performance.now();
for (let i = 0; i < events; i++) await post(events + i);
console.log(`back-to-back publishes (one producer), broadcast to ${clients} clients: ${((events / (performance.now() - t0)) * 1000).toFixed(0)} events/s`);
const t1 = performance.now();
for (let i = 0; i < events; i += 46) await Promise.all(Array.from({ length: Math.min(46, events - i) }, (_, k) => post(2 * events + i + k)));
console.log(`46 producers at once (the page test's 46 streams), broadcast to ${clients} clients: ${((events / (performance.now() - t1)) * 1000).toFixed(0)} events/s`);
for (const ws of sockets) ws.close();
await server.close();
