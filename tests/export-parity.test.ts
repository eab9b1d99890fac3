// `cis490 export` for every model kind: a tiny model trained on the toy set
// (tests/helpers/train-toy.ts), exported, loaded by onnxruntime-node, and
// compared with the training engine on the same roughened windows at batch
// sizes 1, 7 and 64: max |dp| <= 1e-5 and the same argmax everywhere.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPORTABLE_KINDS, exportCheckpoint } from "../src/deploy/export.js";
import { OnnxModel } from "../src/deploy/session.js";
import { trainModel } from "../src/train/run.js";
import { MODEL_KINDS, type CheckpointSidecar } from "../src/train/types.js";
import { loadWindowSet, type WindowSet } from "../src/train/windows.js";
import { engineProba, expectOnnxMatchesEngine, readInputs } from "./helpers/export-parity.js";
import { makeToy, quick, type Toy } from "./helpers/train-toy.js";

const root = mkdtempSync(join(tmpdir(), "cis490-export-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let toy: Toy;
let windows: WindowSet;
beforeAll(async () => {
  toy = await makeToy(join(root, "toy"));
  const val = await loadWindowSet(toy.features, toy.split, "val");
  const test = await loadWindowSet(toy.features, toy.split, "test");
  // 144 windows: batch 64 runs two full batches and a partial one.
  windows = {
    episode_id: [...val.episode_id, ...test.episode_id],
    window: Int32Array.from([...val.window, ...test.window]),
    host_id: [...val.host_id, ...test.host_id],
    profile: [...val.profile, ...test.profile],
    label: Int32Array.from([...val.label, ...test.label]),
    t_center_s: Float64Array.from([...val.t_center_s, ...test.t_center_s]),
    infecting_start_s: Float64Array.from([...val.infecting_start_s, ...test.infecting_start_s]),
  };
});

// onnx.checker (Debian's python3-onnx) as a second reader: only standard ops, a well-formed file.
const pythonOnnx = spawnSync("/usr/bin/python3", ["-c", "import onnx"]).status === 0;

describe("export parity: onnxruntime vs the training engine", () => {
  for (const kind of EXPORTABLE_KINDS) {
    it(`${kind}`, async () => {
      const out = join(root, `models-${kind}`);
      const neural = { epochs: 4, batch_size: 32, lr: 3e-3, hidden: 16, layers: 2, heads: 4, patience: 0 };
      const r = await trainModel(quick(toy, kind, out, { neural, gbt: { rounds: 15, max_depth: 3, eta: 0.3, early_stopping_rounds: 0 } }));
      const onnxPath = join(out, `${kind}.onnx`);
      const ex = await exportCheckpoint(r.sidecarPath, onnxPath);
      expect(ex.metadata.feature_schema_hash).toBe(toy.schema.hash);
      expect(ex.metadata.kind).toBe(kind);
      expect(ex.metadata.classes).toHaveLength(6);
      // The default schema's metadata is what it was before schema options could travel in it.
      expect(Object.keys(ex.metadata)).toEqual(["format", "kind", "mode", "feature_schema_hash", "classes", "input", "channels", "model_channels", "window", "checkpoint_sha256", "weights_sha256", "cis490_version"]);

      const sc = JSON.parse(readFileSync(r.sidecarPath, "utf8")) as CheckpointSidecar;
      const inputs = await readInputs(sc, toy.features, toy.tensors, windows);
      const expected = await engineProba(r.sidecarPath, inputs);
      const model = await OnnxModel.load(onnxPath);
      try {
        await expectOnnxMatchesEngine(model, inputs, expected, [1, 7, 64]);
      } finally {
        await model.close();
      }
      if (pythonOnnx) {
        const check = spawnSync("/usr/bin/python3", ["-c", "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(m.opset_import)", onnxPath], { encoding: "utf8" });
        expect(check.status, check.stderr).toBe(0);
      }
    });
  }
});

describe("every model kind has an exporter", () => {
  it("EXPORTABLE_KINDS covers MODEL_KINDS (a new kind needs its graph, or export refuses it)", () => {
    expect([...EXPORTABLE_KINDS].sort()).toEqual([...MODEL_KINDS].sort());
  });
  it("an unknown kind is refused with a clear message, not exported half-way", async () => {
    const out = join(root, "models-unknown");
    const r = await trainModel(quick(toy, "gbt", out, { gbt: { rounds: 2, max_depth: 2, eta: 0.3, early_stopping_rounds: 0 } }));
    const sc = JSON.parse(readFileSync(r.sidecarPath, "utf8")) as CheckpointSidecar;
    const forged = join(out, "forged.ckpt.json");
    writeFileSync(forged, JSON.stringify({ ...sc, kind: "rocket9000" }));
    const onnxPath = join(out, "forged.onnx");
    await expect(exportCheckpoint(forged, onnxPath)).rejects.toThrow(/unknown model kind "rocket9000"/);
    expect(existsSync(onnxPath)).toBe(false);
  });
});
