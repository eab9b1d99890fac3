// Shared by the prune tests: the flags a non-dry-run prune needs on this
// machine, and a child process that appends index rows the way a receiver
// may (open-append-close per row, or one descriptor held for its lifetime).

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realProc, scanProvesNoWriter, scanWriters } from "../../src/io/file-writers.js";

/**
 * Some machines (sandboxes whose pid 1 even root cannot inspect, containers)
 * never let prune prove that no hidden process writes the index. There the
 * tests pass the user's override; the strict path is then covered by the
 * simulated-/proc tests. Elsewhere prune runs without it.
 */
export async function writerFlags(wait = "5s"): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "cis490-probe-"));
  writeFileSync(join(dir, "f"), "");
  const st = statSync(join(dir, "f"));
  const scan = await scanWriters(st.dev, st.ino, realProc);
  return scanProvesNoWriter(scan) ? ["--wait-for-writers", wait] : ["--assume-no-hidden-writers", "--wait-for-writers", wait];
}

export type AppendStyle = "open-append-close" | "held-open";

/**
 * A child that appends unique rows `<prefix><i>` to the index every `everyMs`
 * (0: as fast as it can, pausing 1 ms every 20 rows) until `stopFile` exists
 * or `maxMs` has passed, then writes how many rows it appended to `countFile`.
 */
export function startAppender(indexPath: string, o: { style: AppendStyle; prefix: string; everyMs: number; maxMs: number; dir: string }) {
  const stopFile = join(o.dir, `${o.prefix}stop`);
  const countFile = join(o.dir, `${o.prefix}count`);
  const script = `
    const fs = require("fs");
    const [indexPath, stopFile, countFile, style, prefix, everyMs, maxMs] = process.argv.slice(1);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const end = Date.now() + Number(maxMs);
    let fd = style === "held-open" ? fs.openSync(indexPath, "a") : -1;
    process.stdout.write("ready\\n");
    let i = 0;
    while (!fs.existsSync(stopFile) && Date.now() < end && i < 2000000) {
      if (Number(everyMs) > 0) Atomics.wait(pause, 0, 0, Number(everyMs));
      else if (i % 20 === 19) Atomics.wait(pause, 0, 0, 1);
      if (style !== "held-open") fd = fs.openSync(indexPath, "a");
      fs.writeSync(fd, JSON.stringify({ episode_id: prefix + i, host_id: "appender", sha256: "0".repeat(64), size_bytes: 0, received_at: "now" }) + "\\n");
      if (style !== "held-open") fs.closeSync(fd);
      i++;
    }
    fs.writeFileSync(countFile, String(i));
  `;
  const child = spawn(process.execPath, ["-e", script, indexPath, stopFile, countFile, o.style, o.prefix, String(o.everyMs), String(o.maxMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
  const done = new Promise<void>((resolve, reject) => {
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`appender exited ${code}`))));
  });
  done.catch(() => undefined); // reported by stop()
  return {
    pid: child.pid!,
    ready,
    kill(): void {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
    async stop(): Promise<number> {
      writeFileSync(stopFile, "");
      await done;
      return Number(readFileSync(countFile, "utf8"));
    },
  };
}

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix));
