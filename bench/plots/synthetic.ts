/** Deterministic synthetic training histories and sweep results for chart benchmarks and the README screenshot. */
import { SeededRng } from "../../src/random";

/** Standard normal samples from a seeded PRNG (Box–Muller). */
function normals(seed: number): () => number {
  const rng = new SeededRng(seed);
  return () => rng.nextGaussian();
}

/** One synthetic trainer history: loss decays, its step-to-step noise scales like 1/sqrt(batch size). */
export function syntheticHistory(steps: number, effectiveBatchSize: number, seed: number) {
  const noise = normals(seed * 7919 + effectiveBatchSize);
  return Array.from({ length: steps }, (_, i) => {
    const step = i + 1;
    const progress = (step * effectiveBatchSize) / 4000;
    const loss = 0.22 + 1.1 * Math.exp(-progress) + (0.55 / Math.sqrt(effectiveBatchSize)) * noise() * (0.5 + 0.5 * Math.exp(-progress));
    return {
      step,
      examplesSeen: step * effectiveBatchSize,
      loss: Math.max(0.01, loss),
      lr: 2e-5 * Math.min(1, step / 50),
      noiseScale: step % 25 === 0 ? 20 + 300 * (1 - Math.exp(-progress / 2)) * Math.exp(0.25 * noise()) : undefined,
    };
  });
}

/** Labelled runs for every batch size × seed. */
export function syntheticRuns(steps: number, batchSizes: readonly number[], seeds: readonly number[]) {
  return batchSizes.flatMap((b) =>
    seeds.map((seed) => ({
      run: `B${b}-s${seed}`,
      config: { effectiveBatchSize: b, perDeviceBatchSize: Math.min(b, 8), gradientAccumulationSteps: Math.max(1, b / 8), learningRate: 2e-5, seed },
      history: syntheticHistory(steps, b, seed),
    })),
  );
}
