/** Loss smoothing exactly as TensorBoard's scalar dashboard, and fluctuation statistics of a raw loss series. */
import { requirePositiveInteger } from "../util";

/**
 * TensorBoard's debiased exponential moving average, one point at a time. Non-finite points pass through
 * and do not enter the average (TensorBoard's special case of a wholly constant series is in `smoothLoss`).
 */
export class LossSmoother {
  private accumulated = 0;
  private count = 0;

  constructor(private readonly weight = 0.6) {
    if (!(weight >= 0 && weight <= 1)) throw new Error(`smoothLoss: weight must be in [0, 1], got ${weight}`);
  }

  /** Adds `value` and returns its smoothed counterpart. */
  push(value: number): number {
    if (!Number.isFinite(value)) return value;
    this.accumulated = this.accumulated * this.weight + (1 - this.weight) * value;
    this.count++;
    const debias = this.weight === 1 ? 1 : 1 - Math.pow(this.weight, this.count);
    return this.accumulated / debias;
  }
}

/**
 * TensorBoard's debiased exponential moving average with `weight` in [0, 1].
 * Non-finite points pass through unchanged and do not enter the average; a constant series is returned as is.
 */
export function smoothLoss(values: readonly number[], weight = 0.6): number[] {
  const smoother = new LossSmoother(weight);
  if (values.every((v) => v === values[0])) return values.slice();
  return values.map((v) => smoother.push(v));
}

/** Mean, sample standard deviation and coefficient of variation (std / |mean|) of the last points. */
export interface FluctuationStats {
  mean: number;
  std: number;
  cv: number;
}

/** Fluctuation statistics of `values[end - window .. end)` (fewer points at the start; NaN std below 2 points). */
export function windowStats(values: readonly number[], window: number, end = values.length): FluctuationStats {
  requirePositiveInteger(window, "windowStats: window");
  const slice = values.slice(Math.max(0, end - window), end);
  const n = slice.length;
  const mean = slice.reduce((a, b) => a + b, 0) / n;
  const std = n < 2 ? NaN : Math.sqrt(slice.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, std, cv: std / Math.abs(mean) };
}

/** Rolling fluctuation statistics: one `windowStats` per point, over the `window` points ending there. */
export function rollingLossStats(values: readonly number[], window: number): FluctuationStats[] {
  return values.map((_, i) => windowStats(values, window, i + 1));
}
