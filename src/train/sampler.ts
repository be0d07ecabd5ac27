/** The default data order: a seeded shuffle per epoch, cut into micro-batches (the last one may be short). */
import type { BatchSampler } from "./contract";
import { deriveSeed, SeededRng } from "../random";

/** Splits `indices` into consecutive chunks of `size` (the last one shorter when it does not divide). */
export function chunk(indices: number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < indices.length; i += size) out.push(indices.slice(i, i + size));
  return out;
}

/** A sampler that shuffles all `size` examples with a seed derived from (seed, epoch). */
export function shuffledSampler(size: number): BatchSampler {
  return {
    epochBatches(epoch, seed, microBatchSize) {
      const order = Array.from({ length: size }, (_, i) => i);
      new SeededRng(deriveSeed(seed, epoch)).shuffle(order);
      return chunk(order, microBatchSize);
    },
  };
}

/** A sampler that keeps the examples in their original order every epoch. */
export function sequentialSampler(size: number): BatchSampler {
  return {
    epochBatches: (_epoch, _seed, microBatchSize) =>
      chunk(
        Array.from({ length: size }, (_, i) => i),
        microBatchSize,
      ),
  };
}
