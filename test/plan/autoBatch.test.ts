/** perDeviceBatchSize "auto": the Trainer (and a study run) chooses the batch from the plan, logs and records it. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { collectProvenance, executeRun, expandGrid } from "../../src/experiments";
import "../../src/study";
import { LongformerConfig, LongformerForSequenceClassification, type LongformerLabelledBatch } from "../../src/models/longformer";
import { estimateTrainingMemory, longformerBatchPlanner } from "../../src/plan";
import { BATCH_PLAN_FILE, Trainer, type BatchSizeChoice, type BatchSizePlanner, type TrainingData } from "../../src/train";
import { tempDir } from "../helpers";
import { arrayData, randomClassification, randomInit, softmaxRegression } from "../train/tinyModels";

const { x, y } = randomClassification(48, 4, 2, 31);

/** A planner that fits `fits` examples and records what it was asked. */
function fakePlanner(fits: number): BatchSizePlanner & { requests: unknown[] } {
  const requests: unknown[] = [];
  return {
    requests,
    plan(request) {
      requests.push(request);
      let b = Math.min(fits, request.targetEffectiveBatch);
      while (request.targetEffectiveBatch % b !== 0) b--;
      return {
        perDeviceBatchSize: b,
        gradientAccumulationSteps: request.targetEffectiveBatch / b,
        fits: fits > 0,
        predictedPeakBytes: 1000 * b,
        memoryBytes: 5000,
        explanation: `fits ${fits}`,
      };
    },
    advise: (noiseScale) => `plan for ${Math.round(noiseScale)}`,
  };
}

describe("plan/auto batch: the Trainer", function () {
  this.timeout(60_000);
  before(async () => {
    await initBackend();
  });

  it("chooses b and k from the planner, trains with b * k per step, records the choice and reuses it on resume", async () => {
    const m = softmaxRegression(randomInit(4, 2, 32));
    const outputDir = tempDir("tsml-auto-");
    const planner = fakePlanner(5);
    const args = {
      perDeviceBatchSize: "auto" as const,
      targetEffectiveBatch: 12,
      maxSteps: 2,
      saveSteps: 2,
      outputDir,
      progress: "none" as const,
      memoryBudget: "1GiB",
    };
    const trainer = new Trainer({ model: m.model, trainData: arrayData(x, y), args, batchPlanner: planner });
    assert.deepEqual([trainer.args.perDeviceBatchSize, trainer.args.gradientAccumulationSteps], [4, 3]);
    assert.deepEqual(planner.requests, [{ targetEffectiveBatch: 12, memoryBudget: "1GiB", checkpointing: false }]);
    const result = await trainer.train();
    assert.equal(result.history[result.history.length - 1].examplesSeen, 2 * 12);
    const recorded = JSON.parse(fs.readFileSync(path.join(outputDir, BATCH_PLAN_FILE), "utf8")) as BatchSizeChoice;
    assert.deepEqual(recorded, trainer.batchPlan);
    trainer.dispose();
    // Resuming with another planner (the machine changed) keeps the recorded choice.
    const other = fakePlanner(1);
    const resumed = new Trainer({ model: m.model, trainData: arrayData(x, y), args: { ...args, maxSteps: 3, resumeFrom: "last" }, batchPlanner: other });
    assert.deepEqual([resumed.args.perDeviceBatchSize, resumed.args.gradientAccumulationSteps], [4, 3]);
    assert.equal(other.requests.length, 0);
    resumed.dispose();
    m.dispose();
    fs.rmSync(outputDir, { recursive: true, force: true });
  });

  it("ends the noise-scale advice with the plan", async () => {
    const m = softmaxRegression(randomInit(4, 2, 33));
    const trainer = new Trainer({
      model: m.model,
      trainData: arrayData(x, y),
      args: { perDeviceBatchSize: 4, gradientAccumulationSteps: 3, maxSteps: 8, progress: "none", learningRate: 0.05 },
      batchPlanner: fakePlanner(4),
    });
    await trainer.train();
    const noise = trainer.noiseScale;
    assert.ok(noise !== undefined && noise > 0, `noise scale ${noise}`);
    assert.ok(trainer.advice().endsWith(`; plan for ${Math.round(noise)}`), trainer.advice());
    assert.doesNotMatch(new Trainer({ model: m.model, trainData: arrayData(x, y), args: { progress: "none" } }).advice(), /plan for/);
    trainer.dispose();
    m.dispose();
  });

  it("rejects auto without a target, without a planner, with explicit accumulation, or when nothing fits", () => {
    const m = softmaxRegression(randomInit(4, 2, 34));
    const make = (args: Record<string, unknown>, planner: BatchSizePlanner | null = fakePlanner(4)) =>
      new Trainer({ model: m.model, trainData: arrayData(x, y), args: { progress: "none", ...args }, batchPlanner: planner ?? undefined });
    assert.throws(() => make({ perDeviceBatchSize: "auto" }), /"auto" needs targetEffectiveBatch, a positive integer .*got undefined/);
    assert.throws(() => make({ perDeviceBatchSize: "auto", targetEffectiveBatch: 8 }, null), /needs a batchPlanner in the Trainer options/);
    assert.throws(
      () => make({ perDeviceBatchSize: "auto", targetEffectiveBatch: 8, gradientAccumulationSteps: 2 }),
      /chooses gradientAccumulationSteps; do not give it/,
    );
    assert.throws(() => make({ perDeviceBatchSize: "auto", targetEffectiveBatch: 8 }, fakePlanner(0)), /"auto": fits 0/);
    assert.throws(() => make({ perDeviceBatchSize: 4, targetEffectiveBatch: 8 }), /targetEffectiveBatch is used only with perDeviceBatchSize "auto"/);
    assert.throws(
      () => make({ perDeviceBatchSize: "auto", targetEffectiveBatch: 8, memoryBudget: -5 }),
      /memoryBudget must be a number of bytes > 0 or a size such as "16GiB", got -5/,
    );
    m.dispose();
  });

  it("with longformerBatchPlanner: a Longformer's batch is the largest divisor of the target under the budget", async () => {
    const config = new LongformerConfig({
      vocab_size: 200,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      attention_window: 16,
      max_position_embeddings: 130,
    });
    const length = 64;
    // A budget (after the 10% margin) between the predicted peaks of batch 3 and 4: the target 8 then needs b = 2, k = 4.
    const at = (b: number) =>
      estimateTrainingMemory({ config, sequenceLength: length, batchSize: b, accumulationSteps: 2, backend: tf.getBackend() === "wasm" ? "wasm" : "cpu" })
        .totalBytes;
    const memoryBudget = Math.floor((at(3) + at(4)) / 2 / 0.9);
    const model = LongformerForSequenceClassification.create(config, { seed: 3 });
    const ids = Array.from({ length }, (_, i) => 3 + (i % 150));
    const data: TrainingData<LongformerLabelledBatch> = {
      size: 16,
      collate: (indices) => ({
        inputIds: tf.tensor2d(
          indices.flatMap(() => ids),
          [indices.length, length],
          "int32",
        ),
        labels: tf.tensor1d(
          indices.map((i) => i % 2),
          "int32",
        ),
      }),
    };
    const before = tf.memory().numTensors;
    const trainer = new Trainer({
      model: model.asTrainableModel(),
      trainData: data,
      args: { perDeviceBatchSize: "auto", targetEffectiveBatch: 8, memoryBudget, maxSteps: 1, progress: "none" },
      batchPlanner: longformerBatchPlanner(config, length),
    });
    assert.deepEqual([trainer.args.perDeviceBatchSize, trainer.args.gradientAccumulationSteps], [2, 4]);
    assert.match(trainer.batchPlan!.explanation, /a device fits 3 examples per micro-batch/);
    await trainer.train();
    trainer.dispose();
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });

  it("in a study run (spam-longformer): the choice lands in the run's config.json and metrics", async () => {
    const [run] = expandGrid({
      task: "spam-longformer",
      taskConfig: { trainExamples: 8, devExamples: 4, testExamples: 4, maxLength: 64, attentionWindow: 16, hiddenSize: 16, vocabSize: 300 },
      training: { perDeviceBatchSize: "auto", targetEffectiveBatch: 8, memoryBudget: "256MiB", learningRate: 1e-3, epochs: 1 },
    });
    const runDir = tempDir("tsml-auto-run-");
    const metrics = await executeRun({ run, runDir, provenance: collectProvenance(), taskModules: [], cacheDir: path.join(runDir, "cache") }, () => {});
    const config = JSON.parse(fs.readFileSync(path.join(runDir, "config.json"), "utf8")) as { batchPlan: BatchSizeChoice; run: unknown };
    assert.equal(config.batchPlan.perDeviceBatchSize * config.batchPlan.gradientAccumulationSteps, 8);
    assert.ok(config.batchPlan.predictedPeakBytes <= 0.9 * 256 * 1024 ** 2);
    assert.deepEqual(
      [metrics.perDeviceBatchSize, metrics.gradientAccumulationSteps],
      [config.batchPlan.perDeviceBatchSize, config.batchPlan.gradientAccumulationSteps],
    );
    assert.equal(metrics.effectiveBatchSize, 8);
    fs.rmSync(runDir, { recursive: true, force: true });
  });
});
