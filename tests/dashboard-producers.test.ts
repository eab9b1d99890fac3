// The dashboard producers: checkpoint inference on in-memory windows agrees
// with inference from the features file and tensor shards; metrics from eval
// JSON; profile curves on the t_wall_ns clock from a real (synthetic) store;
// a replay plan and its pacing; measured perf; and the CLI, including
// `dashboard serve` as a process stopped by SIGTERM.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { validateEvent } from "../src/dashboard/events.js";
import { loadInferenceModel } from "../src/dashboard/producers/inference.js";
import { metricsFromRegistry, metricsFromReports } from "../src/dashboard/producers/metrics.js";
import { attachEval, registerCheckpoint } from "../src/registry/api.js";
import { measurePerf } from "../src/dashboard/producers/perf.js";
import { channelSeries, profilesFromStore, resampleCurve } from "../src/dashboard/producers/profiles.js";
import { planAnomalyReplay, planReplay, runSchedule } from "../src/dashboard/producers/replay.js";
import { loadAnomalyDetector } from "../src/anomaly/loader.js";
import { trainAe } from "../src/anomaly/train-ae.js";
import { trainEif } from "../src/anomaly/train.js";
import { sendOne, type SendResult } from "../src/dashboard/producers/send.js";
import { startDashboard } from "../src/dashboard/server.js";
import { FEATURE_NAMES, N_CHANNELS } from "../src/features/channels.js";
import type { EpisodeWindows } from "../src/features/types.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { trainModel } from "../src/train/run.js";
import { streamTensorRows } from "../src/train/tensors.js";
import { loadWindowSet, readFeatureRows } from "../src/train/windows.js";
import { runCli } from "./helpers/cli.js";
import { sampleComparison } from "./helpers/comparison.js";
import { testFeaturizer, validatedStore, type ValidatedStore } from "./helpers/features-fixture.js";
import { DEFAULT_INSPECT_OPTIONS } from "../src/episode/report.js";
import { makeToy, quick, T, type Toy } from "./helpers/train-toy.js";

let toy: Toy;
let artifacts: string;
let fx: ValidatedStore;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "cis490-producers-"));
  toy = await makeToy(dir);
  artifacts = join(dir, "artifacts");
  await trainModel(quick(toy, "gbt", artifacts));
  await trainModel(quick(toy, "gru", artifacts, { neural: { epochs: 2, batch_size: 32, lr: 3e-3, hidden: 16, layers: 1, patience: 0 } }));
  fx = await validatedStore(36, "14");
}, 240_000);

describe("inference on windows in memory", () => {
  it("predictArrays equals predictProba from the features file and tensor shards", async () => {
    const windows = await loadWindowSet(toy.features, toy.split, "test");
    const n = windows.episode_id.length;
    const summary = await readFeatureRows(toy.features, windows, FEATURE_NAMES);
    const x = new Float32Array(n * N_CHANNELS * T);
    const mask = new Uint8Array(n * N_CHANNELS * T);
    const all = Array.from({ length: N_CHANNELS }, (_, c) => c);
    await streamTensorRows(toy.tensors, toy.schema.hash, [windows], all, T, N_CHANNELS, (_t, rows, bx, bm) => {
      rows.forEach((r, k) => {
        x.set(bx.subarray(k * N_CHANNELS * T, (k + 1) * N_CHANNELS * T), r * N_CHANNELS * T);
        mask.set(bm.subarray(k * N_CHANNELS * T, (k + 1) * N_CHANNELS * T), r * N_CHANNELS * T);
      });
    });
    for (const kind of ["gbt", "gru"]) {
      const model = await loadCheckpoint(join(artifacts, `${kind}_realistic.ckpt.json`), toy.schema as never);
      const fromFiles = await model.predictProba(toy.features, toy.tensors, windows);
      const fromArrays = await model.predictArrays({ n, summary, x, mask });
      expect(fromArrays.length).toBe(fromFiles.length);
      expect(Array.from(fromArrays)).toEqual(Array.from(fromFiles));
      expect(model.parameters).toBeGreaterThan(0);
    }
  });
});

describe("producers", () => {
  it("metrics: one valid model_metric per eval file, unreadable files skipped with a reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-reports-"));
    const models = sampleComparison().models;
    for (const m of models) writeFileSync(join(dir, `${m.model}_${m.mode}_eval.json`), JSON.stringify(m));
    writeFileSync(join(dir, "mlp_oracle_eval.json"), "{torn");
    writeFileSync(join(dir, "comparison.json"), "{}");
    const r = await metricsFromReports(dir);
    expect(r.events).toHaveLength(models.length);
    for (const e of r.events) expect(validateEvent(e).ok).toBe(true);
    const first = models.find((m) => m.model === r.events[0].model && m.mode === r.events[0].mode)!;
    expect(r.events[0].macro_f1).toEqual(first.macro_f1);
    expect(Object.keys(r.events[0].per_class)).toEqual(first.per_class.map((c) => c.name));
    expect(r.events[0].anomaly).toEqual({ roc_auc: first.anomaly!.roc_auc.point, pr_auc: first.anomaly!.pr_auc.point, tpr_at_1pct_fpr: first.anomaly!.tpr_at_1pct_fpr.point });
    // The checkpoints of the sample are not on disk: said so, not invented.
    expect(r.events.every((e) => e.version === "unversioned")).toBe(true);
    expect(r.skipped).toEqual([expect.stringMatching(/^mlp_oracle_eval.json: /)]);
  });

  it("metrics from a registry: one event per version with an attached evaluation, versions are registry ids, oldest first", async () => {
    const registry = mkdtempSync(join(tmpdir(), "cis490-registry-"));
    const first = await registerCheckpoint(registry, join(artifacts, "gbt_realistic.ckpt.json"));
    const retrained = await trainModel(quick(toy, "gbt", join(registry, "..", `${basename(registry)}-retrained`), { seed: 11 }));
    const second = await registerCheckpoint(registry, retrained.sidecarPath);
    expect(second.version).not.toBe(first.version);
    const [a, b] = sampleComparison().models.filter((m) => m.mode === "realistic");
    await attachEval(registry, "gbt_realistic", first.version, { ...a, model: "gbt", name: "gbt_realistic" });
    // The gru version has no evaluation: skipped, with the command that makes one.
    const gru = await registerCheckpoint(registry, join(artifacts, "gru_realistic.ckpt.json"));
    const none = await metricsFromRegistry(registry);
    expect(none.events.map((e) => e.version)).toEqual([first.version]);
    expect(none.skipped).toEqual([expect.stringContaining(`gbt_realistic@${second.version}: no evaluation attached`), expect.stringContaining(`gru_realistic@${gru.version}`)]);
    await attachEval(registry, "gbt_realistic", second.version, { ...b, model: "gbt", name: "gbt_realistic" });
    const r = await metricsFromRegistry(registry, ["gbt_realistic"]);
    expect(r.events.map((e) => [e.model, e.mode, e.version])).toEqual([
      ["gbt", "realistic", first.version],
      ["gbt", "realistic", second.version],
    ]);
    expect(r.events.map((e) => e.macro_f1)).toEqual([a.macro_f1, b.macro_f1]);
    for (const e of r.events) expect(validateEvent(e).ok).toBe(true);
    // The CLI: a dry run prints them; --model without --registry is a usage error.
    const cli = await runCli(["publish", "metrics", "--registry", registry, "--model", "gbt_realistic", "--dry-run"]);
    expect(cli.code).toBe(0);
    expect(cli.stdout.trim().split("\n").map((l) => JSON.parse(l).version)).toEqual([first.version, second.version]);
    expect((await runCli(["publish", "metrics", "--model", "gbt_realistic", "--dry-run"])).code).toBe(2);
  });

  it("profiles: channel series on the window grid, 80-point normalised curves", () => {
    // Two windows of 4 samples at 2 Hz starting at 0 s and 1 s: samples 2,3 of the first overlap samples 0,1 of the second.
    const len = 4;
    const x = new Float32Array(2 * N_CHANNELS * len);
    const mask = new Uint8Array(2 * N_CHANNELS * len);
    const ch = 5;
    [
      [0, [1, 2, 3, 4]],
      [1, [5, 6, 7, 8]],
    ].forEach(([w, vals]) => (vals as number[]).forEach((v, k) => {
      x[((w as number) * N_CHANNELS + ch) * len + k] = v;
      mask[((w as number) * N_CHANNELS + ch) * len + k] = k === 3 && w === 1 ? 0 : 1;
    }));
    const w = { n_windows: 2, t_start_s: new Float64Array([0, 1]), duration_s: 3, x, mask } as unknown as EpisodeWindows;
    const s = Array.from(channelSeries(w, ch, N_CHANNELS, len, 2));
    expect(s).toEqual([1, 2, 4, 5, 7]);
    expect(Array.from(channelSeries(w, ch + 1, N_CHANNELS, len, 2))).toEqual([]);
    const ramp = resampleCurve(new Float64Array([10, NaN, 30, 40, 50]))!;
    expect(ramp).toHaveLength(80);
    expect(ramp[0]).toBe(0);
    expect(ramp[79]).toBe(1);
    expect(ramp[40]).toBeCloseTo(40 / 79 + 0.0, 3);
    expect(resampleCurve(new Float64Array([NaN, NaN]))).toBeNull();
    expect(resampleCurve(new Float64Array([3, 3, 3]))).toEqual(Array(80).fill(0));
  });

  it("profiles: a representative accepted episode per profile from a real store", async () => {
    const r = await profilesFromStore({ store: fx.store, acceptance: fx.acceptance, candidates: 4, jobs: 2 });
    expect(r.outcomes.map((o) => o.profile)).toHaveLength(6);
    expect(r.events.length).toBeGreaterThanOrEqual(3);
    for (const e of r.events) {
      expect(validateEvent(e)).toMatchObject({ ok: true });
      const row = fx.rows.find((x) => x.episode_id === e.episode_id)!;
      expect(row.class).toBe("accepted");
      expect(row.profile).toBe(e.name);
      expect(Math.max(...e.curve)).toBe(1);
    }
    for (const o of r.outcomes) if (!r.events.some((e) => e.name === o.profile)) expect(o.reason).toMatch(/no accepted episode/);
  });

  it("replay: phase and prediction events on the episode clock, published through a real server", async () => {
    const accepted = fx.rows.find((r) => r.class === "accepted")!;
    const m = await loadInferenceModel(join(artifacts, "gbt_realistic.ckpt.json"));
    expect(m.name).toBe("gbt_realistic");
    const plan = await planReplay(join(fx.store, accepted.path), m);
    expect(plan.episode_id).toBe(accepted.episode_id);
    const preds = plan.schedule.filter((s) => s.event.type === "prediction");
    const phases = plan.schedule.filter((s) => s.event.type === "phase");
    expect(preds).toHaveLength(plan.windows);
    expect(phases[0].event).toMatchObject({ t_s: 0, phase: "clean" });
    for (let i = 1; i < plan.schedule.length; i++) expect(plan.schedule[i].due_s).toBeGreaterThanOrEqual(plan.schedule[i - 1].due_s);
    for (const s of preds) {
      expect(validateEvent(s.event).ok).toBe(true);
      // Published once the window is complete, stamped with its centre.
      expect(s.due_s - s.event.t_s).toBeCloseTo(m.options.window_s / 2, 9);
    }
    // An embedding per window, right after its prediction, at the same time.
    const embs = plan.schedule.filter((s) => s.event.type === "embedding");
    expect(plan.embeddings).toBe(plan.windows);
    expect(plan.embedding_note).toBeNull();
    expect(embs).toHaveLength(plan.windows);
    embs.forEach((s, i) => {
      expect(validateEvent(s.event).ok).toBe(true);
      expect(s.event).toMatchObject({ model: "gbt_realistic", t_s: preds[i].event.t_s });
      expect(plan.schedule[plan.schedule.indexOf(s) - 1]).toBe(preds[i]);
    });
    // Not one point: windows spread in the plane.
    expect(new Set(embs.map((s) => JSON.stringify((s.event as { xy: number[] }).xy))).size).toBeGreaterThan(1);

    const dir = mkdtempSync(join(tmpdir(), "cis490-replay-"));
    const token = "r".repeat(32);
    const server = await startDashboard({ port: 0, token, logPath: join(dir, "events.jsonl") });
    try {
      const out: SendResult = { published: 0, rejected: [], fatal: null };
      const sent = await runSchedule(plan.schedule, 0, (s) => sendOne({ url: server.url, token }, s.event, out));
      expect(sent).toBe(plan.schedule.length);
      expect(out).toEqual({ published: plan.schedule.length, rejected: [], fatal: null });
    } finally {
      await server.close();
    }
    expect(readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n")).toHaveLength(plan.schedule.length);
  });

  it("replay: a gru's embeddings are its PCA'd penultimate layer; a checkpoint without the block publishes none and says why", async () => {
    const accepted = fx.rows.find((r) => r.class === "accepted")!;
    const episode = join(fx.store, accepted.path);
    const sidecar = join(artifacts, "gru_realistic.ckpt.json");
    const m = await loadInferenceModel(sidecar);
    const plan = await planReplay(episode, m);
    const embs = plan.schedule.filter((s) => s.event.type === "embedding").map((s) => s.event as { xy: [number, number] });
    expect(embs).toHaveLength(plan.windows);
    // Recompute two windows' points from the embedding and the stored PCA by hand.
    const [w] = await (await testFeaturizer()).featurizeFiles([episode], m.options, DEFAULT_INSPECT_OPTIONS, 1);
    const e = await m.model.embedArrays({ n: w.n_windows, summary: w.summary, x: w.x, mask: w.mask });
    const { pca, width } = m.model.embedding!;
    for (const i of [0, plan.windows - 1]) {
      const xy = pca.components.map((c) => c.reduce((s, v, j) => s + v * (e[i * width + j] - pca.mean[j]), 0));
      expect(embs[i].xy[0]).toBeCloseTo(xy[0], 4);
      expect(embs[i].xy[1]).toBeCloseTo(xy[1], 4);
    }

    const doc = JSON.parse(readFileSync(sidecar, "utf8"));
    delete doc.embedding;
    // Beside the artifacts (the perf test measures every checkpoint in there); the weights file is named by its path.
    const oldDir = mkdtempSync(join(tmpdir(), "cis490-old-ckpt-"));
    doc.weights_file = relative(oldDir, join(artifacts, doc.weights_file));
    const old = join(oldDir, "gru_realistic.ckpt.json");
    writeFileSync(old, JSON.stringify(doc));
    const oldPlan = await planReplay(episode, await loadInferenceModel(old));
    expect(oldPlan.embeddings).toBe(0);
    expect(oldPlan.schedule.some((s) => s.event.type === "embedding")).toBe(false);
    expect(oldPlan.schedule.filter((s) => s.event.type === "prediction")).toHaveLength(plan.windows);
    expect(oldPlan.embedding_note).toMatch(/no embedding events for gru_realistic: the checkpoint has no embedding block/);
  });

  it("replay: an autoencoder checkpoint publishes the ground truth and its PCA'd latent space, no predictions; an eif one is refused", async () => {
    // Not beside the artifacts: the perf test measures every supervised checkpoint in there.
    const out = mkdtempSync(join(tmpdir(), "cis490-ae-replay-"));
    const o = { mode: "realistic" as const, features: toy.features, split: toy.split, out, seed: 1, threads: 1 };
    const ae = await trainAe({ ...o, ae: { epochs: 3, batch_size: 32, patience: 0, threads: 1, device: "cpu" } });
    const block = ae.sidecar.embedding!;
    expect(block.layer).toBe("latent");
    expect(block.width).toBe(16);
    expect(block.sample.windows).toBe(Math.min(ae.sidecar.training.n_train_clean, 4000));
    const episode = join(fx.store, fx.rows.find((r) => r.class === "accepted")!.path);
    const plan = await planAnomalyReplay(episode, ae.sidecarPath);
    expect(plan.model).toBe("ae_realistic");
    expect(plan.schedule.some((s) => s.event.type === "prediction")).toBe(false);
    const embs = plan.schedule.filter((s) => s.event.type === "embedding").map((s) => s.event as { xy: [number, number]; model: string });
    expect(embs).toHaveLength(plan.windows);
    expect(plan.embeddings).toBe(plan.windows);
    for (const s of plan.schedule) expect(validateEvent(s.event).ok).toBe(true);
    // The last window's point by hand: its summary row -> the loader's latent -> the stored PCA.
    const det = await loadAnomalyDetector(ae.sidecarPath);
    const g = ae.sidecar.feature_schema;
    const [w] = await (await testFeaturizer()).featurizeFiles([episode], { window_s: g.window_s, stride_s: g.stride_s, hz: g.hz, tensors: false }, DEFAULT_INSPECT_OPTIONS, 1);
    const i = plan.windows - 1;
    const row = Float32Array.from(det.columns, (c) => w.summary[i * g.features.length + g.features.indexOf(c)]);
    const z = await det.latent!({ x: row, n: 1, width: row.length });
    await det.dispose();
    const xy = block.pca.components.map((c) => c.reduce((acc, v, j) => acc + v * (z[j] - block.pca.mean[j]), 0));
    expect(embs[i].xy[0]).toBeCloseTo(xy[0], 4);
    expect(embs[i].xy[1]).toBeCloseTo(xy[1], 4);
    const eif = await trainEif({ ...o, eif: { n_trees: 20, subsample: 32 } });
    await expect(planAnomalyReplay(episode, eif.sidecarPath)).rejects.toThrow(/no latent space/);
  });

  it("replay: events wait for their time at the given speed", async () => {
    const e = { type: "phase" as const, episode_id: "e", t_s: 0, phase: "clean" };
    const schedule = [0, 0.5, 1].map((due_s) => ({ due_s, event: e }));
    const seen: number[] = [];
    const t0 = performance.now();
    await runSchedule(schedule, 10, async () => {
      seen.push(performance.now() - t0);
      return true;
    });
    expect(seen).toHaveLength(3);
    expect(seen[2]).toBeGreaterThanOrEqual(95);
    const abort = new AbortController();
    abort.abort();
    expect(await runSchedule(schedule, 10, async () => true, abort.signal)).toBe(0);
  });

  it("perf: measured latency and throughput for every checkpoint", async () => {
    const r = await measurePerf({ artifacts, store: fx.store, acceptance: fx.acceptance, episodes: 2, calls: 10, threads: 1 });
    expect(r.failures).toEqual([]);
    expect(r.events.map((e) => `${e.model}_${e.mode}`).sort()).toEqual(["gbt_realistic", "gru_realistic"]);
    for (const e of r.events) {
      expect(validateEvent(e).ok).toBe(true);
      expect(e.latency_ms.p50).toBeGreaterThan(0);
      expect(e.latency_ms.p99).toBeGreaterThanOrEqual(e.latency_ms.p50);
      expect(e.windows_per_s).toBeGreaterThan(0);
      expect(e.params).toBeGreaterThan(0);
    }
    expect(r.windows).toBeGreaterThan(0);
  });
});

describe("publish and dashboard commands", () => {
  it("publish: dry runs print valid events; usage errors exit 2; a missing token file exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-pubcli-"));
    const m = sampleComparison().models[0];
    writeFileSync(join(dir, `${m.model}_${m.mode}_eval.json`), JSON.stringify(m));
    const dry = await runCli(["publish", "metrics", "--reports", dir, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(validateEvent(JSON.parse(dry.stdout.trim())).ok).toBe(true);
    const noToken = await runCli(["publish", "metrics", "--reports", dir, "--token-file", join(dir, "absent"), "--url", "http://127.0.0.1:9"]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/cannot read the token file/);
    expect((await runCli(["publish", "replay", "--episode", "x.tar.zst", "--model", "m.ckpt.json", "--speed", "fast"])).code).toBe(2);
    expect((await runCli(["publish", "profiles", "--store", fx.store, "--acceptance", fx.acceptance, "--interval", "-1"])).code).toBe(2);
    expect((await runCli(["dashboard", "serve", "--port", "70000"])).code).toBe(2);
  });

  it("dashboard serve: creates the 0600 token file, prints its path, logs, stops gracefully on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cis490-serve-"));
    const tokenFile = join(dir, "token");
    const log = join(dir, "events.jsonl");
    const child = spawn(process.execPath, ["bin/cis490", "dashboard", "serve", "--port", "0", "--token-file", tokenFile, "--log", log], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
    const end = Date.now() + 20_000;
    while (!/logging accepted events/.test(stdout) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(stdout).toContain(`token created in ${tokenFile} (mode 0600)`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const url = /dashboard \(live\) on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)![1];
    const token = readFileSync(tokenFile, "utf8").trim();
    const res = await fetch(`${url}publish`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ type: "phase", episode_id: "e", t_s: 0, phase: "clean" }) });
    expect(res.status).toBe(202);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/stopped: 1 event\(s\) accepted, 0 rejected/);
    expect(readFileSync(log, "utf8").trim().split("\n")).toHaveLength(1);
  });
});
