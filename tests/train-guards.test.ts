// What `cis490 train` refuses or handles: schema mismatches at load time,
// the realistic mask (checked on what actually reaches the engine), missing
// tensor shards, an all-NaN channel, the test side (never read), a class
// absent from training, a split from another features file, and the CLI's
// exit codes.

import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANNELS, FEATURE_NAMES } from "../src/features/channels.js";
import { buildFeatureSchema } from "../src/features/schema.js";
import { TENSOR_INDEX_FILE } from "../src/features/tensor-shards.js";
import { writeParquet } from "../src/io/parquet.js";
import { loadCheckpoint, SchemaMismatchError } from "../src/train/checkpoint.js";
import type { StepModel } from "../src/train/loop.js";
import { trainModel } from "../src/train/run.js";
import { TrainError, type ModelKind } from "../src/train/types.js";
import { loadWindowSet } from "../src/train/windows.js";
import { Table, Utf8, vectorFromArray } from "apache-arrow";
import { runCli } from "./helpers/cli.js";
import { HZ, makeToy, quick, signalChannels, T, type Toy } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-train-guards-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const REALISTIC_CHANNELS = CHANNELS.filter((c) => c.deployed).length; // 29
const asSchema = (s: unknown) => s as { hash: string } & Record<string, unknown>;

let toy: Toy;
beforeAll(async () => {
  toy = await makeToy(join(root, "toy"));
});

describe("schema pinning", () => {
  it("loadCheckpoint refuses features made under another schema, naming both hashes and the change", async () => {
    const r = await trainModel(quick(toy, "gbt", join(root, "schema"), { gbt: { rounds: 5, max_depth: 2 } }));
    const other = buildFeatureSchema({ channels: [...CHANNELS], stats: ["mean", "std", "p50", "p95", "slope"], window_s: 5, stride_s: 2, hz: HZ });
    expect(other.hash).not.toBe(toy.schema.hash);
    const attempt = loadCheckpoint(r.sidecarPath, asSchema(other));
    await expect(attempt).rejects.toBeInstanceOf(SchemaMismatchError);
    await expect(attempt).rejects.toThrow(toy.schema.hash);
    await expect(attempt).rejects.toThrow(other.hash);
    await expect(attempt).rejects.toThrow(/window_s 2 -> 5/);
    await expect(attempt).rejects.toThrow(/tensor_len 10 -> 25/);

    // A reordered channel list is named by index.
    const swapped = [...CHANNELS];
    [swapped[3], swapped[4]] = [swapped[4], swapped[3]];
    const reordered = buildFeatureSchema({ channels: swapped, stats: ["mean", "std", "p50", "p95", "slope"], window_s: 2, stride_s: 2, hz: HZ });
    await expect(loadCheckpoint(r.sidecarPath, asSchema(reordered))).rejects.toThrow(/channel list differs at index 3: proc.vsize_bytes .* -> proc.io_read_bytes/);

    // The matching schema loads; a missing or replaced weights file is a clear error.
    await expect(loadCheckpoint(r.sidecarPath, asSchema(toy.schema))).resolves.toBeTruthy();
    writeFileSync(r.weightsPath, readFileSync(r.weightsPath, "utf8") + " ");
    await expect(loadCheckpoint(r.sidecarPath, asSchema(toy.schema))).rejects.toThrow(/sha256/);
    rmSync(r.weightsPath);
    await expect(loadCheckpoint(r.sidecarPath, asSchema(toy.schema))).rejects.toThrow(/weights file .* missing/);
  });
});

describe("realistic mode", () => {
  /** Records the per-sample width of every input that reaches the engine. */
  function spy(): { wrap: (m: StepModel) => StepModel; widths: Set<number>; maskWidths: Set<number>; calls: number } {
    const s = {
      widths: new Set<number>(),
      maskWidths: new Set<number>(),
      calls: 0,
      wrap: (m: StepModel): StepModel => ({
        trainStep: (x, mask, y, w, lr, clip) => {
          s.calls++;
          s.widths.add(x.length / y.length);
          if (mask) s.maskWidths.add(mask.length / y.length);
          return m.trainStep(x, mask, y, w, lr, clip);
        },
        predictProba: (x, mask) => m.predictProba(x, mask),
        save: (p) => m.save(p),
      }),
    };
    return s;
  }

  it("a realistic sequence model's inputs have 29 channels, in training and at inference", async () => {
    const s = spy();
    const r = await trainModel(quick(toy, "cnn", join(root, "mask"), { wrapModel: s.wrap, neural: { epochs: 2, batch_size: 32, hidden: 16, layers: 1 } }));
    expect(s.calls).toBeGreaterThan(0);
    expect([...s.widths]).toEqual([REALISTIC_CHANNELS * T]);
    expect([...s.maskWidths]).toEqual([REALISTIC_CHANNELS * T]);
    const sc = r.sidecar;
    expect(sc.training.input_shape).toEqual([REALISTIC_CHANNELS, T]);
    expect(sc.training.inputs.every((n) => CHANNELS.find((c) => c.name === n)!.deployed)).toBe(true);
    expect(sc.channel_mask.reduce((a, b) => a + b, 0)).toBe(REALISTIC_CHANNELS);
    expect(sc.feature_mask.reduce((a, b) => a + b, 0)).toBe(145);
    expect(sc.standardisation!.mean).toHaveLength(REALISTIC_CHANNELS);

    // At inference too (the checkpoint's mask decides what is read).
    const widths = new Set<number>();
    const model = await loadCheckpoint(r.sidecarPath, asSchema(toy.schema), {
      threads: 1,
      wrap: (m) => ({ ...m, trainStep: m.trainStep.bind(m), save: m.save.bind(m), predictProba: (x, mask) => (widths.add(x.length), m.predictProba(x, mask)) }),
    });
    const test = await loadWindowSet(toy.features, toy.split, "test");
    await model.predictProba(toy.features, toy.tensors, test);
    for (const w of widths) expect(w % (REALISTIC_CHANNELS * T)).toBe(0);

    // A sidecar whose mask was edited to let an oracle channel in is refused.
    const doc = JSON.parse(readFileSync(r.sidecarPath, "utf8"));
    doc.channel_mask[0] = 1;
    writeFileSync(r.sidecarPath, JSON.stringify(doc));
    await expect(loadCheckpoint(r.sidecarPath, asSchema(toy.schema))).rejects.toThrow(/not the realistic mode's .*proc.cpu_user_jiffies/);
  });

  it("a realistic mlp reads 145 features", async () => {
    const s = spy();
    const r = await trainModel(quick(toy, "mlp", join(root, "mask-mlp"), { wrapModel: s.wrap, neural: { epochs: 1, batch_size: 32, hidden: 16, layers: 1 } }));
    expect([...s.widths]).toEqual([145]);
    expect(r.sidecar.training.inputs).toEqual(FEATURE_NAMES.filter((n) => CHANNELS.find((c) => n.startsWith(c.name + "."))!.deployed));
  });

  it("when only oracle channels carry the signal, realistic models stay near chance and oracle models do not", async () => {
    const oracleToy = await makeToy(join(root, "oracle-toy"), { oracleOnly: true, seed: 9 });
    expect(signalChannels(true).every((c) => !CHANNELS[c].deployed)).toBe(true);
    for (const kind of ["gbt", "cnn"] as ModelKind[]) {
      const real = await trainModel(quick(oracleToy, kind, join(root, `oracle-${kind}`), { mode: "realistic" }));
      const orac = await trainModel(quick(oracleToy, kind, join(root, `oracle-${kind}`), { mode: "oracle" }));
      expect(real.sidecar.best.val_macro_f1).toBeLessThan(0.45);
      expect(orac.sidecar.best.val_macro_f1).toBeGreaterThan(0.8);
      expect(real.sidecar.training.input_shape[0]).toBe(kind === "gbt" ? 145 : REALISTIC_CHANNELS);
      expect(orac.sidecar.training.input_shape[0]).toBe(kind === "gbt" ? 230 : 46);
    }
  });
});

describe("bad input", () => {
  it("a sequence model without tensor shards is a clear error", async () => {
    const t2 = join(root, "no-tensors");
    cpSync(toy.dir, t2, { recursive: true });
    rmSync(join(t2, "tensors"), { recursive: true });
    const opts = { ...quick(toy, "gru", join(root, "out-no-tensors")), features: join(t2, "features_window.parquet"), split: join(t2, "split_host.parquet"), tensors: join(t2, "tensors") };
    await expect(trainModel(opts)).rejects.toThrow(TrainError);
    await expect(trainModel(opts)).rejects.toThrow(/no tensor shards .*cis490 features .*--tensors/);
    await expect(trainModel({ ...opts, tensors: null })).rejects.toThrow(/reads tensor shards: pass --tensors/);
  });

  it("tensor shards that lack some windows are named", async () => {
    const t3 = join(root, "partial-tensors");
    cpSync(toy.dir, t3, { recursive: true });
    const indexPath = join(t3, "tensors", TENSOR_INDEX_FILE);
    const index = JSON.parse(readFileSync(indexPath, "utf8"));
    index.files = index.files.filter((f: { host: string }) => f.host !== "h1");
    writeFileSync(indexPath, JSON.stringify(index));
    const opts = { ...quick(toy, "gru", join(root, "out-partial")), features: join(t3, "features_window.parquet"), split: join(t3, "split_host.parquet"), tensors: join(t3, "tensors") };
    await expect(trainModel(opts)).rejects.toThrow(/window\(s\) are missing from the tensor shards .*ep-h1-0 window 0, host h1/);
  });

  it("a channel with no finite value anywhere is reported and handled", async () => {
    const nanChannel = CHANNELS.findIndex((c) => c.name === "guest.swap_used");
    const nanToy = await makeToy(join(root, "nan-toy"), { nanChannel, seed: 4 });
    for (const kind of ["gbt", "mlp", "gru"] as ModelKind[]) {
      const r = await trainModel(quick(nanToy, kind, join(root, `nan-${kind}`)));
      expect(r.sidecar.best.val_macro_f1).toBeGreaterThan(0.6);
      expect(r.sidecar.training.warnings.some((w) => w.includes("guest.swap_used") && w.includes("no finite"))).toBe(true);
      if (kind !== "gbt") {
        const at = r.sidecar.training.inputs.findIndex((n) => n.startsWith("guest.swap_used"));
        expect(r.sidecar.standardisation!.std[at]).toBe(0); // dropped: always fed as missing
      }
      const model = await loadCheckpoint(r.sidecarPath, asSchema(nanToy.schema));
      const p = await model.predictProba(nanToy.features, nanToy.tensors, await loadWindowSet(nanToy.features, nanToy.split, "test"));
      expect(Array.from(p).every(Number.isFinite)).toBe(true);
    }
  });

  it("a class present in val but absent from train is an error unless allowed", async () => {
    const t = await makeToy(join(root, "missing-class"), { dropClassFromTrain: 5, seed: 2 });
    await expect(trainModel(quick(t, "gbt", join(root, "mc")))).rejects.toThrow(/missing from the training side .*failed \(val 12 windows\).*--allow-missing-class/);
    const r = await trainModel(quick(t, "gbt", join(root, "mc"), { allowMissingClass: true, gbt: { rounds: 5 } }));
    expect(r.sidecar.training.warnings.join(" ")).toMatch(/absent from training.*failed/);
    expect(r.sidecar.training.class_counts_train[5]).toBe(0);
  });

  it("a split made from another features file is refused", async () => {
    const t = join(root, "foreign-split");
    cpSync(toy.dir, t, { recursive: true });
    const split = join(t, "split_host.parquet");
    const utf8 = new Utf8();
    await writeParquet(
      split,
      new Table({
        episode_id: vectorFromArray(["ep-zz-0", "ep-h0-0"], utf8),
        host_id: vectorFromArray(["zz", "h0"], utf8),
        profile: vectorFromArray(["x", "x"], utf8),
        sample_name: vectorFromArray(["x", "x"], utf8),
        split: vectorFromArray(["train", "val"], utf8),
      }),
    );
    await expect(trainModel({ ...quick(toy, "gbt", join(root, "fs")), features: join(t, "features_window.parquet"), split })).rejects.toThrow(/does not cover \d+ episode\(s\).*was it made from this features file/);
    await expect(trainModel({ ...quick(toy, "gbt", join(root, "fs")), split: join(root, "nope.parquet") })).rejects.toThrow(/split file not found/);
  });
});

describe("the test side is never read", () => {
  it("garbage in the test rows and deleted test shards change nothing", async () => {
    const poisoned = await makeToy(join(root, "poisoned"), { poisonTest: true });
    // The test host's tensor shards are gone from disk (still listed in the index).
    const hostDir = join(poisoned.tensors, "host=h5");
    expect(readdirSync(hostDir).length).toBeGreaterThan(0);
    rmSync(hostDir, { recursive: true });
    for (const kind of ["gbt", "mlp", "cnn"] as ModelKind[]) {
      const clean = await trainModel(quick(toy, kind, join(root, `clean-${kind}`), { neural: { epochs: 3, batch_size: 32, hidden: 16, layers: 1 }, gbt: { rounds: 10 } }));
      const dirty = await trainModel(quick(poisoned, kind, join(root, `dirty-${kind}`), { neural: { epochs: 3, batch_size: 32, hidden: 16, layers: 1 }, gbt: { rounds: 10 } }));
      expect(dirty.sidecar.data.features_sha256).not.toBe(clean.sidecar.data.features_sha256);
      expect(dirty.sidecar.standardisation).toEqual(clean.sidecar.standardisation);
      expect(dirty.sidecar.history).toEqual(clean.sidecar.history.map((h, i) => ({ ...h, seconds: dirty.sidecar.history[i].seconds })));
      expect(dirty.sidecar.weights_sha256 === clean.sidecar.weights_sha256 || kind !== "gbt").toBe(true);
    }
  });
});

describe("reruns", () => {
  it("keeps a checkpoint made for exactly the same request; retrains when anything differs, or with force", async () => {
    const out = join(root, "rerun");
    const first = await trainModel(quick(toy, "gbt", out));
    expect(first.reused).toBeFalsy();
    const again = await trainModel(quick(toy, "gbt", out));
    expect(again.reused).toBe(true);
    expect(again.sidecar.weights_sha256).toBe(first.sidecar.weights_sha256);
    expect((await trainModel(quick(toy, "gbt", out, { seed: 4 }))).reused).toBeFalsy();
    expect((await trainModel(quick(toy, "gbt", out, { seed: 4, force: true }))).reused).toBeFalsy();
    // Weights changed behind the sidecar's back: never reused.
    writeFileSync(first.weightsPath, readFileSync(first.weightsPath, "utf8").replace(/}\s*$/, " }"));
    expect((await trainModel(quick(toy, "gbt", out, { seed: 4 }))).reused).toBeFalsy();
  });
});

describe("cis490 train (CLI)", () => {
  const run = runCli;

  it("trains, prints the table or JSON, and uses exit codes 0/1/2", async () => {
    const out = join(root, "cli");
    const base = ["train", "--features", toy.features, "--split", toy.split, "--out", out, "--threads", "1"];
    const ok = await run([...base, "--model", "gbt,mlp", "--mode", "realistic,oracle", "--rounds", "5", "--epochs", "2", "--batch-size", "64", "--hidden", "16"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/val macro F1/);
    expect(ok.stdout.match(/\.ckpt\.json/g)).toHaveLength(4);
    for (const name of ["gbt_realistic", "gbt_oracle", "mlp_realistic", "mlp_oracle"]) expect(existsSync(join(out, `${name}.ckpt.json`))).toBe(true);
    expect(existsSync(join(out, "gbt_realistic.xgb.json"))).toBe(true);
    expect(existsSync(join(out, "mlp_oracle.pt"))).toBe(true);
    expect(readdirSync(out).some((n) => n.includes("tmp"))).toBe(false);

    const json = await run([...base, "--model", "gbt", "--rounds", "3", "--json"]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.results[0]).toMatchObject({ model: "gbt", mode: "realistic", input_shape: [145] });

    expect((await run([...base, "--model", "svm"])).code).toBe(2);
    expect((await run([...base, "--model", "gbt", "--epochs", "0"])).code).toBe(2);
    expect((await run([...base, "--all", "--model", "gbt"])).code).toBe(2);
    const missing = await run([...base, "--model", "gru", "--tensors", join(root, "nowhere")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no tensor shards/);
  });
});
