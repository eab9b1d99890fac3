import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Several suites build real stores and spawn the CLI; the machines have 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // clipanion's ESM build uses a directory import that Vite's SSR loader rejects.
    server: { deps: { inline: ["clipanion"] } },
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
