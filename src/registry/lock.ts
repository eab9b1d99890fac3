// One writer at a time per model directory. The lock file is made whole
// before it appears (pid written to a temp file, then link(2) to the lock
// name, which fails if it exists), so a reader never sees an empty lock. A
// lock whose pid is gone (a writer killed with SIGKILL) is taken over.

import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { tempPathFor } from "../io/atomic.js";
import { RegistryError } from "./types.js";

export const LOCK_FILE = ".lock";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function withLock<T>(dir: string, body: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  await fsp.mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const tmp = tempPathFor(path);
  await fsp.writeFile(tmp, String(process.pid));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await fsp.link(tmp, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = Number((await fsp.readFile(path, "utf8").catch(() => "")).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && !isAlive(holder)) {
        // Stale: only remove it if it is still the same dead holder's file.
        const again = Number((await fsp.readFile(path, "utf8").catch(() => "")).trim());
        if (again === holder) await fsp.rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new RegistryError(`another cis490 process (pid ${holder}) holds ${path}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  try {
    return await body();
  } finally {
    await fsp.rm(path, { force: true });
  }
}
