// The README's model table, re-created with the repository's own commands:
// `cis490 train --all` with a fixed number of epochs (never a wall-clock cap,
// so the numbers do not depend on how fast the machine is), then
// `cis490 eval` on the test host, then the table as the README shows it
// (validation macro F1 of the kept epoch; test macro F1 with its 95%
// episode-bootstrap interval) and each model's training time.
//
// Usage: node bench/models.mjs [--features data/processed/features_window.parquet]
//          [--split data/processed/split_host.parquet] [--tensors data/processed/tensors]
//          [--epochs 20] [--patience 8] [--seed 0] [--out <temp dir>] [--keep]
// Needs `make build` and the default corpus (the first stages of `make demo`;
// `make bench-models` makes both). Prints the table and one JSON line
// (prefix "@@models-bench ").
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { root, arg, flag } from "./common.mjs";

const features = arg("features", join(root, "data/processed/features_window.parquet"));
const split = arg("split", join(dirname(features), "split_host.parquet"));
const tensors = arg("tensors", join(dirname(features), "tensors"));
const epochs = arg("epochs", "20");
const patience = arg("patience", "8");
const seed = arg("seed", "0");
const out = arg("out", null) ?? mkdtempSync(join(tmpdir(), "cis490-bench-models-"));

for (const [what, path] of [["features", features], ["split", split], ["tensors", tensors], ["dist", join(root, "dist", "cli", "main.js")]]) {
  if (!existsSync(path)) {
    console.error(`bench/models: ${what} missing at ${path} (make build; cis490 features --tensors; cis490 split)`);
    process.exit(1);
  }
}

function cis490(args) {
  // stderr passes through: the per-epoch / per-model progress lines.
  const r = spawnSync("node", [join(root, "bin", "cis490"), ...args, "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 28 });
  if (r.status !== 0) {
    console.error(`bench/models: cis490 ${args[0]} exited ${r.status}`);
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

const started = performance.now();
try {
  const train = cis490(["train", "--all", "--features", features, "--tensors", tensors, "--split", split, "--out", join(out, "artifacts"), "--epochs", epochs, "--patience", patience, "--seed", seed, "--force"]);
  const trainSeconds = (performance.now() - started) / 1000;
  const ev = cis490(["eval", "--artifacts", join(out, "artifacts"), "--features", features, "--tensors", tensors, "--split", split, "--out", join(out, "reports")]);

  const key = (model, mode) => `${model}/${mode}`;
  const trained = new Map(train.results.map((r) => [key(r.model, r.mode), r]));
  const tested = new Map(ev.models.map((m) => [key(m.model, m.mode), m]));
  const f3 = (x) => (x === null || x === undefined ? "-" : x.toFixed(3));
  const ci = (m) => (m ? `${f3(m.macro_f1.point)} [${f3(m.macro_f1.lo)}, ${f3(m.macro_f1.hi)}]` : "-");
  const models = [...new Set(train.results.map((r) => r.model))];
  const rows = models.map((model) => [
    model,
    f3(trained.get(key(model, "realistic"))?.best.val_macro_f1),
    f3(trained.get(key(model, "oracle"))?.best.val_macro_f1),
    ci(tested.get(key(model, "realistic"))),
    ci(tested.get(key(model, "oracle"))),
  ]);
  // The split's own summary (cis490 split writes it beside the assignments) names the test hosts.
  const summaryPath = split.replace(/\.parquet$/, ".json");
  const testHosts = existsSync(summaryPath) ? (JSON.parse(readFileSync(summaryPath, "utf8")).test_hosts ?? []).join(", ") || "?" : "?";
  console.log(`\nModels on ${split} (test host ${testHosts}), --epochs ${epochs} --patience ${patience} --seed ${seed}; macro F1, 95% episode-bootstrap intervals:\n`);
  console.log("| model | val, realistic | val, oracle | test host, realistic | test host, oracle |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
  console.log("\nTraining time per model (s; epochs run):");
  for (const r of train.results) console.log(`  ${r.model} ${r.mode}: ${r.seconds.toFixed(1)} s, ${r.model === "gbt" ? "boosted" : `${r.epochs_run} epochs`} (${r.stopped})`);
  console.log(`train --all: ${trainSeconds.toFixed(0)} s; eval: ${((performance.now() - started) / 1000 - trainSeconds).toFixed(0)} s`);
  if (ev.split?.untested_profiles?.length) console.log(`untested profiles on this split: ${ev.split.untested_profiles.join(", ")}`);
  console.log(
    "@@models-bench " +
      JSON.stringify({ epochs: Number(epochs), patience: Number(patience), seed: Number(seed), train_seconds: trainSeconds, results: train.results.map((r) => ({ model: r.model, mode: r.mode, val_macro_f1: r.best.val_macro_f1, seconds: r.seconds, epochs_run: r.epochs_run, stopped: r.stopped, test_macro_f1: tested.get(key(r.model, r.mode))?.macro_f1 ?? null })) }),
  );
} finally {
  if (!flag("keep") && arg("out", null) === null) rmSync(out, { recursive: true, force: true });
}
