import { strict as assert } from "assert";
import { LossSmoother, rollingLossStats, smoothLoss, windowStats } from "../../src/train";
import { SeededRng } from "../../src/random";

/** A second implementation: the closed form of the debiased EMA, sum_i w^(n-i) (1-w) x_i / (1 - w^n). */
function closedFormSmoothing(values: number[], w: number): number[] {
  return values.map((_, n) => {
    let num = 0;
    for (let i = 0; i <= n; i++) num += Math.pow(w, n - i) * (1 - w) * values[i];
    return num / (1 - Math.pow(w, n + 1));
  });
}

describe("train/smoothing", () => {
  it("matches a hand-computed case (weight 0.5 on 1, 2, 3)", () => {
    // step 1: 0.5*1 / (1-0.5) = 1; step 2: (0.25 + 1) / 0.75 = 5/3; step 3: (0.625 + 1.5) / 0.875 = 17/7
    const got = smoothLoss([1, 2, 3], 0.5);
    [1, 5 / 3, 17 / 7].forEach((e, i) => assert.ok(Math.abs(got[i] - e) < 1e-12, `${got[i]} vs ${e}`));
  });

  it("agrees with the closed-form weighted average on a random series", () => {
    const rng = new SeededRng(7);
    const values = Array.from({ length: 200 }, () => 2 + rng.nextGaussian());
    for (const w of [0, 0.3, 0.6, 0.99]) {
      const got = smoothLoss(values, w);
      const expected = closedFormSmoothing(values, w);
      got.forEach((g, i) => assert.ok(Math.abs(g - expected[i]) < 1e-9, `w=${w} i=${i}: ${g} vs ${expected[i]}`));
    }
  });

  it("passes non-finite points through, keeps constant series, rejects bad weights", () => {
    const got = smoothLoss([1, NaN, 3], 0.5);
    assert.ok(Number.isNaN(got[1]));
    assert.ok(Math.abs(got[2] - (0.25 + 1.5) / 0.75) < 1e-12); // NaN does not enter the average
    assert.deepEqual(smoothLoss([0.7, 0.7, 0.7]), [0.7, 0.7, 0.7]);
    assert.throws(() => smoothLoss([1], 1.5), /weight must be in \[0, 1\], got 1.5/);
  });

  it("LossSmoother one point at a time equals smoothLoss on the whole series", () => {
    const values = [3, 2.5, 2.7, 1.9, 2.2];
    const s = new LossSmoother(0.8);
    assert.deepEqual(
      values.map((v) => s.push(v)),
      smoothLoss(values, 0.8),
    );
  });

  it("rolling std and coefficient of variation match a direct computation", () => {
    const values = [1, 3, 2, 6, 4];
    const stats = rollingLossStats(values, 3);
    assert.ok(Number.isNaN(stats[0].std)); // one point: no sample std
    // window [3, 2, 6] ending at index 3: mean 11/3, sample variance ((3-11/3)^2 + (2-11/3)^2 + (6-11/3)^2) / 2
    const mean = 11 / 3;
    const std = Math.sqrt(((3 - mean) ** 2 + (2 - mean) ** 2 + (6 - mean) ** 2) / 2);
    assert.ok(Math.abs(stats[3].mean - mean) < 1e-12);
    assert.ok(Math.abs(stats[3].std - std) < 1e-12);
    assert.ok(Math.abs(stats[3].cv - std / mean) < 1e-12);
    assert.deepEqual(windowStats(values, 3), stats[4]);
    assert.throws(() => windowStats(values, 0), /window must be a positive integer, got 0/);
  });
});
