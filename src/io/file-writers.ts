// Which other processes could write to a file right now, read from /proc:
// a descriptor on the file's inode opened for writing (fdinfo flags), or a
// shared writable mapping of it (maps). What /proc cannot show is reported,
// never assumed away: a process whose fd table we may not read (another
// user, ptrace restrictions) is "unreadable", and a scan that cannot see
// every process at all (no /proc, hidepid, running inside a child PID
// namespace) is "blind". Only a scan with no writer, nothing unreadable and
// no blind spot proves that no other process can write to the inode.

import { promises as fsp } from "node:fs";

/** Where /proc is and how to read it; tests substitute their own to simulate EACCES and the like. */
export interface ProcAccess {
  root: string;
  readdir(path: string): Promise<string[]>;
  /** stat(2), following the symlink (for /proc/<pid>/fd/<n>). */
  stat(path: string): Promise<{ dev: number; ino: number }>;
  readFile(path: string): Promise<string>;
  /** Our uid (root sees through hidepid). */
  uid: number | null;
}

export const realProc: ProcAccess = {
  root: "/proc",
  readdir: (p) => fsp.readdir(p),
  stat: (p) => fsp.stat(p),
  readFile: (p) => fsp.readFile(p, "utf8"),
  uid: typeof process.getuid === "function" ? process.getuid() : null,
};

export interface ProcessRef {
  pid: number;
  comm: string | null;
  cmdline: string | null;
}

export interface UnreadableProcess extends ProcessRef {
  reason: string;
}

export interface WriterScan {
  writers: ProcessRef[];
  unreadable: UnreadableProcess[];
  /** Reasons the scan may not see every process. */
  blind: string[];
}

export const scanProvesNoWriter = (s: WriterScan): boolean => s.writers.length === 0 && s.unreadable.length === 0 && s.blind.length === 0;

export function describeProcess(p: ProcessRef): string {
  const cmd = p.cmdline && p.cmdline !== p.comm ? `: ${p.cmdline}` : "";
  return `pid ${p.pid} (${p.comm ?? "?"}${cmd})`;
}

/** One line naming everything that keeps the scan from proving "no writer" (only the writers it saw, with `writersOnly`). */
export function describeScan(s: WriterScan, writersOnly = false): string {
  const parts: string[] = [];
  if (s.writers.length) parts.push(`held open for writing by ${s.writers.map(describeProcess).join(", ")}`);
  if (writersOnly) return parts.join("; ");
  if (s.unreadable.length) {
    const shown = s.unreadable.slice(0, 5).map((p) => `${describeProcess(p)} [${p.reason}]`);
    const more = s.unreadable.length > shown.length ? ` and ${s.unreadable.length - shown.length} more` : "";
    parts.push(`the open files of ${shown.join(", ")}${more} cannot be inspected`);
  }
  parts.push(...s.blind);
  return parts.join("; ");
}

const errno = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

/** Linux dev_t as /proc/<pid>/maps prints it ("fd:01"). */
function mapsDevice(dev: number): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}`;
}

async function blindSpots(proc: ProcAccess): Promise<string[]> {
  const out: string[] = [];
  try {
    const status = await proc.readFile(`${proc.root}/self/status`);
    const nspid = /^NSpid:\s*(.*)$/m.exec(status)?.[1].trim().split(/\s+/) ?? [];
    if (nspid.length > 1) out.push("this process runs in a child PID namespace (a container): processes outside it are invisible");
  } catch (e) {
    out.push(`cannot read ${proc.root}/self/status (${errno(e)})`);
  }
  if (proc.uid !== 0) {
    try {
      const mounts = await proc.readFile(`${proc.root}/mounts`);
      for (const line of mounts.split("\n")) {
        const [, mountPoint, type, opts] = line.split(" ");
        if (type !== "proc" || mountPoint !== proc.root) continue;
        const hide = /(?:^|,)hidepid=([^,]+)/.exec(opts ?? "")?.[1];
        if (hide && hide !== "0" && hide !== "off") out.push(`${proc.root} is mounted with hidepid=${hide}: other users' processes are invisible`);
      }
    } catch (e) {
      out.push(`cannot read ${proc.root}/mounts (${errno(e)})`);
    }
  }
  return out;
}

async function describe(proc: ProcAccess, pid: number): Promise<ProcessRef> {
  const read = (name: string): Promise<string | null> => proc.readFile(`${proc.root}/${pid}/${name}`).catch(() => null);
  const [comm, cmdline] = await Promise.all([read("comm"), read("cmdline")]);
  // One line, printable, short: it goes into error messages.
  const cmd = cmdline?.split("\0").filter(Boolean).join(" ").replace(/[\x00-\x1f\x7f]+/g, " ").trim().slice(0, 160) || null;
  return { pid, comm: comm?.trim() || null, cmdline: cmd };
}

type PidVerdict = "writer" | "not" | "gone" | { unreadable: string };

async function inspectPid(proc: ProcAccess, pid: number, dev: number, ino: number, device: string): Promise<PidVerdict> {
  const base = `${proc.root}/${pid}`;
  let fds: string[];
  try {
    fds = await proc.readdir(`${base}/fd`);
  } catch (e) {
    return errno(e) === "ENOENT" ? "gone" : { unreadable: `${base}/fd: ${errno(e)}` };
  }
  for (const fd of fds) {
    let st;
    try {
      st = await proc.stat(`${base}/fd/${fd}`);
    } catch (e) {
      if (errno(e) === "ENOENT") continue; // closed meanwhile
      return { unreadable: `${base}/fd/${fd}: ${errno(e)}` };
    }
    if (st.ino !== ino || st.dev !== dev) continue;
    let info: string;
    try {
      info = await proc.readFile(`${base}/fdinfo/${fd}`);
    } catch (e) {
      if (errno(e) === "ENOENT") continue;
      return "writer"; // open on the file, mode unknown: assume the worst
    }
    const flags = /^flags:\s*([0-7]+)/m.exec(info);
    // O_ACCMODE: 0 is O_RDONLY; a read-only descriptor cannot append.
    if (flags === null || (parseInt(flags[1], 8) & 3) !== 0) return "writer";
  }
  let maps: string;
  try {
    maps = await proc.readFile(`${base}/maps`);
  } catch (e) {
    return errno(e) === "ENOENT" ? "not" : { unreadable: `${base}/maps: ${errno(e)}` };
  }
  for (const line of maps.split("\n")) {
    const f = line.split(/\s+/);
    if (f.length >= 5 && f[1][1] === "w" && f[1][3] === "s" && f[3] === device && f[4] === String(ino)) return "writer";
  }
  return "not";
}

/** Other processes (never `selfPid`) that could write to inode (dev, ino). */
export async function scanWriters(dev: number, ino: number, proc: ProcAccess = realProc, selfPid = process.pid): Promise<WriterScan> {
  const scan: WriterScan = { writers: [], unreadable: [], blind: [] };
  let pids: number[];
  try {
    pids = (await proc.readdir(proc.root)).filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => p !== selfPid);
  } catch (e) {
    scan.blind.push(`cannot list ${proc.root} (${errno(e)}): no way to see which processes hold the file`);
    return scan;
  }
  scan.blind.push(...(await blindSpots(proc)));
  const device = mapsDevice(dev);
  await Promise.all(
    pids.map(async (pid) => {
      const verdict = await inspectPid(proc, pid, dev, ino, device);
      if (verdict === "writer") scan.writers.push(await describe(proc, pid));
      else if (typeof verdict === "object") scan.unreadable.push({ ...(await describe(proc, pid)), reason: verdict.unreadable });
    }),
  );
  scan.writers.sort((a, b) => a.pid - b.pid);
  scan.unreadable.sort((a, b) => a.pid - b.pid);
  return scan;
}

export interface WaitForWritersOptions {
  waitMs: number;
  /** Accept a scan that finds no writer but cannot see every process. */
  allowUnverified?: boolean;
  proc?: ProcAccess;
  pollMs?: number;
}

/** Waits (bounded) until no other process holds `path` open for writing; `clear` false with the last scan otherwise. */
export async function waitForNoWriters(path: string, options: WaitForWritersOptions): Promise<{ clear: boolean; scan: WriterScan; waitedMs: number }> {
  const started = Date.now();
  const st = await fsp.stat(path);
  for (;;) {
    const scan = await scanWriters(st.dev, st.ino, options.proc ?? realProc);
    const clear = scan.writers.length === 0 && (scanProvesNoWriter(scan) || options.allowUnverified === true);
    const waitedMs = Date.now() - started;
    if (clear || waitedMs >= options.waitMs) return { clear, scan, waitedMs };
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
}
