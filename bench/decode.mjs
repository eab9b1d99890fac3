// Benchmarks the native hot path against its plain TypeScript twin on the same
// episodes, and times whole CLI sweeps. Prints a table and one JSON line.
// Usage: node bench/decode.mjs [--episodes N] [--corpus DIR] [--repeat R]
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { root, arg, benchCorpus } from "./common.mjs";

const episodes = Number(arg("episodes", "2000"));
const repeat = Number(arg("repeat", "3"));
const cores = availableParallelism();
const cli = join(root, "bin", "cis490");

function run(cmd, argv, { measureRss = false } = {}) {
  const nodeArgs = measureRss ? ["--import", join(root, "bench", "rss-at-exit.mjs"), cli, ...argv] : [cli, ...argv];
  const started = process.hrtime.bigint();
  const res = spawnSync(cmd, nodeArgs, { encoding: "utf8", maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (res.status !== 0) throw new Error(`${argv.join(" ")} failed (${res.status}): ${res.stderr}`);
  const m = /@@peak_rss_kib=(\d+)/.exec(res.stderr ?? "");
  return { seconds, stdout: res.stdout, peakRssMiB: m ? Number(m[1]) / 1024 : null };
}

const { dir: corpus, paths } = benchCorpus(episodes, arg("corpus"));
const compressedBytes = paths.reduce((s, p) => s + statSync(p).size, 0);

const { loadInspector: loadEngine } = await import(join(root, "dist", "native", "backend.js"));
const { DEFAULT_INSPECT_OPTIONS } = await import(join(root, "dist", "episode", "report.js"));
const native = await loadInspector("native");
const reference = await loadInspector("reference");

async function timeInspect(engine, jobs) {
  let best = Infinity;
  let reports;
  for (let r = 0; r < repeat; r++) {
    const started = process.hrtime.bigint();
    reports = await engine.inspectFiles(paths, DEFAULT_INSPECT_OPTIONS, jobs);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
  }
  return { seconds: best, reports };
}

const rows = [];
const decodedBytes = (reports) =>
  reports.reduce((s, r) => s + Object.values(r.members).reduce((t, m) => t + m.bytes, 0), 0);

const ref = await timeInspect(reference, 1);
const nat1 = await timeInspect(native, 1);
const natN = await timeInspect(native, cores);
const mb = decodedBytes(natN.reports) / 1e6;
for (const [name, t] of [["reference (TS twin), 1 thread", ref], ["native, 1 thread", nat1], [`native, ${cores} threads`, natN]]) {
  rows.push({
    stage: "decode + typed parse + signals",
    engine: name,
    seconds: t.seconds,
    episodes_per_s: paths.length / t.seconds,
    decompressed_mb_per_s: mb / t.seconds,
    compressed_mb_per_s: compressedBytes / 1e6 / t.seconds,
    vs_reference: ref.seconds / t.seconds,
  });
}

const sweepRef = run("node", ["validate", "--store", corpus, "--out", join(corpus, "..", "bench-acceptance-ref.parquet"), "--json", "--engine", "reference"], { measureRss: true });
const sweepNat = run("node", ["validate", "--store", corpus, "--out", join(corpus, "..", "bench-acceptance.parquet"), "--json", "--jobs", String(cores)], { measureRss: true });
for (const [name, t] of [["reference (TS twin)", sweepRef], [`native, ${cores} jobs`, sweepNat]]) {
  rows.push({
    stage: "validate sweep (whole CLI run)",
    engine: name,
    seconds: t.seconds,
    episodes_per_s: paths.length / t.seconds,
    decompressed_mb_per_s: mb / t.seconds,
    compressed_mb_per_s: compressedBytes / 1e6 / t.seconds,
    vs_reference: sweepRef.seconds / t.seconds,
    peak_rss_mib: t.peakRssMiB,
  });
}

const fmt = (v, d = 1) => (v == null ? "-" : Number(v).toFixed(d));
console.log(`corpus: ${paths.length} episodes, ${fmt(compressedBytes / 1e6)} MB compressed, ${fmt(mb)} MB decompressed; ${cores} cores; best of ${repeat}`);
console.log(["stage", "engine", "s", "ep/s", "MB/s (decomp.)", "x ref", "peak RSS MiB"].join(" | "));
for (const r of rows) {
  console.log([r.stage, r.engine, fmt(r.seconds, 3), fmt(r.episodes_per_s, 0), fmt(r.decompressed_mb_per_s), fmt(r.vs_reference, 2), fmt(r.peak_rss_mib, 0)].join(" | "));
}
console.log(JSON.stringify({ bench: "decode-validate", episodes: paths.length, cores, rows }));
