// scripts/torch-flags.sh: Debian's libtorch by default, LIBTORCH=/path for a
// pytorch.org distribution (CUDA libraries linked when it has them).

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const script = join(__dirname, "..", "scripts", "torch-flags.sh");
const run = (what: string, env: Record<string, string> = {}) =>
  execFileSync("bash", [script, what], { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" }).trim();
const root = mkdtempSync(join(tmpdir(), "cis490-torch-flags-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("torch-flags.sh", () => {
  it("uses Debian's libtorch without LIBTORCH", () => {
    expect(run("include")).toBe("/usr/include/torch/csrc/api/include");
    expect(run("libs")).toBe("-Wl,--no-as-needed -ltorch -ltorch_cpu -lc10");
  });

  it("points at LIBTORCH, with rpath, and links the CUDA libraries only when present", () => {
    const cpu = join(root, "cpu");
    mkdirSync(join(cpu, "lib"), { recursive: true });
    expect(run("include", { LIBTORCH: cpu })).toBe(`${cpu}/include ${cpu}/include/torch/csrc/api/include`);
    expect(run("libs", { LIBTORCH: cpu })).toBe(`-L${cpu}/lib -Wl,-rpath,${cpu}/lib -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10`);
    const cuda = join(root, "cuda");
    mkdirSync(join(cuda, "lib"), { recursive: true });
    for (const l of ["torch_cuda", "c10_cuda"]) writeFileSync(join(cuda, "lib", `lib${l}.so`), "");
    expect(run("libs", { LIBTORCH: cuda })).toMatch(/-lc10 -ltorch_cuda -lc10_cuda$/);
  });

  it("refuses an unknown request", () => {
    expect(() => run("cflags")).toThrow();
  });
});
