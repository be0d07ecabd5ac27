/** Batching: dynamic padding to a window multiple, seeded epoch order, bucketing, resumption, no tensor leaks. */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { EncodedClassificationData, sequenceClassificationData } from "../../src/data";

/** 103 sequences `<s> body </s>` with lengths 3..~200 (varied, deterministic), labels alternating 0/1. */
function syntheticEncoded(): EncodedClassificationData {
  const inputIds: Int32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 103; i++) {
    const n = 3 + ((i * 7919) % 197);
    inputIds.push(Int32Array.from({ length: n }, (_, k) => (k === 0 ? 0 : k === n - 1 ? 2 : 4 + ((i + k) % 90))));
    labels.push(i % 2);
  }
  return { inputIds, labels };
}

describe("data/batching: sequence classification batches", () => {
  const encoded = syntheticEncoded();
  before(async () => {
    await initBackend();
  });

  it("pads each batch to a multiple of the window with <pad>, masks real tokens, keeps labels", () => {
    const data = sequenceClassificationData(encoded, { padToMultipleOf: 16 });
    const indices = [4, 0, 57];
    const batch = data.collate(indices);
    const longest = Math.max(...indices.map((i) => encoded.inputIds[i].length));
    const width = Math.ceil(longest / 16) * 16;
    assert.deepEqual(batch.inputIds.shape, [3, width]);
    assert.equal(batch.inputIds.dtype, "int32");
    assert.equal(batch.attentionMask.dtype, "int32");
    assert.equal(batch.labels.dtype, "int32");
    const ids = batch.inputIds.arraySync();
    const mask = batch.attentionMask.arraySync();
    indices.forEach((example, row) => {
      const source = Array.from(encoded.inputIds[example]);
      assert.deepEqual(ids[row], [...source, ...new Array(width - source.length).fill(1)]);
      assert.deepEqual(mask[row], [...source.map(() => 1), ...new Array(width - source.length).fill(0)]);
    });
    assert.deepEqual(
      Array.from(batch.labels.dataSync()),
      indices.map((i) => encoded.labels[i]),
    );
    data.dispose(batch);
  });

  it("truncates to maxLength keeping the first tokens and the final </s>", () => {
    const data = sequenceClassificationData(encoded, { maxLength: 10, padToMultipleOf: 4 });
    const long = encoded.inputIds.findIndex((ids) => ids.length > 10);
    const batch = data.collate([long]);
    assert.deepEqual(batch.inputIds.shape, [1, 12]);
    const source = Array.from(encoded.inputIds[long]);
    assert.deepEqual(batch.inputIds.arraySync()[0], [...source.slice(0, 9), source[source.length - 1], 1, 1]);
    data.dispose(batch);
  });

  it("orders each epoch by a seeded shuffle that covers every example once, deterministic in (epoch, seed)", () => {
    for (const bucketByLength of [false, true]) {
      const data = sequenceClassificationData(encoded, { bucketByLength, bucketChunkBatches: 3 });
      const e0 = data.sampler.epochBatches(0, 42, 8);
      assert.deepEqual(e0, data.sampler.epochBatches(0, 42, 8));
      assert.notDeepEqual(e0, data.sampler.epochBatches(1, 42, 8));
      assert.notDeepEqual(e0, data.sampler.epochBatches(0, 43, 8));
      assert.deepEqual(
        e0.flat().sort((a, b) => a - b),
        encoded.labels.map((_, i) => i),
      );
      assert.equal(e0.length, Math.ceil(103 / 8));
      assert.equal(e0.filter((b) => b.length !== 8).length, 1, "only the batch holding the remainder is short");
    }
  });

  it("bucketing sorts lengths within chunks and cuts padding", () => {
    const plain = sequenceClassificationData(encoded, { padToMultipleOf: 8 });
    const bucketed = sequenceClassificationData(encoded, { padToMultipleOf: 8, bucketByLength: true, bucketChunkBatches: 4 });
    const batches = bucketed.sampler.epochBatches(0, 7, 4);
    for (const b of batches) {
      const lengths = b.map((i) => encoded.inputIds[i].length);
      assert.deepEqual(
        lengths,
        [...lengths].sort((x, y) => y - x),
      );
    }
    const plainShare = plain.paddingStats(plain.sampler.epochBatches(0, 7, 4));
    const bucketShare = bucketed.paddingStats(batches);
    assert.equal(plainShare.realTokens, bucketShare.realTokens);
    assert.ok(bucketShare.padShare < plainShare.padShare, `${bucketShare.padShare} vs ${plainShare.padShare}`);
    // paddingStats agrees with the collated tensors.
    const batch = bucketed.collate(batches[0]);
    const maskSum = batch.attentionMask.sum().dataSync()[0];
    const stats = bucketed.paddingStats([batches[0]]);
    assert.equal(maskSum, stats.realTokens);
    assert.equal(batch.inputIds.size - maskSum, stats.paddedTokens);
    bucketed.dispose(batch);
  });

  it("bucketing keeps equal lengths in shuffled order: no one-class batches when the file is sorted by label", () => {
    // 64 e-mails truncated to the same length, ham (0) first then spam (1): an index tie-break would give pure batches.
    const sorted = {
      inputIds: Array.from({ length: 64 }, () => Int32Array.from({ length: 16 }, (_, k) => 5 + k)),
      labels: Array.from({ length: 64 }, (_, i) => (i < 32 ? 0 : 1)),
    };
    const data = sequenceClassificationData(sorted, { bucketByLength: true });
    const batches = data.sampler.epochBatches(0, 3, 8);
    assert.equal(batches.length, 8);
    const mixed = batches.filter((b) => new Set(b.map((i) => sorted.labels[i])).size === 2).length;
    assert.ok(mixed >= 6, `${mixed} of 8 batches hold both classes`);
  });

  it("iterates batches without leaking tensors, also when the loop breaks early, and resumes at a position", () => {
    const data = sequenceClassificationData(encoded, { padToMultipleOf: 8, bucketByLength: true });
    const before = tf.memory().numTensors;
    const seen: number[][] = [];
    for (const { batch, indices, position } of data.batches(2, { seed: 3, batchSize: 10 })) {
      assert.equal(batch.inputIds.shape[0], indices.length);
      assert.equal(position.index, seen.length);
      seen.push(indices);
    }
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(seen, data.sampler.epochBatches(2, 3, 10));

    for (const { position } of data.batches(2, { seed: 3, batchSize: 10 })) if (position.index === 4) break;
    assert.equal(tf.memory().numTensors, before);

    const resumed = [...data.batches(2, { seed: 3, batchSize: 10, startBatch: 5 })].map((b) => b.indices);
    assert.deepEqual(resumed, seen.slice(5));
    assert.equal(tf.memory().numTensors, before);

    for (let k = 0; k < 5; k++) data.dispose(data.collate(seen[k]));
    assert.equal(tf.memory().numTensors, before);
  });

  it("rejects bad input with clear messages", () => {
    assert.throws(() => sequenceClassificationData({ inputIds: [Int32Array.of(0, 2)], labels: [] }), /1 sequences but 0 labels/);
    assert.throws(() => sequenceClassificationData(encoded, { padToMultipleOf: 0 }), /padToMultipleOf must be a positive integer/);
    const data = sequenceClassificationData(encoded);
    assert.throws(() => data.collate([103]), /index 103 is outside 0..102/);
    assert.throws(() => data.sampler.epochBatches(0, 0, 0), /batch size must be a positive integer/);
  });
});
