/** Small seeded random helpers for data order and splits (deterministic across platforms). */
import { deriveSeed, SeededRng } from "../random";

/** A seeded generator for `seed` and an independent stream number (e.g. an epoch or a class label). */
export function seededRng(seed: number, stream = 0): SeededRng {
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
  return new SeededRng(deriveSeed(Math.floor(seed), stream));
}

/**
 * Splits `total` into integer parts proportional to `weights` (largest remainder; ties go to the earlier part),
 * so the parts always sum to `total` and each is within 1 of its exact share.
 */
export function allocateProportionally(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum > 0 ? (total * w) / sum : 0));
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; left > 0; k++, left--) parts[order[k].i]++;
  return parts;
}
