// src/io/lock.ts: exactly one winner under contention, a lock file is never
// empty, stale only when the owner is verifiably dead (and not too young),
// release never removes another's lock.

import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock, tryLock, type LockOwner } from "../src/io/lock.js";
import { tempDir } from "./helpers/prune.js";

const old = (path: string): void => utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

async function deadPid(): Promise<number> {
  const child = spawn("true");
  await new Promise((r) => child.once("exit", r));
  return child.pid!;
}

function ownerRecord(pid: number, over: Partial<LockOwner> = {}): string {
  return JSON.stringify({ pid, host: hostname(), pid_ns: null, start_ticks: null, token: "t".repeat(32), started_at: "2026-01-01T00:00:00Z", purpose: "prune", ...over });
}

describe("lock", () => {
  it("has exactly one winner among many simultaneous attempts, and its file is whole", async () => {
    const path = join(tempDir("cis490-lock-"), "x.lock");
    const attempts = await Promise.all(Array.from({ length: 24 }, () => tryLock(path, { purpose: "test" })));
    const winners = attempts.filter((a) => a.ok);
    expect(winners.length).toBe(1);
    const owner = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
    if (!winners[0].ok) throw new Error("unreachable");
    expect(owner.token).toBe(winners[0].lock.owner.token);
    expect(owner.pid).toBe(process.pid);
    for (const a of attempts) if (!a.ok) expect(a.message).toContain(`pid ${process.pid}`);
    await winners[0].lock.release();
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(join(path, ".."))).toEqual([]); // no temp files left
  });

  it("takes over a lock only when its owner is verifiably dead and the lock is not brand new", async () => {
    const dir = tempDir("cis490-lock-");
    const path = join(dir, "x.lock");
    const dead = await deadPid();

    writeFileSync(path, ownerRecord(dead, { pid_ns: (await import("node:fs")).readlinkSync("/proc/self/ns/pid") }));
    const young = await tryLock(path, { purpose: "test", graceMs: 60_000 });
    expect(young.ok).toBe(false);
    if (!young.ok) expect(young.message).toContain("just died");
    old(path);
    const taken = await tryLock(path, { purpose: "test", graceMs: 1000 });
    expect(taken.ok).toBe(true);
    if (taken.ok) await taken.lock.release();

    // acquireLock waits out the grace period of a dead owner instead of failing.
    writeFileSync(path, ownerRecord(dead, { pid_ns: (await import("node:fs")).readlinkSync("/proc/self/ns/pid") }));
    const waited = await acquireLock(path, { purpose: "test", graceMs: 400 });
    expect(waited.ok).toBe(true);
    if (waited.ok) await waited.lock.release();

    // Not verifiable: a live pid, another host, another PID namespace, an empty or unreadable file.
    const sleeper = spawn("sleep", ["30"]);
    try {
      for (const text of [
        ownerRecord(sleeper.pid!),
        ownerRecord(dead, { host: "elsewhere" }),
        ownerRecord(dead, { pid_ns: "pid:[1]" }),
        "",
        "12345",
      ]) {
        writeFileSync(path, text);
        old(path);
        const attempt = await tryLock(path, { purpose: "test" });
        expect(attempt.ok, JSON.stringify(text)).toBe(false);
        expect(readFileSync(path, "utf8")).toBe(text);
      }
    } finally {
      sleeper.kill("SIGKILL");
    }
    // --force breaks whatever is there.
    const forced = await tryLock(path, { purpose: "test", force: true });
    expect(forced.ok).toBe(true);
    if (forced.ok) await forced.lock.release();
  });

  it("sweeps what killed lockers left beside the lock, and only that", async () => {
    const dir = tempDir("cis490-lock-");
    const path = join(dir, ".x.lock");
    const dead = await deadPid();
    const deadTemp = join(dir, `..x.lock.cis490-tmp-${dead}-0011aabb`);
    const liveTemp = join(dir, `..x.lock.cis490-tmp-${process.pid}-0011aabb`);
    writeFileSync(deadTemp, ownerRecord(dead));
    writeFileSync(liveTemp, ownerRecord(process.pid));
    const taken = await tryLock(path, { purpose: "test" });
    expect(taken.ok).toBe(true);
    expect(existsSync(deadTemp)).toBe(false);
    expect(existsSync(liveTemp)).toBe(true);
    if (taken.ok) await taken.lock.release();
  });

  it("release leaves a lock that is no longer ours alone", async () => {
    const path = join(tempDir("cis490-lock-"), "x.lock");
    const mine = await tryLock(path, { purpose: "test" });
    if (!mine.ok) throw new Error(mine.message);
    expect(await mine.lock.stillOurs()).toBe(true);
    const theirs = ownerRecord(process.pid, { token: "someone-else" });
    writeFileSync(path, theirs); // e.g. broken by hand with --force and taken by another run
    expect(await mine.lock.stillOurs()).toBe(false);
    await mine.lock.release();
    expect(readFileSync(path, "utf8")).toBe(theirs);
  });
});
