// SIGKILL at random points of `registry promote`, `rollback` and `purge`:
// after every kill each alias file parses and names a whole version, current
// exists, and no half version directory is visible; the next write completes
// an interrupted alias move.

import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listModels, promote, registerCheckpoint } from "../src/registry/api.js";
import { trainModel } from "../src/train/run.js";
import { makeToy, quick } from "./helpers/train-toy.js";
import { rng as mulberry32 } from "./helpers/hostile.js";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const BUILD = join(ROOT, ".cache", `registry-tests-dist-${process.pid}`);
const ENTRY = join(BUILD, "registry-child.mjs");
const root = mkdtempSync(join(tmpdir(), "cis490-regcrash-"));

beforeAll(() => {
  spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", BUILD], { encoding: "utf8" });
  if (!existsSync(join(BUILD, "cli", "commands", "registry-promote.js"))) throw new Error(`could not compile the registry commands into ${BUILD}`);
  writeFileSync(
    ENTRY,
    `import { Cli } from "clipanion";
import { RegistryPromoteCommand } from "./cli/commands/registry-promote.js";
import { RegistryRollbackCommand } from "./cli/commands/registry-rollback.js";
import { RegistryPurgeCommand } from "./cli/commands/registry-purge.js";
const cli = new Cli({ binaryName: "cis490" });
for (const c of [RegistryPromoteCommand, RegistryRollbackCommand, RegistryPurgeCommand]) cli.register(c);
process.exitCode = await cli.run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
`,
  );
});

afterAll(() => {
  rmSync(BUILD, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every invariant a reader relies on, read straight from the files. */
function checkRegistry(reg: string, name: string): void {
  const mdir = join(reg, "models", name);
  const versions = readdirSync(join(mdir, "versions")).filter((v) => !v.startsWith("."));
  for (const v of versions) expect(existsSync(join(mdir, "versions", v, "version.json")), `half version ${v}`).toBe(true);
  const aliasFiles = readdirSync(join(mdir, "aliases")).filter((f) => !f.startsWith("."));
  expect(aliasFiles).toContain("current.json");
  for (const f of aliasFiles) {
    const doc = JSON.parse(readFileSync(join(mdir, "aliases", f), "utf8"));
    expect(doc.alias + ".json").toBe(f);
    expect(versions, `${f} -> ${doc.version}`).toContain(doc.version);
    expect(existsSync(join(mdir, "versions", doc.version, `${name}.ckpt.json`))).toBe(true);
  }
}

describe("registry under SIGKILL", () => {
  it("never leaves a missing or half alias", { timeout: 240_000 }, async () => {
    const toy = await makeToy(join(root, "toy"));
    const t = await trainModel(quick(toy, "gbt", join(root, "base"), { gbt: { rounds: 10, max_depth: 2, eta: 0.3, early_stopping_rounds: 5 } }));
    // Variants of one checkpoint (another byte in the sidecar = another version id).
    const variants: string[] = [];
    for (let i = 0; i < 5; i++) {
      const dir = join(root, `variant-${i}`);
      mkdirSync(dir);
      const sc = JSON.parse(readFileSync(t.sidecarPath, "utf8"));
      sc.created_at = new Date(Date.UTC(2026, 0, 1 + i)).toISOString();
      writeFileSync(join(dir, "gbt_realistic.ckpt.json"), JSON.stringify(sc));
      copyFileSync(t.weightsPath, join(dir, sc.weights_file));
      variants.push(join(dir, "gbt_realistic.ckpt.json"));
    }
    const reg = join(root, "registry");
    const ids: string[] = [];
    for (const v of variants) ids.push((await registerCheckpoint(reg, v)).version);
    for (const id of ids.slice(1)) await promote(reg, `gbt_realistic@${id}`, { force: true });
    checkRegistry(reg, "gbt_realistic");

    const run = (args: string[]) => {
      const child = spawn(process.execPath, [ENTRY, "registry", ...args, "--registry", reg], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
      child.stdout!.on("data", (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      return { child, exited, stderr: () => stderr };
    };
    const rand = mulberry32(7);
    const op = (): string[] => {
      const r = rand();
      if (r < 0.45) return ["promote", `gbt_realistic@${ids[Math.floor(rand() * ids.length)]}`, "--force"];
      if (r < 0.8) return ["rollback", "gbt_realistic"];
      return ["purge", "gbt_realistic", "--keep", "1", "--yes"];
    };
    // How long one uninterrupted command takes here (start-up included).
    const t0 = Date.now();
    const timing = run(["promote", `gbt_realistic@${ids[0]}`, "--force"]);
    const tc = await timing.exited;
    if (tc !== 0) throw new Error(`timing run failed: ${timing.stderr()}`);
    const span = Date.now() - t0;

    let killed = 0;
    for (let i = 0; i < 30; i++) {
      const c = run(op());
      // Most of a run is Node start-up: aim the kills at its last half, where the files change.
      await sleep(span * (0.5 + 0.6 * rand()));
      if (c.child.exitCode === null) {
        c.child.kill("SIGKILL");
        killed++;
      }
      const code = await c.exited;
      expect(code === null || code === 0 || code === 1, c.stderr()).toBe(true);
      checkRegistry(reg, "gbt_realistic");
      // Purges shrink the registry: bring versions back now and then.
      if (i % 6 === 5) for (const v of variants) await registerCheckpoint(reg, v);
    }
    expect(killed).toBeGreaterThan(5);
    // A completed write finishes whatever move a kill interrupted.
    await promote(reg, `gbt_realistic@${ids[0]}`, { force: true });
    const [m] = await listModels(reg);
    expect(m.pending).toEqual([]);
    expect(m.current).toBe(ids[0]);
    checkRegistry(reg, "gbt_realistic");
  });
});
