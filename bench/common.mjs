// What every benchmark script needs: the repository root, `--name value`
// options, and the synthetic corpus both engines are measured on.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const argv = process.argv.slice(2);
export function arg(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
}

export function flag(name) {
  return argv.includes(`--${name}`);
}

/** The bench corpus (generated once, without faults, by the CLI) and its tarball paths, sorted. */
export function benchCorpus(episodes, dir = join(root, "data", `bench-corpus-${episodes}`)) {
  if (!existsSync(join(dir, "index.jsonl"))) {
    process.stderr.write(`bench: generating ${episodes} episodes in ${dir}\n`);
    const res = spawnSync("node", [join(root, "bin", "cis490"), "synth", "--out", dir, "--episodes", String(episodes), "--seed", "7", "--faults", "none"], { stdio: "inherit" });
    if (res.status !== 0) throw new Error("bench: synth failed");
  }
  const paths = [];
  for (const host of readdirSync(dir)) {
    const hostDir = join(dir, host);
    if (!statSync(hostDir).isDirectory()) continue;
    for (const f of readdirSync(hostDir)) if (f.endsWith(".tar.zst")) paths.push(join(hostDir, f));
  }
  paths.sort();
  return { dir, paths };
}

/**
 * Runs a command as a child and measures it: wall seconds and peak RSS
 * (the child's VmHWM, polled from /proc every 50 ms, and the kernel's
 * maximum from wait4 via /usr/bin/time -v when that exists). stdout and
 * stderr are collected (the last 4 kB of stderr is kept for errors).
 */
export async function runMeasured(cmd, args, options = {}) {
  const { spawn } = await import("node:child_process");
  const useTime = existsSync("/usr/bin/time");
  const started = performance.now();
  const child = spawn(useTime ? "/usr/bin/time" : cmd, useTime ? ["-v", cmd, ...args] : args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  let hwmKb = 0;
  const poll = setInterval(() => {
    // With /usr/bin/time the command is time's child: read every process in the group we know of.
    for (const pid of [child.pid, ...childPids(child.pid)]) {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
        if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
      } catch {
        /* gone */
      }
    }
  }, 50);
  const code = await new Promise((resolve) => child.on("close", resolve));
  clearInterval(poll);
  const wall = (performance.now() - started) / 1000;
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
  if (useTime) stderr = stderr.replace(/\n?\tCommand being timed:[\s\S]*$/, "");
  return { code, wall, peak_rss_mib: hwmKb / 1024, stdout, stderr: stderr.slice(-4096) };
}

function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Bytes under a directory (or a file), recursively. */
export function diskBytes(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += diskBytes(join(path, name));
  return total;
}
