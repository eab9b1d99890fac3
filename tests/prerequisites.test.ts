// The skip-or-fail rule of tests/helpers/prerequisites.ts, with the file
// checks faked: a missing prerequisite skips locally and fails when its
// CIS490_REQUIRE_<NAME> is 1 (what `make test` sets).

import { afterEach, describe, expect, it, vi } from "vitest";

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  // Pretend nothing optional is installed.
  return { ...fs, existsSync: () => false };
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe("test prerequisites", () => {
  it("a missing prerequisite skips when not required", async () => {
    vi.stubEnv("CIS490_REQUIRE_NATIVE", "");
    const p = await import("./helpers/prerequisites.js");
    expect(p.missing("native")).toMatch(/cis490\.node is not built/);
    expect(p.skipWithout("native")).toBe(true);
    expect(() => p.requirePrerequisite("native")).toThrow(/CIS490_REQUIRE_NATIVE=1 but .*not built/);
  });

  it("and fails when required, for every kind", async () => {
    for (const [kind, env] of [["native", "CIS490_REQUIRE_NATIVE"], ["build", "CIS490_REQUIRE_BUILD"], ["numpy", "CIS490_REQUIRE_NUMPY"], ["browser", "CIS490_REQUIRE_BROWSER"]] as const) {
      vi.stubEnv(env, "1");
      const p = await import("./helpers/prerequisites.js");
      expect(p.required(kind)).toBe(true);
      expect(p.skipWithout(kind)).toBe(false);
      expect(() => p.requirePrerequisite(kind)).toThrow(new RegExp(`${env}=1 but`));
    }
    const native = await import("./helpers/native.js");
    expect(native.runNativeSuites).toBe(true); // the parity suites run, and fail on the missing addon
  });
});
