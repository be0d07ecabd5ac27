/** Stratified splits (exact per-class counts, determinism), class balance and token-length statistics. */
import { strict as assert } from "assert";
import { classBalance, stratifiedSplit, tokenLengthStats } from "../../src/data";

/** 3 classes of sizes 101, 40 and 7, interleaved (31 is coprime to 148, so this is a permutation). */
const blocks = [...new Array(101).fill(0), ...new Array(40).fill(1), ...new Array(7).fill(2)] as number[];
const labels = blocks.map((_, i) => blocks[(i * 31) % blocks.length]);

describe("data/split: stratified train/dev/test", () => {
  it("divides every class 70/15/15 to within one example and partitions all indices", () => {
    const split = stratifiedSplit(labels, { seed: 5 });
    const all = [...split.train, ...split.dev, ...split.test].sort((a, b) => a - b);
    assert.deepEqual(
      all,
      labels.map((_, i) => i),
    );
    for (const c of [0, 1, 2]) {
      const n = labels.filter((l) => l === c).length;
      const counts = [split.train, split.dev, split.test].map((part) => part.filter((i) => labels[i] === c).length);
      assert.equal(counts[0] + counts[1] + counts[2], n);
      [0.7, 0.15, 0.15].forEach((f, k) => assert.ok(Math.abs(counts[k] - n * f) < 1, `class ${c} part ${k}: ${counts[k]} vs ${n * f}`));
    }
  });

  it("is deterministic for a seed and differs between seeds", () => {
    assert.deepEqual(stratifiedSplit(labels, { seed: 5 }), stratifiedSplit(labels, { seed: 5 }));
    assert.notDeepEqual(stratifiedSplit(labels, { seed: 5 }).test, stratifiedSplit(labels, { seed: 6 }).test);
  });

  it("honours custom fractions and rejects invalid ones", () => {
    const split = stratifiedSplit(labels, { fractions: { train: 1, dev: 1, test: 0 } });
    assert.equal(split.test.length, 0);
    assert.ok(Math.abs(split.train.length - split.dev.length) <= 3);
    assert.throws(() => stratifiedSplit(labels, { fractions: { train: -1, dev: 1, test: 1 } }), /must be non-negative/);
  });

  it("reports the class balance of each part as a DataFrame", () => {
    const split = stratifiedSplit(labels, { seed: 1 });
    const frame = classBalance(labels, ["a", "b", "c"], split);
    assert.deepEqual(frame.columns, ["split", "label", "count", "share"]);
    const rows = frame.values as Array<[string, string, number, number]>;
    for (const [part, label, count, share] of rows) {
      const indices = part === "all" ? labels.map((_, i) => i) : split[part as "train" | "dev" | "test"];
      const expected = indices.filter((i) => ["a", "b", "c"][labels[i]] === label).length;
      assert.equal(count, expected);
      assert.ok(Math.abs(share - expected / indices.length) < 1e-12);
    }
    assert.equal(rows.length, 4 * 3);
  });
});

describe("data/stats: token-length statistics", () => {
  it("gives count, mean, median, p90, max and truncated share in closed form for lengths 1..n", () => {
    // For the values 1..n, the linear-interpolated q-quantile is 1 + q (n - 1) and the mean is (n + 1) / 2.
    const n = 20;
    const lengths = Array.from({ length: n }, (_, i) => n - i);
    const frame = tokenLengthStats(lengths, { maxLength: [8, 512] });
    const rows = frame.values as Array<[string, number, number, number, number, number, number, number]>;
    assert.deepEqual(frame.columns, ["group", "maxLength", "count", "mean", "median", "p90", "max", "truncatedShare"]);
    assert.deepEqual(
      rows.map((r) => r.slice(0, 3)),
      [
        ["all", 8, n],
        ["all", 512, n],
      ],
    );
    const [, , , mean, median, p90, max, truncated8] = rows[0];
    assert.ok(Math.abs(mean - (n + 1) / 2) < 1e-12);
    assert.ok(Math.abs(median - (1 + 0.5 * (n - 1))) < 1e-12);
    assert.ok(Math.abs(p90 - (1 + 0.9 * (n - 1))) < 1e-12);
    assert.equal(max, n);
    assert.equal(truncated8, (n - 8) / n);
    assert.equal(rows[1][7], 0);
  });

  it("adds one row per group", () => {
    const frame = tokenLengthStats([5, 1, 9, 3], { maxLength: 4, groups: ["x", "y", "x", "y"] });
    const rows = frame.values as Array<[string, number, number, number, number, number, number, number]>;
    assert.deepEqual(
      rows.map((r) => [r[0], r[2], r[4], r[6], r[7]]),
      [
        ["all", 4, 4, 9, 0.5],
        ["x", 2, 7, 9, 1],
        ["y", 2, 2, 3, 0],
      ],
    );
  });
});
