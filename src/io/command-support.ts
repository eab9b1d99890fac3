// Small helpers shared by the store commands: option values checked by hand
// (so a bad value is a usage error, exit 2, rather than clipanion's 1) and a
// store directory check with a clear message.

import { availableParallelism } from "node:os";
import { promises as fsp } from "node:fs";
import type { Writable } from "node:stream";
import type { Inspector } from "../episode/inspector.js";
import { loadInspector, type BackendName } from "../native/backend.js";

export const EXIT_OK = 0;
/** The store (or an output) is unusable. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Thrown for a bad option value; commands turn it into exit code 2. */
export class OptionError extends Error {}

export function parseJobs(value: string | undefined): number {
  if (value === undefined) return Math.max(1, availableParallelism());
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new OptionError(`--jobs must be a positive integer (got ${JSON.stringify(value)})`);
  return Number(value);
}

export function parseNonNegative(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new OptionError(`${flag} must be a non-negative number (got ${JSON.stringify(value)})`);
  return n;
}

export function parseEngine(value: string | undefined): BackendName {
  const name = value ?? "native";
  if (name !== "native" && name !== "reference") throw new OptionError(`--engine must be "native" or "reference" (got ${JSON.stringify(name)})`);
  return name;
}

/** Null when `dir` is a readable directory, else a message for the user. */
export async function storeDirProblem(dir: string): Promise<string | null> {
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) return `store is not a directory: ${dir}`;
    await fsp.readdir(dir);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return `store not found: ${dir}`;
    return `store unreadable: ${dir} (${(error as Error).message})`;
  }
}

export async function loadEngineChecked(name: BackendName): Promise<Inspector> {
  try {
    return await loadInspector(name);
  } catch (error) {
    const hint = name === "native" ? " (build the addon with `make build`, or pass --engine reference)" : "";
    throw new Error(`cannot load the ${name} engine${hint}: ${(error as Error).message}`);
  }
}

export function writeLine(stream: Writable, text: string): void {
  stream.write(text.endsWith("\n") ? text : text + "\n");
}
