/**
 * Confidence intervals for the study: Student-t intervals of a mean over seeds (quantiles from
 * @stdlib/stats-base-dists-t-quantile), percentile bootstrap intervals over examples (seeded), and the
 * separation test the conclusion uses ("a difference only where intervals separate").
 */
import tQuantile = require("@stdlib/stats-base-dists-t-quantile");
import { SeededRng } from "../random";
import { formatNumber, requirePositiveInteger } from "../util";

/** A mean with its two-sided confidence interval (low/high are NaN when n < 2: no spread is known). */
export interface ConfidenceInterval {
  mean: number;
  low: number;
  high: number;
  /** Number of values behind the interval. */
  n: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new Error(`confidence level must be in (0, 1), got ${level}`);
}

/** The quantile of Student's t distribution with `df` degrees of freedom at probability `p`. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new Error(`studentTQuantile: df must be positive, got ${df}`);
  return tQuantile(p, df);
}

/** Sample mean and the t-interval `mean ± t_{(1+level)/2, n-1} · s / √n` of finite `values` (non-finite ones are left out). */
export function tInterval(values: readonly number[], level = 0.95): ConfidenceInterval {
  checkLevel(level);
  const xs = values.filter(Number.isFinite);
  const n = xs.length;
  if (n === 0) return { mean: NaN, low: NaN, high: NaN, n, level };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, low: NaN, high: NaN, n, level };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const half = studentTQuantile((1 + level) / 2, n - 1) * Math.sqrt(variance / n);
  return { mean, low: mean - half, high: mean + half, n, level };
}

/**
 * For a positive, right-skewed quantity (a ratio such as the gradient noise scale): the geometric mean and the
 * t-interval computed on log values, mapped back (`exp(mean(log x) ± t · s / √n)`), so the interval stays positive.
 * Values that are not positive and finite are left out (`n` counts the rest).
 */
export function logTInterval(values: readonly number[], level = 0.95): ConfidenceInterval {
  const onLog = tInterval(values.filter((v) => Number.isFinite(v) && v > 0).map(Math.log), level);
  return { mean: Math.exp(onLog.mean), low: Math.exp(onLog.low), high: Math.exp(onLog.high), n: onLog.n, level };
}

/**
 * For a quantity bounded to [min, max] (accuracy, F1): the t-interval with its ends clipped to the bounds, so that an
 * interval from few seeds never claims an F1 below 0 or above 1.
 */
export function boundedTInterval(values: readonly number[], min: number, max: number, level = 0.95): ConfidenceInterval {
  const ci = tInterval(values, level);
  return { ...ci, low: Number.isFinite(ci.low) ? Math.max(min, ci.low) : ci.low, high: Number.isFinite(ci.high) ? Math.min(max, ci.high) : ci.high };
}

/** Options of `bootstrapInterval`. */
export interface BootstrapOptions {
  /** Seed of the resampling (same seed, same interval). */
  seed: number;
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/**
 * Percentile bootstrap interval of `statistic` over `n` items: `statistic(indices)` is evaluated on the
 * full sample (the estimate) and on `resamples` samples of n indices drawn with replacement.
 */
export function bootstrapInterval(n: number, statistic: (indices: readonly number[]) => number, options: BootstrapOptions): ConfidenceInterval {
  const level = options.level ?? 0.95;
  checkLevel(level);
  const resamples = options.resamples ?? 1000;
  requirePositiveInteger(n, "bootstrapInterval: n");
  if (!(Number.isInteger(resamples) && resamples >= 2)) throw new Error(`bootstrapInterval: resamples must be an integer >= 2, got ${resamples}`);
  const rng = new SeededRng(options.seed);
  const all = Array.from({ length: n }, (_, i) => i);
  const values: number[] = [];
  for (let r = 0; r < resamples; r++) values.push(statistic(Array.from({ length: n }, () => Math.floor(rng.next() * n))));
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const quantile = (q: number) => {
    if (sorted.length === 0) return NaN;
    const pos = q * (sorted.length - 1);
    const lo = Math.floor(pos);
    return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
  };
  return { mean: statistic(all), low: quantile((1 - level) / 2), high: quantile((1 + level) / 2), n, level };
}

/** True when both intervals are known and do not overlap (a difference the data can show). */
export function intervalsSeparate(a: ConfidenceInterval, b: ConfidenceInterval): boolean {
  if (![a.low, a.high, b.low, b.high].every(Number.isFinite)) return false;
  return a.high < b.low || b.high < a.low;
}

/** `0.272 [0.21, 0.33]` (or just the mean when the interval is unknown); `digits` significant digits. */
export function formatInterval(ci: ConfidenceInterval, digits = 3): string {
  const f = (v: number) => formatNumber(v, digits);
  return Number.isFinite(ci.low) && Number.isFinite(ci.high) ? `${f(ci.mean)} [${f(ci.low)}, ${f(ci.high)}]` : f(ci.mean);
}
