// The dashboard client: bearer token on every POST, events in order, retry
// with backoff while the dashboard answers 503 or is down, and a refused
// (4xx) event dropped rather than retried forever.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { HttpPublishClient, type PredictionEvent } from "../src/dashboard/publisher.js";

const event = (i: number): PredictionEvent => ({ type: "prediction", episode_id: `ep-${i}`, t_s: i, model: "gbt", probs: { clean: 1 }, predicted: "clean" });

describe("HttpPublishClient", () => {
  it("retries through failures, keeps order, sends the token, drops refused events", async () => {
    const got: Array<{ auth: string | undefined; body: PredictionEvent }> = [];
    let calls = 0;
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        calls++;
        if (calls <= 2) return void res.writeHead(503).end();
        const e = JSON.parse(body) as PredictionEvent;
        if (e.episode_id === "ep-2") return void res.writeHead(422).end();
        got.push({ auth: req.headers.authorization, body: e });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
    const client = new HttpPublishClient({ url, token: "s3cret", backoffMs: 10 });
    for (let i = 0; i < 5; i++) client.publish(event(i));
    const stats = await client.close(5000);
    server.close();
    expect(got.map((g) => g.body.episode_id)).toEqual(["ep-0", "ep-1", "ep-3", "ep-4"]);
    expect(got.every((g) => g.auth === "Bearer s3cret")).toBe(true);
    expect(stats).toMatchObject({ sent: 4, dropped: 1, failures: 2, queued: 0 });
  });

  it("never blocks or throws when the dashboard is down; undelivered events are counted", async () => {
    const client = new HttpPublishClient({ url: "http://127.0.0.1:9/none", token: "t", backoffMs: 5, timeoutMs: 200 });
    client.publish(event(0));
    client.publish(event(1));
    const stats = await client.close(100);
    expect(stats.sent).toBe(0);
    expect(stats.dropped).toBe(2);
    expect(stats.failures).toBeGreaterThan(0);
  });
});
