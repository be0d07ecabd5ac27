/** frugalGradients: tfjs's own gradients, bit for bit, with memory freed as the backward pass goes. */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { LongformerForSequenceClassification, longformerClassificationLoss } from "../../src/models/longformer";
import { frugalGradients, frugalVariableGrads } from "../../src/train";

describe("train/gradients: frugalVariableGrads", () => {
  let model: LongformerForSequenceClassification;
  let ids: tf.Tensor2D;
  let labels: tf.Tensor1D;
  const loss = () => longformerClassificationLoss(model.forward({ inputIds: ids }, { training: true }), labels);

  before(async () => {
    await initBackend();
    model = LongformerForSequenceClassification.create(
      {
        vocab_size: 60,
        hidden_size: 32,
        num_hidden_layers: 3,
        num_attention_heads: 4,
        intermediate_size: 64,
        attention_window: 16,
        max_position_embeddings: 600,
        hidden_dropout_prob: 0.1,
        attention_probs_dropout_prob: 0.1,
      },
      { seed: 4 },
    );
    ids = tf.tensor2d([Array.from({ length: 512 }, (_, i) => (i === 0 ? 0 : i === 511 ? 2 : 4 + ((i * 7) % 50)))], [1, 512], "int32");
    labels = tf.tensor1d([1], "int32");
  });

  after(() => {
    tf.dispose([ids, labels]);
    model.dispose();
  });

  it("gives tf.variableGrads' loss and gradients bit for bit, for every parameter", () => {
    model.setRandomSeed(7);
    const reference = tf.variableGrads(loss, model.trainableVariables());
    model.setRandomSeed(7);
    const frugal = frugalVariableGrads(loss, model.trainableVariables());
    assert.equal(frugal.value.dataSync()[0], reference.value.dataSync()[0]);
    const names = Object.keys(reference.grads);
    assert.equal(names.length, model.trainableVariables().length);
    assert.deepEqual(Object.keys(frugal.grads).sort(), [...names].sort());
    for (const name of names) assert.deepEqual(frugal.grads[name].dataSync(), reference.grads[name].dataSync(), name);
    tf.dispose([reference.value, frugal.value, ...Object.values(reference.grads), ...Object.values(frugal.grads)]);
  });

  it("leaks no tensor and peaks lower than tf.variableGrads (saved tensors and gradients freed on the way)", async () => {
    const peakOf = async (grads: typeof frugalVariableGrads) => {
      const before = tf.memory().numTensors;
      const info = await tf.profile(() => {
        const { value, grads: g } = grads(loss, model.trainableVariables());
        tf.dispose([value, ...Object.values(g)]);
      });
      assert.equal(tf.memory().numTensors, before, "no tensors leak");
      return info.peakBytes;
    };
    const tfjs = await peakOf(tf.variableGrads);
    const frugal = await peakOf(frugalVariableGrads);
    assert.ok(frugal < 0.85 * tfjs, `peak ${frugal} bytes vs tf.variableGrads' ${tfjs}`);
  });

  it("multiplies by a given dy, returns null for an input f ignores, and refuses to run while a tape records", () => {
    const [a, b, unused] = [tf.tensor1d([1, 2, 3]), tf.tensor1d([4, 5, 6]), tf.tensor1d([7])];
    const dy = tf.tensor1d([1, 10, 100]);
    const { value, grads } = frugalGradients(() => tf.mul(tf.mul(a, b), a), [a, b, unused], dy);
    assert.deepEqual(Array.from(value.dataSync()), [4, 20, 54]);
    assert.deepEqual(Array.from(grads[0]!.dataSync()), [8, 200, 3600]); // d(a²b)/da = 2ab, times dy
    assert.deepEqual(Array.from(grads[1]!.dataSync()), [1, 40, 900]); // a², times dy
    assert.equal(grads[2], null);
    assert.throws(() => tf.grads((x: tf.Tensor) => frugalGradients(() => tf.square(x), [x]).value)([a]), /cannot be called while a gradient is being recorded/);
    tf.dispose([a, b, unused, dy, value, grads[0]!, grads[1]!]);
  });
});
