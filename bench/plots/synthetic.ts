/** Deterministic synthetic training histories and sweep results for chart benchmarks and the README screenshot. */

/** A small seeded PRNG (mulberry32) returning uniforms in [0, 1). */
function uniforms(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a seeded PRNG (Box–Muller). */
function normals(seed: number): () => number {
  const u = uniforms(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
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
