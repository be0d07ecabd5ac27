import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { LongformerConfig } from "../../src/models/longformer";
import { estimateTrainingMemory, longformerParameterCount, measureTrainingStepPeak, WASM_HEAP_FRAGMENTATION, type PlanBackend } from "../../src/plan";
import { restoresBackend } from "../backends";

const small = (over: Record<string, unknown> = {}) =>
  new LongformerConfig({
    vocab_size: 500,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 96,
    attention_window: 16,
    max_position_embeddings: 600,
    ...over,
  });

describe("plan/memory: the memory model", () => {
  const [V, H, L, I, P, T, C] = [500, 32, 2, 96, 600, 2, 2];
  const parameters = V * H + P * H + T * H + 2 * H + L * (7 * (H * H + H) + 2 * H + (I * H + I) + (H * I + H) + 2 * H) + (H * H + H) + (C * H + C);

  it("counts the parameters of the classifier (closed form)", () => {
    assert.equal(longformerParameterCount(small()), parameters);
  });

  it("activations scale with the batch, the length pads to the window, the accumulator exists only for k >= 2", () => {
    const config = small();
    const at = (batchSize: number, extra: Record<string, unknown> = {}) => estimateTrainingMemory({ config, sequenceLength: 128, batchSize, ...extra });
    assert.ok(at(1).activationBytes > 0);
    for (const b of [2, 3, 8]) {
      assert.equal(at(b).activationBytes, b * at(1).activationBytes);
      assert.equal(at(b).forwardBackwardBytes - at(1).forwardBackwardBytes, (b - 1) * at(1).activationBytes);
    }
    // 100 tokens are padded to 112 = 7 windows of 16: the same as asking for 112.
    assert.equal(
      estimateTrainingMemory({ config, sequenceLength: 100, batchSize: 2 }).totalBytes,
      estimateTrainingMemory({ config, sequenceLength: 112, batchSize: 2 }).totalBytes,
    );
    assert.equal(at(2).accumulatorBytes, 4 * parameters);
    assert.equal(at(2, { accumulationSteps: 1 }).accumulatorBytes, 0);
    assert.equal(at(2).forwardBackwardBytes - at(2, { accumulationSteps: 1 }).forwardBackwardBytes, 4 * parameters);
    // AdamW's moments: outside the WASM heap, in the budget on cpu / tensorflow.
    assert.equal(at(2, { backend: "wasm" }).hostOptimizerBytes, 8 * parameters);
    assert.equal(at(2, { backend: "tensorflow" }).optimizerBytes, 8 * parameters);
    assert.throws(() => at(0), /batchSize must be a positive integer, got 0/);
  });

  it("the peak is the larger phase; the clipping phase is weights, packed copies, two gradients and the largest parameter", () => {
    const config = small();
    const linearWeights = L * (7 * H * H + 2 * H * I) + H * H + C * H; // every Linear weight matrix (WASM: XNNPACK packs each)
    const largest = P * H; // the position embeddings
    const tiny = estimateTrainingMemory({ config, sequenceLength: 16, batchSize: 1, backend: "wasm" });
    assert.equal(tiny.peakPhase, "gradient clipping");
    assert.equal(tiny.clippingBytes, 4 * (parameters + linearWeights + 2 * parameters + largest));
    assert.equal(tiny.peakHeldBytes, tiny.clippingBytes);
    assert.equal(tiny.fragmentationBytes, WASM_HEAP_FRAGMENTATION * tiny.peakHeldBytes);
    assert.equal(tiny.totalBytes, tiny.peakHeldBytes + tiny.fragmentationBytes + tiny.overheadBytes);
    const long = estimateTrainingMemory({ config, sequenceLength: 512, batchSize: 4, backend: "cpu" });
    assert.equal(long.peakPhase, "forward-backward");
    assert.equal(long.weightCopiesBytes, 0);
    assert.equal(long.totalBytes, long.forwardBackwardBytes + long.optimizerBytes);
  });

  it("gives gradient checkpointing the advantage on deep stacks and long sequences", () => {
    const config = small({ num_hidden_layers: 12 });
    const off = estimateTrainingMemory({ config, sequenceLength: 512, batchSize: 1 });
    const on = estimateTrainingMemory({ config, sequenceLength: 512, batchSize: 1, checkpointing: true });
    assert.ok(on.activationBytes < off.activationBytes / 4, `${on.activationBytes} vs ${off.activationBytes}`);
  });

  it("says which backends are calibrated", () => {
    const at = (backend: PlanBackend) => estimateTrainingMemory({ config: small(), sequenceLength: 128, batchSize: 1, backend }).calibrated;
    assert.deepEqual([at("wasm"), at("cpu"), at("tensorflow")], [true, true, false]);
  });
});

describe("plan/memory: prediction vs what the backend holds in a measured training step", function () {
  this.timeout(300000);
  // Shapes outside the fit and the calibration grid (bench/planner/calibrate.ts); the measured peaks are deterministic.
  const cases = [
    { config: small(), sequenceLength: 128, batchSize: 2, checkpointing: false },
    { config: small({ num_hidden_layers: 3, num_attention_heads: 4, attention_window: 32 }), sequenceLength: 192, batchSize: 1, checkpointing: true },
    { config: small({ hidden_size: 48, intermediate_size: 192, num_attention_heads: 4 }), sequenceLength: 96, batchSize: 3, checkpointing: false },
  ];
  restoresBackend();

  for (const backend of ["wasm", "cpu"] as const) {
    for (const c of cases) {
      const name = `hidden ${c.config.hidden_size}, ${c.config.num_hidden_layers} layers, window ${c.config.maxWindow}, ${c.sequenceLength} tokens, batch ${c.batchSize}, checkpointing ${c.checkpointing}`;
      it(`${backend}: predicts ${name} within 15%, never more than 10% under`, async () => {
        assert.ok(await tf.setBackend(backend), `the ${backend} backend starts`);
        const before = tf.memory().numTensors;
        const measured = await measureTrainingStepPeak({ ...c, accumulationSteps: 2 });
        assert.equal(tf.memory().numTensors, before, "the measurement releases its tensors");
        // The precise figure: below tf.profile's, which counts a shared buffer once per tensor.
        assert.ok(measured.peakBytes > 0 && measured.peakBytes < measured.tensorPeakBytes, `${measured.peakBytes} vs tf.profile ${measured.tensorPeakBytes}`);
        const predicted = estimateTrainingMemory({ ...c, accumulationSteps: 2, backend }).peakHeldBytes;
        const error = predicted / measured.peakBytes - 1;
        assert.ok(error <= 0.15 && error >= -0.1, `predicted ${predicted} vs measured ${measured.peakBytes} bytes: ${(error * 100).toFixed(1)}%`);
      });
    }
  }
});
