import { strict as assert } from "assert";
import { LongformerConfig } from "../../src/models/longformer";
import { compileVegaLite } from "../../src/plots";
import { batchPlanChart, estimateTrainingMemory, formatBytes, parseMemorySize, planBatch, planSummary } from "../../src/plan";

const config = new LongformerConfig({
  vocab_size: 500,
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 256,
  attention_window: 64,
  max_position_embeddings: 4100,
});
const sequenceLength = 4096;

/** Bytes at which exactly `fits` examples fit under a 10% margin: halfway between fits and fits + 1, over 0.9. */
function budgetFitting(fits: number, accumulationSteps: number, checkpointing = false): number {
  const at = (b: number) => estimateTrainingMemory({ config, sequenceLength, batchSize: b, accumulationSteps, checkpointing }).totalBytes;
  return (at(fits) + at(fits + 1)) / 2 / 0.9;
}

describe("plan/plan: planBatch", () => {
  it("the issue's example: noise scale 100, a device fits 2, accumulation 6 on 8 devices", () => {
    const plan = planBatch({ config, sequenceLength, memoryBytes: budgetFitting(2, 6), noiseScale: 100, devices: 8 });
    assert.equal(plan.fits, true);
    assert.equal(plan.largestFittingBatch, 2);
    assert.equal(plan.perDeviceBatchSize, 2);
    assert.equal(plan.gradientAccumulationSteps, Math.round(100 / (2 * 8)));
    assert.equal(plan.effectiveBatchSize, 2 * 6 * 8);
    assert.equal(plan.targetEffectiveBatch, 100);
    assert.ok(plan.estimate.totalBytes <= plan.usableBytes);
    assert.equal(planSummary(plan), "at 4096 tokens your device fits 2; use batch 2 with accumulation 6 on 8 devices");
    assert.match(plan.explanation, /a device fits 2 examples per micro-batch/);
    assert.match(plan.explanation, /2 x 6 x 8 = 96 examples per optimizer step/);
  });

  it("picks the largest batch under the budget, and only batches that divide the target when exact", () => {
    const loose = planBatch({ config, sequenceLength, memoryBytes: budgetFitting(5, 2), targetEffectiveBatch: 12 });
    assert.equal(loose.largestFittingBatch, 5);
    assert.equal(loose.perDeviceBatchSize, 5);
    assert.equal(loose.gradientAccumulationSteps, 2); // round(12 / 5)
    const exact = planBatch({ config, sequenceLength, memoryBytes: budgetFitting(5, 2), targetEffectiveBatch: 12, exact: true });
    assert.deepEqual([exact.perDeviceBatchSize, exact.gradientAccumulationSteps, exact.effectiveBatchSize], [4, 3, 12]);
    // One more byte than the batch needs after the margin is enough; one fewer is not.
    const needs3 = estimateTrainingMemory({ config, sequenceLength, batchSize: 3, accumulationSteps: 1 }).totalBytes;
    assert.equal(planBatch({ config, sequenceLength, memoryBytes: (needs3 + 1) / 0.9 }).largestFittingBatch, 3);
    assert.equal(planBatch({ config, sequenceLength, memoryBytes: (needs3 - 1) / 0.9 }).largestFittingBatch, 2);
  });

  it("without a target uses the largest batch and no accumulation; the target caps the batch", () => {
    const plan = planBatch({ config, sequenceLength, memoryBytes: budgetFitting(3, 1) });
    assert.deepEqual([plan.perDeviceBatchSize, plan.gradientAccumulationSteps, plan.targetEffectiveBatch], [3, 1, undefined]);
    const capped = planBatch({ config, sequenceLength, memoryBytes: 1e12, targetEffectiveBatch: 16, devices: 8 });
    assert.deepEqual([capped.perDeviceBatchSize, capped.gradientAccumulationSteps, capped.effectiveBatchSize], [2, 1, 16]);
  });

  it("says when not even one example fits, and what to try", () => {
    const plan = planBatch({ config, sequenceLength, memoryBytes: 1024 ** 2, targetEffectiveBatch: 32 });
    assert.equal(plan.fits, false);
    assert.equal(plan.largestFittingBatch, 0);
    assert.match(plan.explanation, /not even one example fits/);
    assert.match(plan.explanation, /turn on gradient checkpointing/);
    assert.match(planSummary(plan), /not even one example fits your device's 1.00 MiB/);
  });

  it("checkpointing fits more examples into the same memory", () => {
    const memoryBytes = budgetFitting(1, 2);
    const on = planBatch({ config, sequenceLength, memoryBytes, targetEffectiveBatch: 64, checkpointing: true });
    assert.ok(on.largestFittingBatch > 1, `checkpointing fits ${on.largestFittingBatch}`);
  });

  it("rejects invalid requests naming the field", () => {
    assert.throws(() => planBatch({ config, sequenceLength: 0, memoryBytes: 1e9 }), /planBatch: sequenceLength must be a positive integer, got 0/);
    assert.throws(() => planBatch({ config, sequenceLength, memoryBytes: 1e9, devices: 1.5 }), /devices must be a positive integer, got 1.5/);
    assert.throws(() => planBatch({ config, sequenceLength, memoryBytes: -1 }), /memoryBytes must be a positive number, got -1/);
    assert.throws(() => planBatch({ config, sequenceLength, memoryBytes: 1e9, safetyMargin: 1 }), /safetyMargin must be in \[0, 1\), got 1/);
    assert.throws(() => planBatch({ config, sequenceLength, memoryBytes: 1e9, noiseScale: Number.NaN }), /noiseScale must be a positive number/);
  });

  it("charts predicted memory vs batch with the budget and the chosen batch (valid Vega-Lite)", async () => {
    const plan = planBatch({ config, sequenceLength, memoryBytes: budgetFitting(2, 6), noiseScale: 100, devices: 8 });
    const chart = batchPlanChart(plan);
    const layers = (chart.spec as unknown as { layer: { data: { values: Record<string, unknown>[] } }[] }).layer;
    assert.equal(layers.length, 3);
    const shown = Math.max(8, 2 * plan.perDeviceBatchSize);
    assert.equal(layers[0].data.values.length, 2 * shown);
    assert.equal(plan.curve.length, 2 * shown);
    assert.deepEqual(
      layers[2].data.values.map((v) => v.batchSize),
      [2],
    );
    const compiled = await compileVegaLite(chart.spec);
    assert.ok(Array.isArray(compiled.marks) && compiled.marks.length >= 3);
  });
});

describe("plan/plan: memory sizes", () => {
  it("parses binary and decimal units", () => {
    assert.equal(parseMemorySize("16GiB"), 16 * 1024 ** 3);
    assert.equal(parseMemorySize("500MB"), 500e6);
    assert.equal(parseMemorySize("2.5 gb"), 2.5e9);
    assert.equal(parseMemorySize("1024"), 1024);
    assert.equal(parseMemorySize("512KiB"), 512 * 1024);
  });

  it("rejects anything else with the value and the expected form", () => {
    for (const bad of ["16 gigs", "", "-1GB", "0", "GiB", "1e9", "16GiB extra"]) {
      assert.throws(
        () => parseMemorySize(bad, "--memory"),
        (e: Error) => e.message.startsWith(`--memory: ${JSON.stringify(bad)} is not a memory size`) && /16GiB, 500MB/.test(e.message),
        bad,
      );
    }
  });

  it("formats bytes", () => {
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(1.5 * 1024 ** 3), "1.50 GiB");
    assert.equal(formatBytes(300 * 1024 ** 2), "300 MiB");
  });
});
