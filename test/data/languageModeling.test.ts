/** HF's 80/10/10 masking of 15% of tokens: proportions, what is never masked, labels, determinism, batching. */
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { maskTokensForLanguageModeling, maskedLanguageModelingData } from "../../src/data";
import { SeededRng } from "../../src/random";

const VOCAB = 1000;
const MASK = 4;
const SPECIALS = [0, 1, 2, 3, 4];
const OPTIONS = { maskTokenId: MASK, vocabSize: VOCAB, specialTokenIds: SPECIALS };

/** `<s>` body `</s>` with body ids in [10, VOCAB). */
function sequence(rng: SeededRng, length: number): Int32Array {
  const ids = new Int32Array(length);
  ids[0] = 0;
  for (let i = 1; i < length - 1; i++) ids[i] = 10 + Math.floor(rng.next() * (VOCAB - 10));
  ids[length - 1] = 2;
  return ids;
}

/** |observed - expected| within 5 binomial standard deviations. */
function assertBinomial(observed: number, trials: number, p: number, what: string): void {
  const sd = Math.sqrt(trials * p * (1 - p));
  assert.ok(Math.abs(observed - trials * p) <= 5 * sd, `${what}: ${observed} of ${trials}, expected ${(trials * p).toFixed(0)} ± ${(5 * sd).toFixed(0)}`);
}

describe("masked language modelling collator", () => {
  it("selects 15% of the body tokens and replaces them 80% <mask> / 10% random / 10% unchanged", () => {
    const rng = new SeededRng(1);
    let body = 0;
    let selected = 0;
    let masked = 0;
    let unchanged = 0;
    let randomDifferent = 0;
    for (let n = 0; n < 400; n++) {
      const ids = sequence(rng, 100);
      const out = maskTokensForLanguageModeling(ids, rng, OPTIONS);
      assert.strictEqual(out.inputIds.length, ids.length);
      for (let i = 0; i < ids.length; i++) {
        if (SPECIALS.includes(ids[i])) {
          assert.strictEqual(out.labels[i], -100, "special tokens are never selected");
          assert.strictEqual(out.inputIds[i], ids[i]);
          continue;
        }
        body++;
        if (out.labels[i] === -100) {
          assert.strictEqual(out.inputIds[i], ids[i], "unselected tokens are unchanged");
          continue;
        }
        selected++;
        assert.strictEqual(out.labels[i], ids[i], "the label is the original id");
        if (out.inputIds[i] === MASK) masked++;
        else if (out.inputIds[i] === ids[i]) unchanged++;
        else randomDifferent++;
      }
    }
    assert.strictEqual(body, 400 * 98);
    assertBinomial(selected, body, 0.15, "selected");
    assertBinomial(masked, selected, 0.8, "<mask>");
    // A random replacement draws the original id with probability 1/VOCAB; both cases are ~10%.
    assertBinomial(randomDifferent, selected, 0.1 * (1 - 1 / VOCAB), "random id");
    assertBinomial(unchanged, selected, 0.1 + 0.1 / VOCAB, "unchanged");
  });

  it("never selects padding beyond the real length, and honours custom probabilities", () => {
    const ids = Int32Array.from([0, 50, 60, 70, 2, 1, 1, 1]);
    for (let seed = 0; seed < 50; seed++) {
      const out = maskTokensForLanguageModeling(
        ids,
        new SeededRng(seed),
        { ...OPTIONS, mlmProbability: 1, maskReplaceProbability: 1, randomReplaceProbability: 0 },
        5,
      );
      assert.deepStrictEqual(Array.from(out.inputIds), [0, MASK, MASK, MASK, 2, 1, 1, 1]);
      assert.deepStrictEqual(Array.from(out.labels), [-100, 50, 60, 70, -100, -100, -100, -100]);
    }
    assert.throws(
      () => maskTokensForLanguageModeling(ids, new SeededRng(0), { ...OPTIONS, mlmProbability: 1.5 }),
      /mlmProbability must be in \[0, 1\], got 1.5/,
    );
    assert.throws(
      () => maskTokensForLanguageModeling(ids, new SeededRng(0), { ...OPTIONS, maskReplaceProbability: 0.9, randomReplaceProbability: 0.2 }),
      /exceeds 1/,
    );
  });

  it("batches: same (seed, epoch, example) => same mask whatever the batch; another epoch or seed => another mask; padding is -100", () => {
    const rng = new SeededRng(7);
    const sequences = Array.from({ length: 12 }, (_, i) => sequence(rng, 20 + i * 3));
    const data = maskedLanguageModelingData(sequences, { ...OPTIONS, seed: 3, padId: 1, padToMultipleOf: 8 });
    const twin = maskedLanguageModelingData(sequences, { ...OPTIONS, seed: 3, padId: 1, padToMultipleOf: 8 });
    const other = maskedLanguageModelingData(sequences, { ...OPTIONS, seed: 4, padId: 1, padToMultipleOf: 8 });
    const before = tf.memory().numTensors;
    data.sampler.epochBatches(0, 0, 4);
    twin.sampler.epochBatches(0, 0, 2);
    other.sampler.epochBatches(0, 0, 4);
    const a = data.collate([3, 11, 5]);
    const b = twin.collate([11, 3]);
    const c = other.collate([3, 11, 5]);
    assert.deepStrictEqual(a.inputIds.shape, [3, 56], "longest (53) padded to a multiple of 8");
    const rowOf = (t: tf.Tensor, row: number, n: number) => Array.from(t.arraySync() as number[][])[row].slice(0, n);
    assert.deepStrictEqual(rowOf(a.labels, 1, 53), rowOf(b.labels, 0, 53), "example 11's mask does not depend on its batch");
    assert.deepStrictEqual(rowOf(a.inputIds, 0, 29), rowOf(b.inputIds, 1, 29));
    assert.notDeepStrictEqual(rowOf(a.labels, 1, 53), rowOf(c.labels, 1, 53), "another seed, another mask");
    const padded = a.labels.arraySync()[0].slice(29);
    assert.strictEqual(padded.length, 27);
    assert.ok(
      padded.every((x) => x === -100),
      "padding is never labelled",
    );
    assert.ok(
      a.inputIds
        .arraySync()[0]
        .slice(29)
        .every((x) => x === 1),
      "padding id",
    );
    assert.deepStrictEqual(a.attentionMask.arraySync()[0].slice(28, 30), [1, 0]);
    data.sampler.epochBatches(1, 0, 4);
    const d = data.collate([3, 11, 5]);
    assert.notDeepStrictEqual(rowOf(a.labels, 1, 53), rowOf(d.labels, 1, 53), "epoch 1 masks differently (dynamic masking)");
    assert.deepStrictEqual(rowOf(d.labels, 1, 53), Array.from(data.maskedExample(11, 1).labels), "maskedExample(i, epoch) is what collate uses");
    [a, b, c, d].forEach((batch) => data.dispose(batch));
    assert.strictEqual(tf.memory().numTensors, before, "no tensor leaks");
  });

  it("the sampler is a seeded shuffle covering every example once per epoch", () => {
    const sequences = Array.from({ length: 10 }, () => Int32Array.from([0, 20, 2]));
    const data = maskedLanguageModelingData(sequences, { ...OPTIONS, seed: 0 });
    const batches = data.sampler.epochBatches(2, 5, 3);
    assert.deepStrictEqual(
      batches.map((b) => b.length),
      [3, 3, 3, 1],
    );
    assert.deepStrictEqual(
      batches.flat().sort((x, y) => x - y),
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.deepStrictEqual(data.sampler.epochBatches(2, 5, 3), batches);
    assert.throws(() => maskedLanguageModelingData([new Int32Array(0)], { ...OPTIONS, seed: 0 }), /sequence 0 is empty/);
  });
});
