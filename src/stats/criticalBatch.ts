/**
 * The steps/examples trade-off of McCandlish et al. (2018), "An Empirical Model of Large-Batch Training", eq. 2.11:
 * to reach a given loss with batch B takes S = S_min (1 + B_crit / B) optimizer steps and E = E_min (1 + B / B_crit)
 * examples, with E_min = S_min · B_crit. Then (S / S_min − 1)(E / E_min − 1) = (B_crit / B)(B / B_crit) = 1: the
 * measured (S, E) pairs lie on a hyperbola.
 *
 * The fit: S = S_min + (S_min · B_crit) / B is linear in 1/B, S = α + β · (1/B), with α = S_min, β = E_min and
 * B_crit = β / α. α and β come from least squares on relative residuals (each point weighted by 1/S², since S spans
 * orders of magnitude across batches), and the interval from a percentile bootstrap over seeds: each batch's seeds
 * are resampled with replacement (a seeded generator, so the interval is reproducible) and the fit repeated.
 */
import { SeededRng } from "../random";

/** Steps to the target of one run (one seed) at effective batch `batch`. */
export interface StepsToTarget {
  batch: number;
  steps: number;
}

/** S_min, E_min and B_crit with 95% percentile-bootstrap intervals over seeds. */
export interface CriticalBatchFit {
  sMin: number;
  eMin: number;
  bCrit: number;
  /** [low, high] of each, from the bootstrap (NaN with one seed per batch, or when too few resamples gave a valid fit). */
  sMinInterval: [number, number];
  eMinInterval: [number, number];
  bCritInterval: [number, number];
  /** Distinct batch sizes behind the fit. */
  batches: number[];
  /** Resamples that gave a valid fit (α > 0 and β > 0), of `resamples`. */
  validResamples: number;
  resamples: number;
}

/** Weighted least squares of S = α + β / B on relative residuals; null when fewer than 2 batch sizes. */
export function fitStepsLaw(points: readonly StepsToTarget[]): { alpha: number; beta: number } | null {
  const usable = points.filter((p) => p.batch > 0 && p.steps > 0 && Number.isFinite(p.steps));
  if (new Set(usable.map((p) => p.batch)).size < 2) return null;
  // Minimise Σ w (S − α − β x)² with x = 1/B, w = 1/S²: the 2x2 normal equations.
  let sw = 0,
    sx = 0,
    sxx = 0,
    sy = 0,
    sxy = 0;
  for (const p of usable) {
    const w = 1 / (p.steps * p.steps);
    const x = 1 / p.batch;
    sw += w;
    sx += w * x;
    sxx += w * x * x;
    sy += w * p.steps;
    sxy += w * x * p.steps;
  }
  const det = sw * sxx - sx * sx;
  if (!(Math.abs(det) > 0)) return null;
  return { alpha: (sy * sxx - sx * sxy) / det, beta: (sw * sxy - sx * sy) / det };
}

const percentile = (sorted: number[], q: number) => {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
};

/**
 * Fits S_min, E_min and B_crit to the steps each run took to reach a target (several seeds per batch), with a
 * seeded bootstrap over seeds; null when no valid fit exists (fewer than 2 batch sizes, or S does not fall with B as
 * the model needs: α ≤ 0 or β ≤ 0).
 *
 * @example
 * ```ts
 * import { fitCriticalBatch } from "tsml";
 * fitCriticalBatch([{ batch: 1, steps: 110 }, { batch: 10, steps: 20 }, { batch: 100, steps: 11 }])?.bCrit; // ≈ 10
 * ```
 */
export function fitCriticalBatch(points: readonly StepsToTarget[], options: { seed?: number; resamples?: number } = {}): CriticalBatchFit | null {
  const fit = fitStepsLaw(points);
  if (!fit || !(fit.alpha > 0) || !(fit.beta > 0)) return null;
  const byBatch = new Map<number, number[]>();
  for (const p of points) if (p.batch > 0 && p.steps > 0) byBatch.set(p.batch, [...(byBatch.get(p.batch) ?? []), p.steps]);
  const resamples = options.resamples ?? 1000;
  const rng = new SeededRng(options.seed ?? 0);
  const draws: { sMin: number; eMin: number; bCrit: number }[] = [];
  for (let r = 0; r < resamples; r++) {
    const sample = [...byBatch].flatMap(([batch, steps]) => steps.map(() => ({ batch, steps: steps[Math.floor(rng.next() * steps.length)] })));
    const f = fitStepsLaw(sample);
    if (f && f.alpha > 0 && f.beta > 0) draws.push({ sMin: f.alpha, eMin: f.beta, bCrit: f.beta / f.alpha });
  }
  const interval = (key: "sMin" | "eMin" | "bCrit"): [number, number] => {
    // One seed per batch: resampling cannot vary anything, so no interval is known.
    if (draws.length < resamples / 2 || [...byBatch.values()].every((steps) => steps.length < 2)) return [NaN, NaN];
    const sorted = draws.map((d) => d[key]).sort((a, b) => a - b);
    return [percentile(sorted, 0.025), percentile(sorted, 0.975)];
  };
  return {
    sMin: fit.alpha,
    eMin: fit.beta,
    bCrit: fit.beta / fit.alpha,
    sMinInterval: interval("sMin"),
    eMinInterval: interval("eMin"),
    bCritInterval: interval("bCrit"),
    batches: [...byBatch.keys()].sort((a, b) => a - b),
    validResamples: draws.length,
    resamples,
  };
}
