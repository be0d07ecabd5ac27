/** A folder with only pytorch_model.bin (as many Hub repos publish) loads to the very same model as model.safetensors. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { LongformerForSequenceClassification } from "../../../src/models/longformer";
import { fixturePath, tempDir } from "../../helpers";
import { LONGFORMER_CASES, batchOf, caseDir, disposeBatch, loadCase } from "./fixtures";

/** A folder holding the case's config.json and pytorch_model.bin only. */
function binOnlyFolder(name: string): string {
  const dir = tempDir("tsml-bin-");
  for (const file of ["config.json", "pytorch_model.bin"]) fs.copyFileSync(path.join(caseDir(name), file), path.join(dir, file));
  return dir;
}

describe("Longformer from pytorch_model.bin", () => {
  for (const name of LONGFORMER_CASES) {
    it(`${name}: every parameter and the logits equal those loaded from model.safetensors exactly`, () => {
      const before = tf.memory().numTensors;
      const fromBin = LongformerForSequenceClassification.fromFolder(binOnlyFolder(name));
      const fromSafetensors = LongformerForSequenceClassification.fromFolder(caseDir(name));
      const a = fromBin.weights();
      const b = fromSafetensors.weights();
      assert.equal(a.size, 53);
      assert.deepEqual([...a.keys()], [...b.keys()]);
      for (const [param, value] of b) assert.deepEqual(a.get(param)!.data, value.data, param);
      const batch = batchOf(loadCase(name).inputs);
      const [la, lb] = [fromBin.forward(batch), fromSafetensors.forward(batch)];
      assert.deepEqual(Array.from(la.dataSync()), Array.from(lb.dataSync()));
      assert.equal(la.size, loadCase(name).inputs.input_ids.length * 2);
      tf.dispose([la, lb]);
      disposeBatch(batch);
      fromBin.dispose();
      fromSafetensors.dispose();
      assert.equal(tf.memory().numTensors, before, "no tensor leak");
    });
  }

  it("a legacy-format (torch < 1.6) pytorch_model.bin gives the same logits as model.safetensors", () => {
    const dir = tempDir("tsml-bin-");
    fs.copyFileSync(path.join(caseDir("a_default_global"), "config.json"), path.join(dir, "config.json"));
    fs.copyFileSync(fixturePath("torch-checkpoints", "longformer_a_legacy.bin"), path.join(dir, "pytorch_model.bin"));
    const batch = batchOf(loadCase("a_default_global").inputs);
    const [legacy, reference] = [
      LongformerForSequenceClassification.fromFolder(dir),
      LongformerForSequenceClassification.fromFolder(caseDir("a_default_global")),
    ];
    const [la, lb] = [legacy.forward(batch), reference.forward(batch)];
    assert.equal(la.size, 4);
    assert.deepEqual(Array.from(la.dataSync()), Array.from(lb.dataSync()));
    tf.dispose([la, lb]);
    disposeBatch(batch);
    legacy.dispose();
    reference.dispose();
  });

  it("a folder with neither weights file says so", () => {
    const dir = tempDir();
    fs.copyFileSync(path.join(caseDir("a_default_global"), "config.json"), path.join(dir, "config.json"));
    assert.throws(() => LongformerForSequenceClassification.fromFolder(dir), /neither model\.safetensors nor pytorch_model\.bin found in/);
  });
});
