/**
 * The gradient noise scale B_simple = tr(S) / |G|^2 of McCandlish et al. 2018, "An Empirical Model of
 * Large-Batch Training", Appendix A, estimated during gradient accumulation from quantities we already have:
 * the gradient of each micro-batch (small batches) and the accumulated gradient (the big batch).
 *
 * For a batch of b items, E|G_b|^2 = |G|^2 + tr(S) / b. With micro-batches of sizes b_i (mean of |G_{b_i}|^2
 * has expectation |G|^2 + tr(S) * mean(1/b_i)) and the effective batch of B items this gives the unbiased
 * estimators tr(S) = (s_small - s_big) / (mean(1/b_i) - 1/B) and |G|^2 = s_big - tr(S) / B; for equal sizes
 * these are the paper's (B|G_B|^2 - b|G_b|^2) / (B - b) and (|G_b|^2 - |G_B|^2) / (1/b - 1/B). Single
 * estimates are noisy, so both are averaged with an exponential moving average before taking the ratio.
 */

/** What one optimizer step contributes: squared gradient norms at the two batch sizes. */
export interface NoiseScaleSample {
  /** |gradient of each micro-batch's mean loss|^2. */
  microSquaredNorms: number[];
  /** Items in each micro-batch. */
  microCounts: number[];
  /** |gradient of the effective batch's mean loss|^2 (before clipping). */
  bigSquaredNorm: number;
}

/** Unbiased single-step estimates of |G|^2 and tr(S), or undefined when the two batch sizes coincide. */
export function estimateNoiseComponents(sample: NoiseScaleSample): { gradSquared: number; trace: number } | undefined {
  const sizes = sample.microCounts;
  if (sizes.length < 2 || sizes.some((b) => b <= 0)) return undefined;
  const bigBatch = sizes.reduce((a, b) => a + b, 0);
  const smallSquared = sample.microSquaredNorms.reduce((a, b) => a + b, 0) / sizes.length;
  const meanInverseSmall = sizes.reduce((a, b) => a + 1 / b, 0) / sizes.length;
  const trace = (smallSquared - sample.bigSquaredNorm) / (meanInverseSmall - 1 / bigBatch);
  return { gradSquared: sample.bigSquaredNorm - trace / bigBatch, trace };
}

/** Serializable state of the estimator's moving averages. */
export interface NoiseScaleState {
  gradSquared: number;
  trace: number;
  updates: number;
}

/** Exponential moving averages (debiased) of |G|^2 and tr(S); their ratio is the noise scale. */
export class GradientNoiseScale {
  private state: NoiseScaleState = { gradSquared: 0, trace: 0, updates: 0 };

  constructor(private readonly decay: number) {}

  /** Adds one step's sample; steps with a single micro-batch carry no information and are skipped. */
  update(sample: NoiseScaleSample): void {
    const estimate = estimateNoiseComponents(sample);
    if (!estimate || !Number.isFinite(estimate.trace) || !Number.isFinite(estimate.gradSquared)) return;
    const d = this.decay;
    this.state = {
      gradSquared: d * this.state.gradSquared + (1 - d) * estimate.gradSquared,
      trace: d * this.state.trace + (1 - d) * estimate.trace,
      updates: this.state.updates + 1,
    };
  }

  /** B_simple in items, or undefined before any usable sample (or when the |G|^2 average is not positive). */
  get value(): number | undefined {
    if (this.state.updates === 0 || this.state.gradSquared <= 0) return undefined;
    return this.state.trace / this.state.gradSquared; // the EMA debias factors cancel in the ratio
  }

  /** The moving averages, for checkpoints. */
  getState(): NoiseScaleState {
    return { ...this.state };
  }

  /** Restores `getState`'s result. */
  setState(state: NoiseScaleState): void {
    this.state = { ...state };
  }
}

/** Plain-language advice comparing the noise scale with the effective batch b * k. */
export function noiseScaleAdvice(noiseScale: number | undefined, perDeviceBatchSize: number, accumulationSteps: number): string {
  const effective = perDeviceBatchSize * accumulationSteps;
  if (noiseScale === undefined) {
    return accumulationSteps < 2
      ? "noise scale unknown: it is estimated from gradient accumulation; use gradientAccumulationSteps >= 2"
      : "noise scale not estimated yet";
  }
  const suggested = Math.max(1, Math.round(noiseScale / perDeviceBatchSize));
  return `noise scale ~${Math.round(noiseScale)} examples; your effective batch is ${perDeviceBatchSize}*${accumulationSteps} = ${effective}; try gradientAccumulationSteps ~ ${suggested}`;
}
