import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { LongformerConfig } from "../../src/models/longformer";
import { estimateTrainingMemory, longformerParameterCount, measureTrainingStepPeak } from "../../src/plan";

const small = (over: Record<string, unknown> = {}) =>
  new LongformerConfig({ vocab_size: 500, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 96, attention_window: 16, max_position_embeddings: 600, ...over });

describe("plan/memory: the memory model", () => {
  it("counts the parameters of the classifier (closed form)", () => {
    const [V, H, L, I, P, T, C] = [500, 32, 2, 96, 600, 2, 2];
    const layer = 7 * (H * H + H) + 2 * H + (I * H + I) + (H * I + H) + 2 * H;
    const expected = V * H + P * H + T * H + 2 * H + L * layer + (H * H + H) + (C * H + C);
    assert.equal(longformerParameterCount(small()), expected);
  });

  it("is affine in the batch, pads to the window, and drops the accumulator only at k = 1", () => {
    const config = small();
    const at = (batchSize: number, extra: Record<string, unknown> = {}) => estimateTrainingMemory({ config, sequenceLength: 128, batchSize, ...extra });
    const perExample = at(2).totalBytes - at(1).totalBytes;
    assert.ok(perExample > 0);
    for (const b of [3, 5, 8]) assert.equal(at(b).totalBytes, at(1).totalBytes + (b - 1) * perExample);
    assert.equal(at(4).activationBytes, 4 * at(1).activationBytes);
    // 100 tokens are padded to 112 = 7 windows of 16: the same as asking for 112.
    assert.equal(estimateTrainingMemory({ config, sequenceLength: 100, batchSize: 2 }).totalBytes, estimateTrainingMemory({ config, sequenceLength: 112, batchSize: 2 }).totalBytes);
    const params = longformerParameterCount(config);
    assert.equal(at(2).totalBytes - at(2, { accumulationSteps: 1 }).totalBytes, 4 * params);
    // AdamW's moments: outside the WASM heap, in the budget on cpu / tensorflow.
    assert.equal(at(2, { backend: "wasm" }).hostOptimizerBytes, 8 * params);
    assert.equal(at(2, { backend: "tensorflow" }).optimizerBytes, 8 * params);
    assert.throws(() => at(0), /batchSize must be a positive integer, got 0/);
  });

  it("gives gradient checkpointing the advantage on deep stacks and long sequences", () => {
    const config = small({ num_hidden_layers: 12 });
    const off = estimateTrainingMemory({ config, sequenceLength: 512, batchSize: 1 });
    const on = estimateTrainingMemory({ config, sequenceLength: 512, batchSize: 1, checkpointing: true });
    assert.ok(on.activationBytes < off.activationBytes / 4, `${on.activationBytes} vs ${off.activationBytes}`);
  });
});

describe("plan/memory: prediction vs a measured training step", function () {
  this.timeout(120000);
  // Shapes outside the calibration grid (bench/planner/calibrate.ts); tensor-byte peaks are deterministic.
  const cases = [
    { config: small(), sequenceLength: 128, batchSize: 2, checkpointing: false },
    { config: small({ num_hidden_layers: 3, num_attention_heads: 4, attention_window: 32 }), sequenceLength: 192, batchSize: 1, checkpointing: true },
    { config: small({ hidden_size: 48, intermediate_size: 192, num_attention_heads: 4 }), sequenceLength: 96, batchSize: 3, checkpointing: false },
  ];

  before(async function () {
    await initBackend();
    if (tf.getBackend() !== "wasm") this.skip(); // the model is calibrated on the WASM backend
  });

  for (const c of cases) {
    const name = `hidden ${c.config.hidden_size}, ${c.config.num_hidden_layers} layers, window ${c.config.maxWindow}, ${c.sequenceLength} tokens, batch ${c.batchSize}, checkpointing ${c.checkpointing}`;
    it(`predicts ${name} within 15%`, async () => {
      const before = tf.memory().numTensors;
      const measured = await measureTrainingStepPeak({ ...c, accumulationSteps: 2 });
      assert.equal(tf.memory().numTensors, before, "the measurement releases its tensors");
      const estimate = estimateTrainingMemory({ ...c, accumulationSteps: 2, backend: "wasm" });
      const predicted = estimate.totalBytes - estimate.overheadBytes;
      const error = predicted / measured.tensorPeakBytes - 1;
      assert.ok(Math.abs(error) <= 0.15, `predicted ${predicted} vs measured ${measured.tensorPeakBytes} bytes: ${(error * 100).toFixed(1)}%`);
    });
  }
});
