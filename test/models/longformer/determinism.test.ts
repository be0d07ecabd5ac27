/**
 * Same seed, config, backend and thread count => same numbers: a Longformer training step's loss and every gradient,
 * computed twice at each thread count, are bit-identical (dropout on; the native BLAS when active).
 */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { coreCount, initBackend } from "../../../src/backend";
import { LongformerForSequenceClassification, longformerClassificationLoss } from "../../../src/models/longformer";
import { frugalVariableGrads } from "../../../src/train";

/** Loss and gradients of one forward + backward of a fresh seeded model, as plain arrays. */
function lossAndGradients(): { loss: number; gradients: Float32Array[] } {
  const model = LongformerForSequenceClassification.create(
    {
      vocab_size: 300,
      hidden_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      intermediate_size: 128,
      attention_window: 16,
      max_position_embeddings: 300,
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
    },
    { seed: 3 },
  );
  try {
    const variables = model.trainableVariables();
    const ids = tf.tensor2d([Array.from({ length: 200 }, (_, i) => (i === 0 ? 0 : 4 + ((i * 37) % 290)))], [1, 200], "int32");
    const labels = tf.tensor1d([1], "int32");
    const { value, grads } = frugalVariableGrads(() => longformerClassificationLoss(model.forward({ inputIds: ids }, { training: true }), labels), variables);
    const result = { loss: value.dataSync()[0], gradients: variables.map((v) => grads[v.name].dataSync() as Float32Array) };
    tf.dispose([ids, labels, value, ...Object.values(grads)]);
    return result;
  } finally {
    model.dispose();
  }
}

describe("Longformer: same seed, config, backend and threads give the same bits", function () {
  this.timeout(120_000);
  after(() => initBackend({ threads: coreCount() }));

  for (const threads of [1, 2]) {
    it(`at ${threads} thread(s): loss and every gradient identical across two runs, no tensors left`, async function () {
      if (threads > coreCount()) this.skip();
      await initBackend({ threads });
      const before = tf.memory().numTensors;
      const first = lossAndGradients();
      const second = lossAndGradients();
      assert.equal(tf.memory().numTensors, before);
      assert.ok(Number.isFinite(first.loss));
      assert.ok(Object.is(first.loss, second.loss), `loss ${first.loss} vs ${second.loss}`);
      assert.ok(first.gradients.length > 20, "every parameter has a gradient");
      assert.equal(first.gradients.length, second.gradients.length);
      first.gradients.forEach((g, i) =>
        assert.ok(
          g.every((v, j) => Object.is(v, second.gradients[i][j])),
          `gradient ${i} differs`,
        ),
      );
    });
  }
});
