/**
 * LongformerForSequenceClassification behaviour beyond the golden values: O(n·w) attention (traced
 * shapes and profiled peak bytes), no tensor leaks, seeded HF initialisation, seeded dropout,
 * training on a toy task, gradient checkpointing (same training, less memory) and clear input errors.
 */
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../../src/backend";
import {
  LongformerConfig,
  LongformerConfigInit,
  LongformerForSequenceClassification,
  LongformerLabelledBatch,
  longformerClassificationLoss,
} from "../../../src/models/longformer";
import { Trainer } from "../../../src/train";

const TINY: LongformerConfigInit = {
  vocab_size: 60,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 64,
  attention_window: 16,
  max_position_embeddings: 2100,
  hidden_dropout_prob: 0,
  attention_probs_dropout_prob: 0,
};

/** `[1, n]` ids: <s>, body tokens, </s>. */
function idsOfLength(n: number): tf.Tensor2D {
  return tf.tensor2d(
    Array.from({ length: n }, (_, i) => (i === 0 ? 0 : i === n - 1 ? 2 : 4 + ((i * 7) % 50))),
    [1, n],
    "int32",
  );
}

describe("LongformerForSequenceClassification", () => {
  before(async () => {
    await initBackend();
  });

  it("never builds an n x n tensor: every attention intermediate is O(n·w) and doubles with n", () => {
    const model = LongformerForSequenceClassification.create(TINY, { seed: 1 });
    const w = 8; // one-sided window of attention_window 16
    const d = 8; // head size
    const G = 3;
    const largest: number[] = [];
    for (const n of [1024, 2048]) {
      const ids = idsOfLength(n);
      const global = tf.tensor2d([Array.from({ length: n }, (_, i) => (i === 0 || i === 100 || i === n - 5 ? 1 : 0))], [1, n], "int32");
      const shapes: number[][] = [];
      model.forward({ inputIds: ids, globalAttentionMask: global }, { trace: (_name, shape) => shapes.push(shape) }).dispose();
      tf.dispose([ids, global]);
      assert.ok(shapes.length > 20, "the attention reports its intermediates");
      for (const shape of shapes) {
        const big = shape.filter((dim) => dim >= n).length;
        assert.ok(big <= 1, `intermediate [${shape}] has an n x n dimension pair (n = ${n})`);
        const size = shape.reduce((a, b) => a * b, 1);
        assert.ok(size <= 4 * n * (3 * Math.max(w, d) + G), `intermediate [${shape}] exceeds heads·n·(3w + G)`);
      }
      largest.push(Math.max(...shapes.map((s) => s.reduce((a, b) => a * b, 1))));
    }
    assert.strictEqual(largest[1] / largest[0], 2);
    model.dispose();
  });

  it("peak memory of forward + backward grows linearly with the sequence length", async () => {
    const model = LongformerForSequenceClassification.create(TINY, { seed: 1 });
    const labels = tf.tensor1d([1], "int32");
    const peaks: number[] = [];
    for (const n of [512, 1024]) {
      const ids = idsOfLength(n);
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => longformerClassificationLoss(model.forward({ inputIds: ids }), labels), model.trainableVariables());
        tf.dispose([value, ...Object.values(grads)]);
      });
      ids.dispose();
      peaks.push(info.peakBytes);
    }
    const ratio = peaks[1] / peaks[0];
    assert.ok(ratio > 1.6 && ratio < 2.3, `peak bytes ratio for 2x length should be ~2 (linear), got ${ratio.toFixed(3)} (${peaks})`);
    labels.dispose();
    model.dispose();
  });

  it("keeps tf.memory().numTensors flat in inference, run, training forward and backward", () => {
    const model = LongformerForSequenceClassification.create({ ...TINY, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }, { seed: 2 });
    const ids = tf.tensor2d(
      [
        [0, 5, 6, 7, 8, 9, 10, 2, 1, 1],
        [0, 11, 12, 13, 14, 15, 16, 17, 18, 2],
      ],
      undefined,
      "int32",
    );
    const mask = tf.tensor2d(
      [
        [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      ],
      undefined,
      "int32",
    );
    const global = tf.tensor2d(
      [
        [1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      ],
      undefined,
      "int32",
    );
    const labels = tf.tensor1d([0, 1], "int32");
    const batch = { inputIds: ids, attentionMask: mask, globalAttentionMask: global };
    const step = () => {
      tf.dispose([model.forward(batch), model.encode(batch), model.loss(batch, labels, { training: true })]);
      tf.dispose(model.run(batch, { outputHiddenStates: true, outputAttentions: true }) as unknown as tf.TensorContainer);
      const { value, grads } = tf.variableGrads(() => model.loss(batch, labels, { training: true }), model.trainableVariables());
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    assert.strictEqual(tf.memory().numTensors, before);
    tf.dispose([ids, mask, global, labels]);
    model.dispose();
  });

  it("initialises like HF's _init_weights, reproducibly from the seed", () => {
    const config = { ...TINY, initializer_range: 0.05 };
    const a = LongformerForSequenceClassification.create(config, { seed: 7 });
    const b = LongformerForSequenceClassification.create(config, { seed: 7 });
    const c = LongformerForSequenceClassification.create(config, { seed: 8 });
    const wa = a.weights();
    const wb = b.weights();
    const wc = c.weights();
    for (const [name, { data }] of wa) {
      assert.deepStrictEqual(data, wb.get(name)!.data, `same seed, same ${name}`);
      const values = Array.from(data);
      if (name.endsWith("LayerNorm.weight"))
        assert.ok(
          values.every((x) => x === 1),
          name,
        );
      else if (name.endsWith(".bias"))
        assert.ok(
          values.every((x) => x === 0),
          name,
        );
      else {
        assert.notDeepStrictEqual(data, wc.get(name)!.data, `other seed, other ${name}`);
        const std = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
        if (values.length >= 1000) assert.ok(Math.abs(std - 0.05) < 0.005, `${name}: std ${std}, expected initializer_range 0.05`);
      }
    }
    const hidden = 32;
    for (const table of ["word", "position"]) {
      const data = wa.get(`longformer.embeddings.${table}_embeddings.weight`)!.data;
      assert.ok(
        data.slice(hidden, 2 * hidden).every((x) => x === 0),
        `${table} padding row (pad_token_id 1) is zero`,
      );
      assert.ok(
        data.slice(0, hidden).some((x) => x !== 0),
        `${table} row 0 is random`,
      );
    }
    [a, b, c].forEach((m) => m.dispose());
  });

  it("applies seeded dropout only when training", () => {
    const config = { ...TINY, hidden_dropout_prob: 0.2, attention_probs_dropout_prob: 0.2 };
    const a = LongformerForSequenceClassification.create(config, { seed: 3 });
    const b = LongformerForSequenceClassification.create(config, { seed: 3 });
    const ids = idsOfLength(40);
    const values = (t: tf.Tensor) => {
      const v = Array.from(t.dataSync());
      t.dispose();
      return v;
    };
    const inference = values(a.forward({ inputIds: ids }));
    assert.deepStrictEqual(values(a.forward({ inputIds: ids }, { training: false })), inference, "inference is deterministic");
    const trainA1 = values(a.forward({ inputIds: ids }, { training: true }));
    const trainA2 = values(a.forward({ inputIds: ids }, { training: true }));
    assert.notDeepStrictEqual(trainA1, inference, "dropout changes the training output");
    assert.notDeepStrictEqual(trainA2, trainA1, "each training step draws fresh masks");
    assert.deepStrictEqual(values(b.forward({ inputIds: ids }, { training: true })), trainA1, "same seed, same masks");
    a.setRandomSeed(42);
    b.setRandomSeed(42);
    const reseeded = values(a.forward({ inputIds: ids }, { training: true }));
    assert.notDeepStrictEqual(reseeded, trainA1, "a new seed draws other masks");
    assert.deepStrictEqual(values(b.forward({ inputIds: ids }, { training: true })), reseeded, "setRandomSeed makes masks reproducible");
    ids.dispose();
    a.dispose();
    b.dispose();
  });

  it("trains from scratch on a toy task (token 9 present or not)", () => {
    const config: LongformerConfigInit = { ...TINY, vocab_size: 20, hidden_size: 16, intermediate_size: 32, attention_window: 4, max_position_embeddings: 40 };
    const model = LongformerForSequenceClassification.create(config, { seed: 11 });
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let r = 0; r < 16; r++) {
      const body = Array.from({ length: 10 }, (_, i) => 4 + ((r * 5 + i * 3) % 5));
      const positive = r % 2 === 0;
      if (positive) body[(r * 3) % 10] = 9;
      rows.push([0, ...body, 2]);
      labels.push(positive ? 1 : 0);
    }
    const batch = { inputIds: tf.tensor2d(rows, undefined, "int32") };
    const y = tf.tensor1d(labels, "int32");
    const optimizer = tf.train.adam(0.02);
    const lossOf = () => {
      const l = model.loss(batch, y);
      const v = l.dataSync()[0];
      l.dispose();
      return v;
    };
    const initial = lossOf();
    for (let i = 0; i < 25; i++) {
      const cost = optimizer.minimize(() => model.loss(batch, y, { training: true }), true, model.trainableVariables());
      cost?.dispose();
    }
    const final = lossOf();
    assert.ok(final < 0.2 * initial, `loss should drop: ${initial} -> ${final}`);
    optimizer.dispose();
    tf.dispose([batch.inputIds, y]);
    model.dispose();
  });

  it("without any global token attends only within the band (probabilities of each row sum to 1)", () => {
    const model = LongformerForSequenceClassification.create({ ...TINY, attention_window: 4 }, { seed: 4 });
    const ids = idsOfLength(10);
    const noGlobal = tf.zeros([1, 10], "int32");
    const out = model.run({ inputIds: ids, globalAttentionMask: noGlobal }, { outputAttentions: true });
    for (const { local, global } of out.attentions!) {
      assert.strictEqual(global, null);
      assert.deepStrictEqual(local.shape, [1, 4, 10, 5]);
      const probs = local.arraySync() as number[][][][];
      for (const head of probs[0]) {
        head.forEach((row, i) => {
          assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${i} sums to 1`);
          row.forEach((p, k) => {
            const key = i + k - 2;
            if (key < 0 || key >= 10) assert.strictEqual(p, 0, `offset ${k - 2} of row ${i} is outside the sequence`);
          });
        });
      }
    }
    tf.dispose([ids, noGlobal, out as unknown as tf.TensorContainer]);
    model.dispose();
  });

  it("gradient checkpointing: the Trainer's losses and weights equal those without it, with dropout on", async () => {
    const config = { ...TINY, hidden_dropout_prob: 0.2, attention_probs_dropout_prob: 0.1, num_hidden_layers: 3 };
    const examples = Array.from({ length: 6 }, (_, i) => ({
      ids: Array.from({ length: 40 }, (_, j) => (j === 0 ? 0 : j === 39 ? 2 : 4 + ((i * 13 + j * 7) % 50))),
      label: i % 2,
    }));
    const data = {
      size: examples.length,
      collate: (indices: number[]): LongformerLabelledBatch => ({
        inputIds: tf.tensor2d(
          indices.map((i) => examples[i].ids),
          [indices.length, 40],
          "int32",
        ),
        labels: tf.tensor1d(
          indices.map((i) => examples[i].label),
          "int32",
        ),
      }),
      dispose: (b: LongformerLabelledBatch) => tf.dispose([b.inputIds, b.labels]),
    };
    const runs: { losses: number[]; weights: Map<string, { data: Float32Array }> }[] = [];
    for (const gradientCheckpointing of [false, true]) {
      const model = LongformerForSequenceClassification.create(config, { seed: 3 });
      const before = tf.memory().numTensors;
      const trainer = new Trainer({
        model: model.asTrainableModel(),
        trainData: data,
        args: {
          perDeviceBatchSize: 2,
          gradientAccumulationSteps: 2,
          maxSteps: 3,
          loggingSteps: 1,
          learningRate: 1e-3,
          seed: 9,
          progress: "none",
          gradientCheckpointing,
        },
      });
      assert.equal(model.isGradientCheckpointing, gradientCheckpointing);
      const result = await trainer.train();
      trainer.dispose();
      assert.equal(tf.memory().numTensors, before, "no tensors leak");
      runs.push({ losses: result.history.map((r) => r.loss), weights: model.weights() });
      model.dispose();
    }
    assert.equal(runs[0].losses.length, 3);
    runs[0].losses.forEach((loss, i) => assert.ok(Math.abs(loss - runs[1].losses[i]) <= 1e-6 * Math.abs(loss), `loss ${i}: ${loss} vs ${runs[1].losses[i]}`));
    assert.equal(runs[0].weights.size, runs[1].weights.size);
    for (const [name, { data }] of runs[0].weights) {
      const other = runs[1].weights.get(name)!.data;
      for (let i = 0; i < data.length; i++) assert.ok(Math.abs(data[i] - other[i]) <= 1e-6, `${name}[${i}]: ${data[i]} vs ${other[i]}`);
    }
  });

  it("gradient checkpointing keeps only layer inputs: peak memory of forward + backward drops", async () => {
    const model = LongformerForSequenceClassification.create({ ...TINY, num_hidden_layers: 4 }, { seed: 1 });
    const ids = idsOfLength(512);
    const labels = tf.tensor1d([1], "int32");
    const peakOf = async () =>
      (
        await tf.profile(() => {
          const { value, grads } = tf.variableGrads(
            () => longformerClassificationLoss(model.forward({ inputIds: ids }, { training: true }), labels),
            model.trainableVariables(),
          );
          tf.dispose([value, ...Object.values(grads)]);
        })
      ).peakBytes;
    const plain = await peakOf();
    model.gradientCheckpointingEnable();
    const before = tf.memory().numTensors;
    const checkpointed = await peakOf();
    assert.equal(tf.memory().numTensors, before, "no tensors leak");
    assert.ok(checkpointed < 0.6 * plain, `peak ${checkpointed} bytes with checkpointing vs ${plain} without`);
    tf.dispose([ids, labels]);
    model.dispose();
  });

  it("turns checkpointing on from an HF config.json's gradient_checkpointing key, and rejects a non-boolean", () => {
    const on = LongformerForSequenceClassification.create(new LongformerConfig({ ...TINY, gradient_checkpointing: true }));
    assert.equal(on.isGradientCheckpointing, true);
    on.dispose();
    assert.throws(
      () => LongformerForSequenceClassification.create(new LongformerConfig({ ...TINY, gradient_checkpointing: "yes" })),
      /gradient_checkpointing must be true or false, got "yes"/,
    );
  });

  it("rejects bad inputs with clear errors", () => {
    const model = LongformerForSequenceClassification.create({ ...TINY, attention_window: [6, 10], max_position_embeddings: 60 }, { seed: 1 });
    const ids = idsOfLength(50);
    assert.throws(() => model.forward({ inputIds: ids }), /multiple of attention window 6 .*given 50/);
    ids.dispose();
    const long = idsOfLength(60);
    assert.throws(() => model.forward({ inputIds: long }), /need position id 61 but max_position_embeddings = 60/);
    long.dispose();
    const outside = tf.tensor2d([[0, 99, 2]], undefined, "int32");
    assert.throws(() => model.forward({ inputIds: outside }), /inputIds\[0\]\[1\] = 99 is outside the vocabulary \[0, 60\)/);
    const mask = tf.tensor2d([[1, 1]], undefined, "int32");
    assert.throws(() => model.forward({ inputIds: outside, attentionMask: mask }), /attentionMask has shape \[1,2\] but input_ids has shape \[1,3\]/);
    tf.dispose([outside, mask]);
    model.dispose();
  });
});
