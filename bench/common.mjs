// What every benchmark script needs: the repository root, `--name value`
// options, and the synthetic corpus both engines are measured on.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
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
