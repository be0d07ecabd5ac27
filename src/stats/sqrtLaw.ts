/** The c/sqrt(B) law of averaging B independent gradients: loss fluctuation falls as 1/sqrt(effective batch). */

/** The least-squares fit of log y = a + b log B (free slope) and of log y = log c − ½ log B (slope fixed). */
export interface SqrtLawFit {
  /** c in the reference c / sqrt(B). */
  c: number;
  /** Observed slope b in log–log space (NaN with fewer than two distinct batch sizes). */
  slope: number;
}

/** Fits the reference c/sqrt(B) (slope fixed at −½) and the observed log–log slope to positive points. */
export function fitSqrtLaw(points: readonly { batch: number; value: number }[]): SqrtLawFit {
  const xs = points.map((p) => Math.log(p.batch));
  const ys = points.map((p) => Math.log(p.value));
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  const c = Math.exp(my + 0.5 * mx);
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const sxy = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0);
  return { c, slope: sxx > 0 ? sxy / sxx : NaN };
}
