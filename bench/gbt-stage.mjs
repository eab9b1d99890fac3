// The GBT stage of bench/scale.mjs at corpus size without synthesising and
// featurising a corpus first: writes a features_window.parquet of --windows
// windows (the real schema and writers, 10 windows per episode, six hosts:
// four train, one val, one test, random summary values with ~10% missing
// and a class signal) plus its feature schema and host split, then runs
// `cis490 train --model gbt` on it as a child process and reports its wall
// time and peak RSS (VmHWM). The generator runs in this process; only the
// child's memory is measured.
//
// Usage: node bench/gbt-stage.mjs [--windows 700000] [--mode oracle] [--rounds 3]
//          [--threads 2] [--dir data/bench-gbt-N] [--keep]
// Needs `make build`. Prints a table line and one JSON line (prefix "@@gbt-stage-bench ").
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { arg, flag, root, runMeasured } from "./common.mjs";

const windows = Number(arg("windows", "700000"));
const mode = arg("mode", "oracle");
const rounds = arg("rounds", "3");
const threads = arg("threads", "2");
const dir = arg("dir", join(root, "data", `bench-gbt-${windows}`));
const dist = (p) => join(root, "dist", p);

const { CHANNELS, FEATURE_NAMES, STATS } = await import(dist("features/channels.js"));
const { ParquetStreamWriter, writeParquet } = await import(dist("io/parquet.js"));
const { buildFeatureSchema, FEATURE_SCHEMA_FILE, writeFeatureSchema } = await import(dist("features/schema.js"));
const { SCHEMA_HASH_KEY } = await import(dist("features/shards.js"));
const { windowSchema, windowTable } = await import(dist("features/window-table.js"));
const { assignmentTable } = await import(dist("split/run.js"));

const features = join(dir, "features_window.parquet");
const split = join(dir, "split_host.parquet");
if (!existsSync(features) || !existsSync(split)) {
  mkdirSync(dir, { recursive: true });
  const schema = buildFeatureSchema({ channels: [...CHANNELS], stats: STATS, window_s: 2, stride_s: 2, hz: 5 });
  await writeFeatureSchema(join(dir, FEATURE_SCHEMA_FILE), schema);
  const writer = await ParquetStreamWriter.open(features, windowSchema(FEATURE_NAMES), { metadata: { [SCHEMA_HASH_KEY]: schema.hash } });
  const hosts = ["h0", "h1", "h2", "h3", "h4", "h5"];
  const sideOf = { h0: "train", h1: "train", h2: "train", h3: "train", h4: "val", h5: "test" };
  let s = 7;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const per = 10;
  const nEp = Math.ceil(windows / per);
  const nf = FEATURE_NAMES.length;
  const assignments = [];
  let pending = [];
  for (let e = 0; e < nEp; e++) {
    const host = hosts[e % hosts.length];
    const id = `ep-${e}`;
    const phase = Int8Array.from({ length: per }, () => Math.floor(r() * 6));
    const summary = new Float64Array(per * nf);
    for (let w = 0; w < per; w++) for (let f = 0; f < nf; f++) summary[w * nf + f] = r() < 0.1 ? Number.NaN : r() + (f % 6 === phase[w] ? 0.5 : 0);
    const result = { error: null, n_windows: per, t0_wall_ns: "1775124672000000000", duration_s: per * 2, phase, t_start_s: Float64Array.from({ length: per }, (_, w) => 2 * w), phase_start_s: new Float64Array(6).fill(Number.NaN), summary, x: new Float32Array(0), mask: new Uint8Array(0) };
    pending.push({ identity: { episode_id: id, host_id: host, profile: "cpu-saturate", sample_name: "bench", sample_kind: "miner", acceptance_class: "accepted", started_at: null }, result });
    assignments.push({ episode: { episode_id: id, host_id: host, profile: "cpu-saturate", sample_name: "bench", started_at: null, t0_wall_ns: 0n, windows: per, phase_windows: [] }, split: sideOf[host] });
    if (pending.length === 2000 || e === nEp - 1) {
      await writer.write(windowTable(pending, FEATURE_NAMES, 2));
      pending = [];
    }
  }
  await writer.close();
  await writeParquet(split, assignmentTable(assignments));
}

const args = ["train", "--model", "gbt", "--mode", mode, "--features", features, "--split", split, "--out", join(dir, "artifacts"), "--threads", threads, "--rounds", rounds, "--force", "--json"];
const m = await runMeasured(process.execPath, [join(root, "bin", "cis490"), ...args]);
if (m.code !== 0) {
  console.error(m.stderr);
  process.exit(1);
}
const out = { windows, mode, rounds: Number(rounds), threads: Number(threads), wall_s: +m.wall.toFixed(1), peak_rss_mib: Math.round(m.peak_rss_mib) };
console.log(`train --model gbt --mode ${mode}, ${windows} windows (4/6 train), ${rounds} rounds: ${out.wall_s} s, peak RSS ${out.peak_rss_mib} MiB`);
console.log("@@gbt-stage-bench " + JSON.stringify(out));
if (!flag("keep")) rmSync(dir, { recursive: true, force: true });
