/**
 * The study task's pipeline at a tiny size: masked-LM pretraining on the training pool (cached, an HF
 * LongformerForMaskedLM checkpoint with its TensorBoard log), then classifiers fine-tuned from that encoder
 * with fresh, seeded heads.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { getExperimentTask } from "../../src/experiments";
import "../../src/study";
import { readTensorBoardEvents } from "../../src/io";
import { LongformerForMaskedLM } from "../../src/models/longformer";
import { tempDir } from "../helpers";

const config = {
  trainExamples: 8,
  pretrainExamples: 16,
  devExamples: 4,
  testExamples: 4,
  maxLength: 64,
  attentionWindow: 16,
  hiddenSize: 16,
  vocabSize: 300,
  pretrainEpochs: 1,
  pretrainBatchSize: 4,
  pretrainLearningRate: 3e-3,
};

describe("experiments: spam-longformer masked-LM pretraining, then fine-tuning", function () {
  const cacheDir = tempDir("tsml-spam-cache-");
  after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it("pretrains once on the pool (cached) and fine-tunes classifiers from that encoder with seeded fresh heads", async () => {
    await initBackend();
    const task = getExperimentTask("spam-longformer");
    const lines: string[] = [];
    await task.prepare!(config, { cacheDir, log: (line) => lines.push(line) });
    const [folder] = fs.readdirSync(cacheDir).map((f) => path.join(cacheDir, f));
    const encoded = JSON.parse(fs.readFileSync(path.join(folder, "encoded.json"), "utf8"));
    // A stratified split of 24 e-mails into 16/4/4 may round a class by one.
    const poolSize = encoded.pretrain.ids.length;
    assert.ok(Math.abs(poolSize - 16) <= 1, `pool of ${poolSize}`);
    assert.ok(
      lines.some((l) => l.includes(`masked LM on ${poolSize} e-mails`)),
      lines.join("\n"),
    );
    assert.ok(Math.abs(encoded.train.ids.length - 8) <= 1);
    // The fine-tuning e-mails are among the pretraining pool; dev and test e-mails are not.
    const pool = new Set(encoded.pretrain.ids.map((ids: number[]) => ids.join(",")));
    assert.ok(encoded.train.ids.every((ids: number[]) => pool.has(ids.join(","))));
    assert.ok(encoded.dev.ids.length > 0 && encoded.test.ids.length > 0, "dev and test e-mails exist");
    assert.ok([...encoded.dev.ids, ...encoded.test.ids].every((ids: number[]) => !pool.has(ids.join(","))));

    const pretrainedDir = fs
      .readdirSync(folder)
      .filter((f) => f.startsWith("pretrained-mlm-"))
      .map((f) => path.join(folder, f));
    assert.equal(pretrainedDir.length, 1);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(pretrainedDir[0], "config.json"), "utf8")).architectures, ["LongformerForMaskedLM"]);
    const [events] = fs.readdirSync(path.join(pretrainedDir[0], "tensorboard"));
    assert.equal(readTensorBoardEvents(path.join(pretrainedDir[0], "tensorboard", events)).length, 1 + Math.ceil(poolSize / 4), "one event per step");
    const mlm = LongformerForMaskedLM.fromFolder(pretrainedDir[0]);
    const lmWeights = mlm.weights();
    mlm.dispose();
    // Pretraining uses no global attention: the global projections start as copies of the local ones.
    assert.deepEqual(
      lmWeights.get("longformer.encoder.layer.0.attention.self.query_global.weight"),
      lmWeights.get("longformer.encoder.layer.0.attention.self.query.weight"),
    );

    const stamp = fs.statSync(path.join(pretrainedDir[0], "model.safetensors")).mtimeMs;
    await task.prepare!(config, { cacheDir, log: () => {} });
    assert.equal(fs.statSync(path.join(pretrainedDir[0], "model.safetensors")).mtimeMs, stamp, "cached: not pretrained again");

    const before = tf.memory().numTensors;
    const a = await task.build(config, { cacheDir, seed: 1 });
    const b = await task.build(config, { cacheDir, seed: 2 });
    try {
      const named = (setup: typeof a) => new Map(setup.model.trainableVariables().map((v) => [v.name.replace(/_\d+$/, ""), Array.from(v.dataSync())]));
      const wa = named(a);
      const wb = named(b);
      const encoder = [...lmWeights].filter(([name]) => name.startsWith("longformer."));
      assert.ok(encoder.length > 10, `${encoder.length} encoder weights`);
      for (const [name, { data }] of encoder) assert.deepEqual(wa.get(name), Array.from(data), `${name} comes from the pretrained encoder`);
      assert.notDeepEqual(wa.get("classifier.dense.weight"), wb.get("classifier.dense.weight"), "the head is fresh and seeded per run");
      assert.equal(wa.get("classifier.out_proj.weight")!.length, 2 * 16);
    } finally {
      a.dispose();
      b.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  });
});
