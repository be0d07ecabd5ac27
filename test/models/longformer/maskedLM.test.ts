/**
 * LongformerForMaskedLM against Hugging Face's own (test/fixtures/longformer-hf/m_masked_lm): logits, loss
 * over the labelled positions and the gradient of every parameter including the tied word embeddings, on
 * the default (WASM) and cpu backends; tied-weight checkpoint I/O; a classifier from the pretrained encoder.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../../src/backend";
import { readSafetensorsFile, writeSafetensorsFile } from "../../../src/io";
import { LongformerForMaskedLM, MASKED_LM_IGNORE_INDEX, maskedLMLossSum } from "../../../src/models/longformer";
import { restoresBackend } from "../../backends";
import { tempDir } from "../../helpers";
import { batchOf, caseDir, disposeBatch, loadFloatTensors, maxAbsDiff } from "./fixtures";
import type { FixtureInputs } from "./fixtures";

const CASE = "m_masked_lm";
/** README tolerances (float32). */
const TOL = { logits: 1e-4, loss: 1e-5, gradAbs: 1e-4, gradRel: 1e-3 };

interface MaskedLMInputs extends Omit<FixtureInputs, "labels"> {
  labels: number[][];
}

function loadMaskedCase(): { inputs: MaskedLMInputs; expected: { loss: number; logits: number[][][] } } {
  const dir = caseDir(CASE);
  return {
    inputs: JSON.parse(fs.readFileSync(path.join(dir, "inputs.json"), "utf-8")),
    expected: JSON.parse(fs.readFileSync(path.join(dir, "expected.json"), "utf-8")),
  };
}

function checkAgainstHF(model: LongformerForMaskedLM): void {
  const { inputs, expected } = loadMaskedCase();
  const refGrads = loadFloatTensors(CASE, "grads.safetensors");
  const batch = batchOf({ ...inputs, labels: [] });
  const labels = tf.tensor2d(inputs.labels, undefined, "int32");
  try {
    const logits = model.forward(batch);
    assert.deepStrictEqual(logits.shape, [2, 37, 100]);
    const d = maxAbsDiff(logits.dataSync(), expected.logits.flat(2));
    assert.ok(d <= TOL.logits, `logits differ by ${d}`);
    logits.dispose();

    const { value, grads } = tf.variableGrads(() => model.loss(batch, labels), model.trainableVariables());
    assert.ok(Math.abs(value.dataSync()[0] - expected.loss) <= TOL.loss, `loss ${value.dataSync()[0]} vs HF ${expected.loss}`);
    const params = model.namedParameters();
    assert.strictEqual(params.length, refGrads.size, "one gradient per HF parameter (the tied decoder weight is the embedding)");
    let zeroGlobal = 0;
    for (const [hfName, variable] of params) {
      const ref = refGrads.get(hfName);
      assert.ok(ref, `HF has no gradient named ${hfName}`);
      // Without global attention the *_global projections are unused: no gradient here, exactly 0 in HF.
      const got = grads[variable.name]?.dataSync() ?? new Float32Array(ref.data.length);
      if (!grads[variable.name]) {
        assert.match(hfName, /_global\./, `${hfName} got no gradient`);
        assert.ok(
          ref.data.every((x) => x === 0),
          `${hfName}: HF gradient is not zero`,
        );
        zeroGlobal++;
      }
      assert.strictEqual(got.length, ref.data.length, hfName);
      for (let i = 0; i < got.length; i++) {
        const allowed = TOL.gradAbs + TOL.gradRel * Math.abs(ref.data[i]);
        if (!(Math.abs(got[i] - ref.data[i]) <= allowed)) assert.fail(`grad ${hfName}[${i}] = ${got[i]}, HF ${ref.data[i]}`);
      }
    }
    assert.strictEqual(zeroGlobal, 2 * 6, "2 layers x 3 global projections x (weight, bias) have no gradient");
    tf.dispose([value, ...Object.values(grads)]);
  } finally {
    disposeBatch(batch);
    labels.dispose();
  }
}

describe("LongformerForMaskedLM equals Hugging Face's", () => {
  before(async () => {
    await initBackend();
  });

  for (const backend of ["default", "cpu"]) {
    describe(`on the ${backend} backend`, () => {
      restoresBackend(backend === "cpu" ? "cpu" : undefined);
      it("logits, loss over labelled positions and every gradient (tied embedding summed over both uses)", () => {
        const model = LongformerForMaskedLM.fromFolder(caseDir(CASE));
        const before = tf.memory().numTensors;
        try {
          checkAgainstHF(model);
          assert.strictEqual(tf.memory().numTensors, before, "no tensor leaks");
        } finally {
          model.dispose();
        }
      });
    });
  }

  it("the loss ignores -100 positions: changing their logits changes nothing", () => {
    const logits = tf.randomNormal([1, 4, 5], 0, 1, "float32", 3);
    const shifted = tf.tidy(() =>
      tf.add(
        logits,
        tf.tensor3d([
          [
            [0, 0, 0, 0, 0],
            [9, 1, 2, 3, 4],
            [0, 0, 0, 0, 0],
            [5, 5, 1, 0, 2],
          ],
        ]),
      ),
    );
    const labels = tf.tensor2d([[2, MASKED_LM_IGNORE_INDEX, 4, MASKED_LM_IGNORE_INDEX]], undefined, "int32");
    const a = maskedLMLossSum(logits, labels);
    const b = maskedLMLossSum(shifted, labels);
    assert.strictEqual(a.count, 2);
    assert.strictEqual(a.lossSum.dataSync()[0], b.lossSum.dataSync()[0]);
    // Closed form at one position: -log softmax(row)[label].
    const rows = (logits.arraySync() as number[][][])[0];
    const nll = (row: number[], k: number) => Math.log(row.reduce((s, x) => s + Math.exp(x), 0)) - row[k];
    assert.ok(Math.abs(a.lossSum.dataSync()[0] - (nll(rows[0], 2) + nll(rows[2], 4))) < 1e-5);
    assert.throws(() => maskedLMLossSum(logits, tf.tensor2d([[5, -100, 0, 0]], undefined, "int32")), /label 5 at flat position 0 .*\[0, 5\)/);
    tf.dispose([logits, shifted, labels, a.lossSum, b.lossSum]);
  });

  it("asTrainableModel: the Trainer's loss is the model's, its classes are the labelled tokens, no tensor leaks", () => {
    const { inputs } = loadMaskedCase();
    const model = LongformerForMaskedLM.fromFolder(caseDir(CASE));
    const batch = { ...batchOf({ ...inputs, labels: [] }), labels: tf.tensor2d(inputs.labels, undefined, "int32") };
    const labelled = inputs.labels.flat().filter((label) => label !== MASKED_LM_IGNORE_INDEX);
    try {
      const trainable = model.asTrainableModel();
      const before = tf.memory().numTensors;
      const direct = model.lossSum(batch, batch.labels);
      const viaTrainer = trainable.lossSum(batch, false);
      assert.strictEqual(viaTrainer.count, labelled.length);
      assert.strictEqual(viaTrainer.lossSum.dataSync()[0], direct.lossSum.dataSync()[0]);
      const logits = trainable.predictLogits(batch);
      const labels = trainable.labels(batch);
      assert.deepStrictEqual(logits.shape, [labelled.length, model.config.vocab_size]);
      assert.deepStrictEqual(Array.from(labels.dataSync()), labelled);
      tf.dispose([direct.lossSum, viaTrainer.lossSum, logits, labels]);
      assert.strictEqual(tf.memory().numTensors, before);
    } finally {
      disposeBatch(batch);
      tf.dispose(batch.labels);
      model.dispose();
    }
  });

  it("saves as HF does (no decoder weight, bias under both names) and loads back exactly (fromPretrained of a folder)", async () => {
    const model = LongformerForMaskedLM.fromFolder(caseDir(CASE));
    const dir = tempDir();
    try {
      model.savePretrained(dir);
      const saved = readSafetensorsFile(path.join(dir, "model.safetensors"));
      const original = readSafetensorsFile(path.join(caseDir(CASE), "model.safetensors"));
      assert.deepStrictEqual([...saved.tensors.keys()].sort(), [...original.tensors.keys()].sort(), "same tensor names as HF's save");
      const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf-8"));
      assert.deepStrictEqual(config.architectures, ["LongformerForMaskedLM"]);
      const again = await LongformerForMaskedLM.fromPretrained(dir);
      for (const [name, { data }] of model.weights()) assert.deepStrictEqual(again.weights().get(name)!.data, data, name);
      again.dispose();
    } finally {
      model.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("accepts a stored decoder weight equal to the embeddings and rejects a differing one, naming both", () => {
    const dir = tempDir();
    try {
      fs.copyFileSync(path.join(caseDir(CASE), "config.json"), path.join(dir, "config.json"));
      const original = readSafetensorsFile(path.join(caseDir(CASE), "model.safetensors"));
      const tensors: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
      for (const [name, entry] of original.tensors)
        tensors[name] = { dtype: "F32", shape: entry.shape, data: loadFloatTensors(CASE, "model.safetensors").get(name)!.data };
      const embeddings = tensors["longformer.embeddings.word_embeddings.weight"];
      tensors["lm_head.decoder.weight"] = { ...embeddings, data: embeddings.data.slice() };
      writeSafetensorsFile(path.join(dir, "model.safetensors"), tensors);
      LongformerForMaskedLM.fromFolder(dir).dispose();
      tensors["lm_head.decoder.weight"].data[7] += 1;
      tensors["lm_head.decoder.bias"] = { ...tensors["lm_head.bias"], data: tensors["lm_head.bias"].data.map((x) => x + 1) };
      writeSafetensorsFile(path.join(dir, "model.safetensors"), tensors);
      assert.throws(
        () => LongformerForMaskedLM.fromFolder(dir),
        (e: Error) => {
          assert.match(e.message, /model\.safetensors: 2 weight problem\(s\) for LongformerForMaskedLM/);
          assert.match(e.message, /conflict: lm_head\.decoder\.weight and longformer\.embeddings\.word_embeddings\.weight are one tied parameter/);
          assert.match(e.message, /conflict: lm_head\.bias and lm_head\.decoder\.bias are one tied parameter/);
          return true;
        },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("toSequenceClassifier keeps the encoder exactly and adds a fresh seeded head", () => {
    const lm = LongformerForMaskedLM.fromFolder(caseDir(CASE));
    const a = lm.toSequenceClassifier({ numLabels: 3, seed: 5 });
    const b = lm.toSequenceClassifier({ numLabels: 3, seed: 5 });
    const c = lm.toSequenceClassifier({ numLabels: 3, seed: 6 });
    try {
      assert.strictEqual(a.config.num_labels, 3);
      const lmWeights = lm.weights();
      const aWeights = a.weights();
      let encoder = 0;
      for (const [name, { data }] of aWeights) {
        if (name.startsWith("longformer.")) {
          assert.deepStrictEqual(data, lmWeights.get(name)!.data, name);
          encoder++;
        }
      }
      assert.strictEqual(encoder, [...lmWeights.keys()].filter((n) => n.startsWith("longformer.")).length);
      assert.deepStrictEqual(aWeights.get("classifier.out_proj.weight")!.shape, [3, 32]);
      assert.deepStrictEqual(aWeights.get("classifier.dense.weight"), b.weights().get("classifier.dense.weight"), "same seed, same head");
      assert.notDeepStrictEqual(aWeights.get("classifier.dense.weight"), c.weights().get("classifier.dense.weight"), "another seed, another head");
      assert.ok(
        aWeights.get("classifier.dense.bias")!.data.every((x) => x === 0),
        "HF init: biases 0",
      );
      // Training the classifier leaves the masked-LM model untouched (weights were copied).
      const v = a.namedParameters().find(([n]) => n === "longformer.embeddings.word_embeddings.weight")![1];
      v.assign(tf.zerosLike(v));
      assert.deepStrictEqual(
        lm.weights().get("longformer.embeddings.word_embeddings.weight")!.data,
        lmWeights.get("longformer.embeddings.word_embeddings.weight")!.data,
      );
    } finally {
      [lm, a, b, c].forEach((m) => m.dispose());
    }
  });

  it("create() draws HF's init, seeded: LayerNorm 1/0, biases 0, padding row 0", () => {
    const config = {
      vocab_size: 50,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      attention_window: 4,
      max_position_embeddings: 40,
    };
    const a = LongformerForMaskedLM.create(config, { seed: 1 });
    const b = LongformerForMaskedLM.create(config, { seed: 1 });
    try {
      const w = a.weights();
      assert.deepStrictEqual(w, b.weights());
      assert.ok(w.get("lm_head.layer_norm.weight")!.data.every((x) => x === 1));
      assert.ok(w.get("lm_head.bias")!.data.every((x) => x === 0));
      assert.ok(
        w
          .get("longformer.embeddings.word_embeddings.weight")!
          .data.slice(16, 32)
          .every((x) => x === 0),
      );
      assert.ok(!w.has("lm_head.decoder.weight"));
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
