// The pipeline at corpus scale, stage by stage (issue 10): synth → validate →
// prune (dry run) → features --tensors → split → train gbt → train gru (one
// epoch) → eval. Every stage runs as its own child process (bin/cis490), so
// its wall time and peak RSS (VmHWM / wait4's maximum via /usr/bin/time -v)
// are its own; disk use is what the stage left on disk.
//
// Usage: node bench/scale.mjs [--episodes 76660] [--hosts 3] [--dir data/bench-scale-N]
//          [--threads N] [--stages synth,validate,...] [--keep]
// A stage whose outputs exist from an earlier run of the same --dir is run
// again (synth reuses its store when asked for the same corpus). Prints a
// table and one JSON line (prefix "@@scale-bench "). `make bench-scale`
// runs it at full size; pass --episodes 5000 for a quick look.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { arg, diskBytes, flag, root, runMeasured } from "./common.mjs";

const episodes = Number(arg("episodes", "76660"));
const hosts = arg("hosts", "3");
const dir = arg("dir", join(root, "data", `bench-scale-${episodes}`));
const threads = arg("threads", String(availableParallelism()));
const cli = join(root, "bin", "cis490");
const P = (...p) => join(dir, ...p);
const features = P("processed", "features_window.parquet");

let windows = null; // known after features; train/val/test counts after split
let sides = null;
const stages = [
  { name: "synth", unit: "episodes", args: ["synth", "--out", P("corpus"), "--episodes", String(episodes), "--seed", "490", "--faults", "none", "--hosts", hosts], disk: [P("corpus")] },
  { name: "validate", unit: "episodes", args: ["validate", "--store", P("corpus"), "--out", P("acceptance.parquet")], disk: [P("acceptance.parquet")] },
  { name: "prune (dry run)", key: "prune", unit: "episodes", args: ["prune", "--store", P("corpus")], disk: [] },
  { name: "features --tensors", key: "features", unit: "episodes", args: ["features", "--store", P("corpus"), "--acceptance", P("acceptance.parquet"), "--out", P("processed"), "--tensors"], disk: [P("processed")] },
  { name: "split", unit: "windows", args: ["split", "--features", features, "--recipe", "host", "--out", P("split_host.parquet")], disk: [P("split_host.parquet")] },
  { name: "train gbt", key: "train-gbt", unit: "train windows", args: ["train", "--model", "gbt", "--mode", "realistic", "--features", features, "--split", P("split_host.parquet"), "--out", P("artifacts"), "--threads", threads, "--force"], disk: [P("artifacts")] },
  { name: "train gru (1 epoch)", key: "train-gru", unit: "train windows", args: ["train", "--model", "gru", "--mode", "realistic", "--features", features, "--tensors", P("processed", "tensors"), "--split", P("split_host.parquet"), "--out", P("artifacts"), "--epochs", "1", "--threads", threads, "--force"], disk: [P("artifacts")] },
  { name: "eval", unit: "test windows", args: ["eval", "--artifacts", P("artifacts"), "--features", features, "--tensors", P("processed", "tensors"), "--split", P("split_host.parquet"), "--out", P("reports")], disk: [P("reports")] },
];
const only = arg("stages", null)?.split(",");

function units(stage) {
  if (stage.unit === "episodes") return episodes;
  if (stage.unit === "windows") return windows;
  if (stage.unit === "train windows") return sides?.train?.windows ?? null;
  if (stage.unit === "test windows") return sides?.test?.windows ?? null;
  return null;
}

function readCounts() {
  try {
    const idx = JSON.parse(readFileSync(P("processed", "tensors", "index.json"), "utf8"));
    windows = idx.n_windows;
  } catch {
    /* not yet */
  }
  try {
    sides = JSON.parse(readFileSync(P("split_host.json"), "utf8")).counts;
  } catch {
    /* not yet */
  }
}

const rows = [];
for (const stage of stages) {
  const key = stage.key ?? stage.name;
  if (only && !only.includes(key)) continue;
  process.stderr.write(`bench-scale: ${stage.name} ...\n`);
  const m = await runMeasured(process.execPath, [cli, ...stage.args], { env: { FORCE_COLOR: "0" } });
  readCounts();
  const n = units(stage);
  const row = {
    stage: key,
    ok: m.code === 0,
    wall_s: +m.wall.toFixed(1),
    peak_rss_mib: Math.round(m.peak_rss_mib),
    units: n,
    unit: stage.unit,
    per_s: n && m.wall > 0 ? +(n / m.wall).toFixed(1) : null,
    disk_mib: +(stage.disk.reduce((s, p) => s + diskBytes(p), 0) / 2 ** 20).toFixed(1),
  };
  if (!row.ok) row.error = m.stderr.trim().split("\n").slice(-3).join(" | ");
  if (key === "train-gru") {
    try {
      const sc = JSON.parse(readFileSync(P("artifacts", "gru_realistic.ckpt.json"), "utf8"));
      const io = sc.training?.tensor_io;
      if (io) row.tensor_io = { source: io.source, wait_s: +io.wait_seconds.toFixed(1), step_s: +io.step_seconds.toFixed(1), read_mib_s: io.read_seconds > 0 ? +(io.bytes_read / 2 ** 20 / io.read_seconds).toFixed(0) : null };
      const epoch = sc.history?.[0]?.seconds;
      if (epoch && n) row.epoch_ms_per_window = +((1000 * epoch) / n).toFixed(3);
    } catch {
      /* reported as is */
    }
  }
  rows.push(row);
  process.stderr.write(`bench-scale: ${stage.name}: ${row.ok ? "ok" : "FAILED " + row.error} (${row.wall_s} s, ${row.peak_rss_mib} MiB)\n`);
  if (!row.ok) break;
}

const pad = (s, n) => String(s ?? "").padEnd(n);
const lpad = (s, n) => String(s ?? "").padStart(n);
console.log(`\nscale bench: ${episodes} episodes, ${windows ?? "?"} windows, ${hosts} hosts, ${threads} threads, in ${dir}`);
console.log(`${pad("stage", 20)} ${lpad("wall s", 8)} ${lpad("per s", 9)} ${pad(" unit", 15)} ${lpad("peak RSS MiB", 13)} ${lpad("disk MiB", 9)}`);
for (const r of rows) {
  console.log(`${pad(r.stage, 20)} ${lpad(r.wall_s, 8)} ${lpad(r.per_s, 9)} ${pad(" " + r.unit, 15)} ${lpad(r.peak_rss_mib, 13)} ${lpad(r.disk_mib, 9)}${r.ok ? "" : "  FAILED: " + r.error}`);
  if (r.tensor_io) {
    const reads = r.tensor_io.read_mib_s === null ? "" : `, reads at ${r.tensor_io.read_mib_s} MiB/s`;
    console.log(`${pad("", 20)} tensors from ${r.tensor_io.source}: waited ${r.tensor_io.wait_s} s for chunks, ${r.tensor_io.step_s} s in engine steps${reads}; ${r.epoch_ms_per_window} ms/window/epoch`);
  }
}
console.log("@@scale-bench " + JSON.stringify({ episodes, windows, hosts: Number(hosts), threads: Number(threads), stages: rows }));
if (!flag("keep") && existsSync(dir) && rows.every((r) => r.ok)) rmSync(dir, { recursive: true, force: true });
process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
