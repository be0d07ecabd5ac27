import { strict as assert } from "assert";
import { fitCriticalBatch, fitStepsLaw } from "../../src/stats";
import { SeededRng } from "../../src/random";

describe("stats/criticalBatch: S = S_min (1 + B_crit / B), E = E_min (1 + B / B_crit)", () => {
  const truth = { sMin: 40, bCrit: 24 };
  const eMin = truth.sMin * truth.bCrit;
  const batches = [1, 4, 16, 64, 256];
  const exact = (b: number) => truth.sMin * (1 + truth.bCrit / b);

  it("recovers S_min, E_min and B_crit exactly from noise-free steps", () => {
    const fit = fitCriticalBatch(batches.map((batch) => ({ batch, steps: exact(batch) })))!;
    assert.ok(Math.abs(fit.sMin - truth.sMin) < 1e-9 && Math.abs(fit.bCrit - truth.bCrit) < 1e-9 && Math.abs(fit.eMin - eMin) < 1e-6);
    // On the fit, every (S, E) pair lies on the hyperbola (S/S_min - 1)(E/E_min - 1) = 1.
    for (const b of batches) assert.ok(Math.abs((exact(b) / fit.sMin - 1) * ((b * exact(b)) / fit.eMin - 1) - 1) < 1e-9);
    assert.ok(Number.isNaN(fit.bCritInterval[0]), "one seed per batch: no interval");
  });

  it("recovers them within 10% from 5 noisy seeds per batch, the interval holds the truth, and the bootstrap is seeded", () => {
    const rng = new SeededRng(7);
    const points = batches.flatMap((batch) => Array.from({ length: 5 }, () => ({ batch, steps: exact(batch) * Math.exp(0.08 * rng.nextGaussian()) })));
    const fit = fitCriticalBatch(points, { seed: 3 })!;
    assert.equal(fit.batches.length, batches.length);
    for (const [got, want] of [
      [fit.sMin, truth.sMin],
      [fit.bCrit, truth.bCrit],
      [fit.eMin, eMin],
    ])
      assert.ok(Math.abs(got - want) / want < 0.1, `${got} vs ${want}`);
    assert.ok(fit.bCritInterval[0] < truth.bCrit && truth.bCrit < fit.bCritInterval[1], `${fit.bCritInterval}`);
    assert.ok(fit.bCritInterval[0] > 0, "a positive quantity has a positive interval");
    assert.deepEqual(fitCriticalBatch(points, { seed: 3 }), fit);
  });

  it("gives no fit when steps do not fall with the batch, or with one batch size", () => {
    assert.equal(
      fitCriticalBatch([
        { batch: 1, steps: 10 },
        { batch: 8, steps: 20 },
        { batch: 64, steps: 30 },
      ]),
      null,
    );
    assert.equal(
      fitCriticalBatch([
        { batch: 8, steps: 10 },
        { batch: 8, steps: 12 },
      ]),
      null,
    );
    assert.equal(fitStepsLaw([{ batch: 4, steps: 3 }]), null);
  });
});
