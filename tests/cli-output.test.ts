// What the CLI writes when stdout/stderr are pipes (CI, `make demo > log`):
// no ANSI escape codes anywhere, and plain progress lines on stderr for
// long commands (per 10% of a sweep, per epoch and per model in train).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { colourWanted } from "../src/cli/colour.js";
import { ProgressBar } from "../src/cli/progress.js";
import { runNativeSuites } from "./helpers/native.js";
import { makeToy } from "./helpers/train-toy.js";

const ESC = "\x1b";
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync("node", ["bin/cis490", ...args], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined, TERM: "xterm-256color", ...env } });
const built = existsSync("dist/cli/main.js");
const root = mkdtempSync(join(tmpdir(), "cis490-cli-output-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("colour", () => {
  it("only on a terminal, unless NO_COLOR / FORCE_COLOR say otherwise", () => {
    expect(colourWanted({ isTTY: true }, { TERM: "xterm" })).toBe(true);
    expect(colourWanted({ isTTY: false }, { TERM: "xterm" })).toBe(false);
    expect(colourWanted({}, {})).toBe(false);
    expect(colourWanted({ isTTY: true }, { TERM: "dumb" })).toBe(false);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colourWanted({ isTTY: false }, { FORCE_COLOR: "1" })).toBe(true);
    expect(colourWanted({ isTTY: true }, { FORCE_COLOR: "0" })).toBe(false);
  });

  it.runIf(built)("help and usage errors piped carry no escape codes; FORCE_COLOR brings them back", () => {
    for (const args of [["--help"], ["train", "--help"], ["doctor", "-h"]]) {
      const r = cli(args);
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(100);
      expect(r.stdout).not.toContain(ESC);
    }
    const bad = cli(["validate", "--bogus"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Unsupported option");
    expect(bad.stderr + bad.stdout).not.toContain(ESC);
    expect(cli(["--help"], { FORCE_COLOR: "1" }).stdout).toContain(ESC);
  });
});

describe("progress without a terminal", () => {
  it("a sweep prints one plain line per 10%", () => {
    const lines: string[] = [];
    const bar = new ProgressBar({ isTTY: false, write: (s: string) => lines.push(s) }, 37, "validate");
    for (let i = 0; i < 37; i++) bar.tick();
    bar.finish();
    expect(lines).toHaveLength(10);
    expect(lines.every((l) => l.endsWith("\n") && !l.includes("\r") && !l.includes(ESC))).toBe(true);
    expect(lines.map((l) => /: (\d+)% \((\d+)\/37\)/.exec(l)?.[1])).toEqual(["10", "20", "30", "40", "50", "60", "70", "80", "90", "100"]);
  });

  it.runIf(built && runNativeSuites)("synth, validate and features log progress lines on a piped stderr", () => {
    const store = join(root, "store");
    // One job: episodes are reported one by one (workers report in chunks).
    const s = cli(["synth", "--out", store, "--episodes", "40", "--seed", "3", "--jobs", "1"]);
    expect(s.status).toBe(0);
    const v = cli(["validate", "--store", store, "--out", join(root, "acc.parquet")]);
    expect(v.status).toBe(0);
    const f = cli(["features", "--store", store, "--acceptance", join(root, "acc.parquet"), "--out", join(root, "processed")]);
    expect(f.status).toBe(0);
    for (const [name, r] of [["synth", s], ["validate", v], ["features", f]] as const) {
      expect(r.stderr + r.stdout, name).not.toContain(ESC);
      expect(r.stderr, name).not.toContain("\r");
      expect(r.stderr, name).toMatch(new RegExp(`^${name}[^\\n]*: 100% \\(`, "m"));
      const lines = r.stderr.match(/^\S[^\n]*: \d+% \(/gm) ?? [];
      // validate and features report per batch of 256 episodes: one line here.
      if (name === "synth") expect(lines).toHaveLength(10);
      else expect(lines.length, name).toBeGreaterThanOrEqual(1);
    }
  });

  it.runIf(built && runNativeSuites)("train prints a line per epoch and per model", async () => {
    const toy = await makeToy(join(root, "toy"));
    const r = cli(["train", "--model", "mlp,gbt", "--mode", "realistic", "--features", toy.features, "--split", toy.split, "--out", join(root, "artifacts"), "--epochs", "3", "--threads", "1"]);
    expect(r.status).toBe(0);
    expect(r.stderr + r.stdout).not.toContain(ESC);
    expect(r.stderr).not.toContain("\r");
    const epochs = r.stderr.match(/^mlp realistic epoch \d\/3 loss [\d.]+ val macro F1 [\d.]+/gm) ?? [];
    expect(epochs).toHaveLength(3);
    expect(r.stderr).toMatch(/^mlp realistic: trained in [\d.]+ s, best val macro F1 [\d.]+ @ \d/m);
    expect(r.stderr).toMatch(/^gbt realistic: trained in [\d.]+ s/m);
  });
});
