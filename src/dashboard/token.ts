// The bearer token: generated at first start into a file only its owner can
// read (0600), reused afterwards. A token file others can read is refused.

import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CliError } from "../util/errors.js";

/** An unusable token file: the user can fix it. */
export class TokenError extends CliError {}

export function defaultTokenFile(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "cis490", "dashboard.token");
}

export interface TokenResult {
  token: string;
  created: boolean;
}

export async function loadOrCreateToken(path: string): Promise<TokenResult> {
  try {
    const st = await stat(path);
    if ((st.mode & 0o077) !== 0) throw new TokenError(`token file ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`);
    const token = (await readFile(path, "utf8")).trim();
    if (!/^[A-Za-z0-9_-]{16,256}$/.test(token)) throw new TokenError(`token file ${path} does not hold a token (16-256 characters of A-Z a-z 0-9 _ -)`);
    return { token, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString("hex");
  // "wx": never overwrite a token another server wrote meanwhile.
  let fh;
  try {
    fh = await open(path, "wx", 0o600);
  } catch (error) {
    // Another server created it between our stat and open: use that one.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return { token: (await loadOrCreateToken(path)).token, created: false };
    throw error;
  }
  try {
    await fh.writeFile(token + "\n");
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { token, created: true };
}

export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
