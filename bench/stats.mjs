// Benchmarks the bootstrap of macro F1: native (crates/cis490-stats, all
// cores) vs its TypeScript twin (one thread) vs, when /usr/bin/python3 has
// numpy, a vectorised numpy version (bench/stats_numpy.py). Same synthetic
// data for all: ~100k windows in ~11k episodes, 6 imbalanced classes.
// Prints a table and one JSON line. Needs `make build` (dist/ + the addon).
// Usage: node bench/stats.mjs [--resamples 10000] [--windows 100000] [--seed 1] [--unit episode|window] [--repeat 3] [--no-numpy]
// Each engine runs --repeat times and reports its fastest run (the build
// machines are shared; the minimum is the least disturbed measurement).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { root, arg, flag } from "./common.mjs";

const resamples = Number(arg("resamples", "10000"));
const windows = Number(arg("windows", "100000"));
const seed = Number(arg("seed", "1"));
const unit = arg("unit", "episode");
const repeat = Number(arg("repeat", "3"));
const cores = availableParallelism();

const { bootstrapF1 } = await import(join(root, "dist", "stats", "bootstrap.js"));

// Synthetic evaluation: episodes of 1..17 windows (mean 9), one true class
// per episode (weights 40/25/15/10/6/4 %), a per-episode "difficulty" so
// errors cluster within episodes, as they do for real detectors.
function data(n, s) {
  let x = s >>> 0;
  const rnd = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 4294967296);
  const weights = [0.4, 0.25, 0.15, 0.1, 0.06, 0.04];
  const t = new Int32Array(n);
  const p = new Int32Array(n);
  const g = new Uint32Array(n);
  let i = 0;
  for (let e = 0; i < n; e++) {
    let u = rnd();
    let truth = 0;
    while (truth < 5 && u >= weights[truth]) u -= weights[truth++];
    const acc = 0.4 + 0.55 * rnd();
    const len = 1 + Math.floor(rnd() * 17);
    for (let w = 0; w < len && i < n; w++, i++) {
      t[i] = truth;
      p[i] = rnd() < acc ? truth : Math.floor(rnd() * 6);
      g[i] = e;
    }
  }
  return { t, p, g, episodes: g[n - 1] + 1 };
}

const d = data(windows, seed);
const opts = { resamples, seed, unit };
const time = async (f) => {
  let best = null;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    const r = await f();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!best || seconds < best.seconds) best = { r, seconds };
  }
  return best;
};

await bootstrapF1(d.t, d.p, d.g, { ...opts, resamples: 50 }); // load the addon, warm up
const nat = await time(() => bootstrapF1(d.t, d.p, d.g, { ...opts, threads: 0 }));
const nat1 = await time(() => bootstrapF1(d.t, d.p, d.g, { ...opts, threads: 1 }));
const ref = await time(() => bootstrapF1(d.t, d.p, d.g, { ...opts, engine: "reference" }));
const same = JSON.stringify(nat.r) === JSON.stringify(ref.r) && JSON.stringify(nat1.r) === JSON.stringify(ref.r);

let numpy = null;
const haveNumpy = !flag("no-numpy") && spawnSync("/usr/bin/python3", ["-c", "import numpy"]).status === 0;
if (haveNumpy) {
  const dir = mkdtempSync(join(tmpdir(), "cis490-bench-stats-"));
  try {
    writeFileSync(join(dir, "t.i32"), d.t);
    writeFileSync(join(dir, "p.i32"), d.p);
    writeFileSync(join(dir, "g.u32"), d.g);
    const res = spawnSync("/usr/bin/python3", [join(root, "bench", "stats_numpy.py"), dir, String(resamples), String(seed), unit, String(repeat)], { encoding: "utf8" });
    if (res.status !== 0) throw new Error(`stats_numpy.py failed: ${res.stderr}`);
    numpy = JSON.parse(res.stdout.trim().split("\n").pop());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ci = (r) => `[${r.macroF1.lo.toFixed(4)}, ${r.macroF1.hi.toFixed(4)}]`;
const rows = [
  ["native, all cores", nat.seconds, ci(nat.r)],
  ["native, 1 thread", nat1.seconds, ci(nat1.r)],
  ["TypeScript twin", ref.seconds, ci(ref.r)],
];
if (numpy) rows.push(["numpy (other RNG)", numpy.seconds, `[${numpy.lo.toFixed(4)}, ${numpy.hi.toFixed(4)}]`]);
console.log(`bootstrap of macro F1: ${resamples} resamples, ${windows} windows, ${nat.r.units} ${unit} units, ${cores} cores; point ${nat.r.macroF1.point.toFixed(4)}`);
console.log("engine               seconds   x native   95% CI");
for (const [name, s, c] of rows) console.log(`${name.padEnd(20)} ${s.toFixed(3).padStart(7)}   ${(s / nat.seconds).toFixed(1).padStart(8)}   ${c}`);
console.log(`native == twin (exact): ${same}`);
console.log(
  JSON.stringify({
    bench: "stats-bootstrap",
    resamples,
    windows,
    unit,
    repeat,
    units: nat.r.units,
    cores,
    native_s: nat.seconds,
    native_1thread_s: nat1.seconds,
    ts_s: ref.seconds,
    numpy_s: numpy ? numpy.seconds : null,
    ts_over_native: ref.seconds / nat.seconds,
    numpy_over_native: numpy ? numpy.seconds / nat.seconds : null,
    native_equals_twin: same,
    macro_f1: nat.r.macroF1,
    numpy_ci: numpy ? [numpy.lo, numpy.hi] : null,
  }),
);
if (!same) process.exitCode = 1;
