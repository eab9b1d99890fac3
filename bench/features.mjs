// Benchmarks feature extraction (decode + summary + tensors, docs/features.md)
// on the same episodes: the native featurizer with 1 thread and with all
// cores, its plain TypeScript twin (1 thread), and a numpy implementation of
// the same algorithm (bench/features_numpy.py, 1 thread). Also checks that
// the numpy column computes the same numbers as native on the first episodes.
// Prints a table and one JSON line.
// Usage: node bench/features.mjs [--episodes N] [--corpus DIR] [--repeat R]
//        [--twin-episodes N] [--numpy-episodes N] [--batch B]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { decompress } from "zstd-napi";
import { root, arg, benchCorpus } from "./common.mjs";

const episodes = Number(arg("episodes", "2000"));
const repeat = Number(arg("repeat", "3"));
const twinEpisodes = Number(arg("twin-episodes", "2000"));
const numpyEpisodes = Number(arg("numpy-episodes", "500"));
// featurizeFiles is called in batches, as the features command does (bounded memory).
const batch = Number(arg("batch", "256"));
const cores = availableParallelism();

const { dir: corpus, paths } = benchCorpus(episodes, arg("corpus"));

const { loadFeaturizer } = await import(join(root, "dist", "native", "backend.js"));
const { DEFAULT_INSPECT_OPTIONS } = await import(join(root, "dist", "episode", "report.js"));
const { FEATURE_NAMES: FEATURES } = await import(join(root, "dist", "features", "channels.js"));
const native = await loadFeaturizer("native");
const twin = await loadFeaturizer("reference");
const TENSORS = { window_s: 10, stride_s: 5, hz: 10, tensors: true };
const SUMMARY = { ...TENSORS, tensors: false };

async function time(featurizer, options, jobs, list, reps) {
  let best = Infinity;
  let windows = 0;
  for (let r = 0; r < reps; r++) {
    windows = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < list.length; i += batch) {
      const out = await featurizer.featurizeFiles(list.slice(i, i + batch), options, DEFAULT_INSPECT_OPTIONS, jobs);
      for (const w of out) windows += w.n_windows;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
  }
  return { ms_per_episode: (best * 1e3) / list.length, episodes: list.length, windows };
}

// Warm the page cache and the addon's thread pools.
await native.featurizeFiles(paths.slice(0, 64), TENSORS, DEFAULT_INSPECT_OPTIONS, 1);
await native.featurizeFiles(paths.slice(0, 64), TENSORS, DEFAULT_INSPECT_OPTIONS, cores);

const rows = [];
const nat1 = await time(native, TENSORS, 1, paths, repeat);
rows.push({ engine: "native, 1 thread", work: "summary + tensors", ...nat1 });
const natN = await time(native, TENSORS, cores, paths, repeat);
rows.push({ engine: `native, ${cores} threads`, work: "summary + tensors", ...natN });
rows.push({ engine: "native, 1 thread", work: "summary only", ...(await time(native, SUMMARY, 1, paths, repeat)) });
const twinList = paths.slice(0, twinEpisodes);
rows.push({ engine: "TS twin, 1 thread", work: "summary + tensors", ...(await time(twin, TENSORS, 1, twinList, 1)) });

// numpy: a Python with numpy (and zstandard, else we hand it decompressed .tar files).
const numpyList = paths.slice(0, numpyEpisodes);
let numpyNote = null;
const pythons = ["python3", "/usr/bin/python3"];
const has = (py, mod) => spawnSync(py, ["-c", `import ${mod}`]).status === 0;
const py = pythons.find((p) => has(p, "numpy") && has(p, "zstandard")) ?? pythons.find((p) => has(p, "numpy"));
const work = mkdtempSync(join(tmpdir(), "cis490-bench-features-"));
try {
  if (!py) {
    numpyNote = "skipped: no python3 with numpy";
  } else {
    let list = numpyList;
    if (!has(py, "zstandard")) {
      // No zstd for Python: decompress here; numpy's time then excludes zstd decoding.
      list = numpyList.map((p, i) => {
        const out = join(work, `${i}-${basename(p, ".zst")}`);
        writeFileSync(out, decompress(readFileSync(p)));
        return out;
      });
      numpyNote = "input: pre-decompressed .tar (no zstandard module), zstd time not included";
    }
    writeFileSync(join(work, "list.txt"), list.join("\n") + "\n");
    const res = spawnSync(py, [join(root, "bench", "features_numpy.py"), "--list", join(work, "list.txt"), "--dump", join(work, "dump"), "--dump-n", "50"], { encoding: "utf8", maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(`numpy bench failed: ${res.stderr}`);
    const np = JSON.parse(res.stdout.trim().split("\n").pop());
    rows.push({ engine: `numpy ${np.numpy}, 1 thread`, work: "summary + tensors", ms_per_episode: np.total_ms_per_episode, episodes: np.episodes, windows: np.windows, numpy_features_only_ms: np.features_ms_per_episode, input: np.input });

    // Same numbers? Compare numpy's first 50 episodes with native.
    const first = await native.featurizeFiles(numpyList.slice(0, 50), TENSORS, DEFAULT_INSPECT_OPTIONS, cores);
    const buf = (f, T) => { const b = readFileSync(join(work, "dump", f)); return new T(b.buffer, b.byteOffset, b.byteLength / T.BYTES_PER_ELEMENT); };
    const [ns, nx, nm] = [buf("summary.bin", Float64Array), buf("x.bin", Float32Array), buf("mask.bin", Uint8Array)];
    const nwin = JSON.parse(readFileSync(join(work, "dump", "windows.json"), "utf8"));
    const close = (a, b) => Object.is(a, b) || (Number.isNaN(a) ? Number.isNaN(b) : Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b)));
    const agree = { window_counts_equal: 0, summary: [0, 0], x: [0, 0], mask: [0, 0], summary_examples: [] };
    let so = 0, xo = 0;
    first.forEach((w, i) => {
      if (w.n_windows !== nwin[i]) return;
      agree.window_counts_equal++;
      for (let j = 0; j < w.summary.length; j++) {
        agree.summary[1]++;
        if (close(w.summary[j], ns[so + j])) agree.summary[0]++;
        else if (agree.summary_examples.length < 3) agree.summary_examples.push({ feature: FEATURES[j % FEATURES.length], native: w.summary[j], numpy: ns[so + j] });
      }
      for (let j = 0; j < w.x.length; j++) {
        agree.x[1]++; agree.mask[1]++;
        if (close(w.x[j], nx[xo + j])) agree.x[0]++;
        if (w.mask[j] === nm[xo + j]) agree.mask[0]++;
      }
      so += w.summary.length;
      xo += w.x.length;
    });
    rows[rows.length - 1].agreement_with_native = agree;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const fmt = (v, d = 3) => (v == null ? "-" : Number(v).toFixed(d));
console.log(`corpus: ${corpus}, ${paths.length} episodes; ${cores} cores; native best of ${repeat}, twin and numpy one pass; batches of ${batch}`);
console.log(["engine", "work", "episodes", "ms/episode", "x native 1t", "x TS twin"].join(" | "));
const twinMs = rows.find((r) => r.engine.startsWith("TS twin")).ms_per_episode;
for (const r of rows) {
  r.vs_native_1_thread = r.ms_per_episode / nat1.ms_per_episode;
  r.speedup_vs_twin = twinMs / r.ms_per_episode;
  console.log([r.engine, r.work, r.episodes, fmt(r.ms_per_episode), fmt(r.vs_native_1_thread, 2), fmt(r.speedup_vs_twin, 2)].join(" | "));
}
const npRow = rows.find((r) => r.engine.startsWith("numpy"));
if (npRow) {
  const a = npRow.agreement_with_native;
  console.log(`numpy: ${npRow.input}; features alone ${fmt(npRow.numpy_features_only_ms)} ms/episode; vs native on 50 episodes: windows ${a.window_counts_equal}/50, summary ${a.summary[0]}/${a.summary[1]}, x ${a.x[0]}/${a.x[1]}, mask ${a.mask[0]}/${a.mask[1]} within 1e-6`);
  for (const e of a.summary_examples) console.log(`  differs: ${e.feature} native=${e.native} numpy=${e.numpy}`);
}
if (numpyNote) console.log(`numpy: ${numpyNote}`);
console.log(JSON.stringify({ bench: "features", episodes: paths.length, cores, repeat, numpy_note: numpyNote, rows }));
