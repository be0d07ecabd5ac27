/** Confidence intervals against closed forms and textbook values. */
import { strict as assert } from "assert";
import { bootstrapInterval, formatInterval, intervalsSeparate, logTInterval, studentTQuantile, tInterval } from "../../src/stats";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

describe("confidence intervals", () => {
  it("t quantiles equal the closed forms for 1 and 2 degrees of freedom and approach the normal", () => {
    for (const p of [0.6, 0.9, 0.975, 0.995]) {
      close(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)), 1e-9 * Math.tan(Math.PI * (p - 0.5)), `df 1, p ${p}`);
      close(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-9, `df 2, p ${p}`);
    }
    // Large df: the normal quantile 1.959963984540054 (Φ⁻¹(0.975)).
    close(studentTQuantile(0.975, 1e7), 1.959963984540054, 1e-6, "df 1e7");
    close(studentTQuantile(0.025, 4), -studentTQuantile(0.975, 4), 1e-12, "symmetry");
    assert.throws(() => studentTQuantile(1, 3), /p must be in \(0, 1\), got 1/);
  });

  it("tInterval: mean ± t·s/√n; two values give mean ± 12.706·|a−b|/2", () => {
    const two = tInterval([1, 3]);
    // s = √2, s/√2 = 1, t_{0.975,1} = tan(0.475π).
    const t1 = Math.tan(0.475 * Math.PI);
    close(two.mean, 2, 0, "mean");
    close(two.low, 2 - t1, 1e-9, "low");
    close(two.high, 2 + t1, 1e-9, "high");
    assert.equal(two.n, 2);
    // Three values 1, 2, 3: s = 1, half = t_{0.975,2} / √3 with t_{0.975,2} = 0.95/√(1.95·0.025)·... (closed form for df 2).
    const t2 = (2 * 0.975 - 1) / Math.sqrt(2 * 0.975 * 0.025);
    const three = tInterval([3, 1, 2]);
    close(three.high - three.mean, t2 / Math.sqrt(3), 1e-9, "half width, n = 3");
    const ninety = tInterval([3, 1, 2], 0.9);
    close(ninety.high - ninety.mean, (2 * 0.95 - 1) / Math.sqrt(2 * 0.95 * 0.05) / Math.sqrt(3), 1e-9, "90% level");
    const one = tInterval([5, NaN]);
    assert.equal(one.mean, 5);
    assert.ok(Number.isNaN(one.low) && Number.isNaN(one.high) && one.n === 1, "one finite value: no interval");
    assert.ok(Number.isNaN(tInterval([]).mean));
    assert.throws(() => tInterval([1, 2], 1.5), /level must be in \(0, 1\), got 1.5/);
  });

  it("logTInterval: geometric mean and exp(mean(log) ± t·s/√n), positive values only", () => {
    // Logs 1, 2, 3: mean 2, s = 1, t for 2 degrees of freedom in closed form; -5 and NaN are left out.
    const ci = logTInterval([Math.E, -5, Math.exp(2), NaN, Math.exp(3)]);
    const half = 0.95 / Math.sqrt(2 * 0.975 * 0.025) / Math.sqrt(3);
    assert.equal(ci.n, 3);
    close(ci.mean, Math.exp(2), 1e-9, "geometric mean");
    close(ci.low, Math.exp(2 - half), 1e-9, "low");
    close(ci.high, Math.exp(2 + half), 1e-9, "high");
    assert.ok(ci.low > 0, "a positive quantity keeps a positive interval");
  });

  it("intervals separate only when they do not overlap and are known", () => {
    const a = { mean: 1, low: 0.5, high: 1.5, n: 3, level: 0.95 };
    assert.equal(intervalsSeparate(a, { mean: 2, low: 1.6, high: 2.4, n: 3, level: 0.95 }), true);
    assert.equal(intervalsSeparate(a, { mean: 2, low: 1.4, high: 2.6, n: 3, level: 0.95 }), false);
    assert.equal(intervalsSeparate(a, { mean: 9, low: NaN, high: NaN, n: 1, level: 0.95 }), false);
    assert.equal(formatInterval(a), "1 [0.5, 1.5]");
    assert.equal(formatInterval({ mean: 0.27249, low: NaN, high: NaN, n: 1, level: 0.95 }), "0.272");
  });

  it("bootstrap: deterministic per seed, brackets the estimate, and matches the binomial spread of a proportion", () => {
    // 200 items, 60 ones: the bootstrap sd of the mean is ≈ √(0.3·0.7/200) = 0.0324, so the 95% interval ≈ 0.3 ± 0.0635.
    const items = Array.from({ length: 200 }, (_, i) => (i < 60 ? 1 : 0));
    const meanOf = (idx: readonly number[]) => idx.reduce((s, i) => s + items[i], 0) / idx.length;
    const a = bootstrapInterval(items.length, meanOf, { seed: 1, resamples: 2000 });
    const b = bootstrapInterval(items.length, meanOf, { seed: 1, resamples: 2000 });
    assert.deepEqual(a, b);
    const wave = (idx: readonly number[]) => idx.reduce((s, i) => s + Math.sin(i), 0) / idx.length;
    assert.notDeepEqual(bootstrapInterval(50, wave, { seed: 1 }), bootstrapInterval(50, wave, { seed: 2 }), "another seed, other resamples");
    close(a.mean, 0.3, 1e-12, "estimate on the full sample");
    assert.ok(a.low < 0.3 && a.high > 0.3);
    const half = 1.959964 * Math.sqrt((0.3 * 0.7) / 200);
    close(a.high - a.low, 2 * half, 0.015, "width vs the normal approximation");
    assert.throws(() => bootstrapInterval(0, meanOf, { seed: 0 }), /n must be a positive integer, got 0/);
  });
});
