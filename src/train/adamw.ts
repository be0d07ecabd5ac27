/** AdamW (Loshchilov & Hutter) with decoupled weight decay, in the exact operation order of torch.optim.AdamW. */
import * as tf from "@tensorflow/tfjs";
import { ADAMW_HOST_STEP_KERNEL, type AdamWHostStepAttrs } from "../backend";

/** Hyperparameters of AdamW; `decays(name)` says whether a variable is weight-decayed. */
export interface AdamWConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** Whether the variable named so is weight-decayed. */
  decays(variableName: string): boolean;
}

/** The optimizer's state as plain arrays (what a checkpoint stores). */
export interface AdamWState {
  step: number;
  firstMoments: Float32Array[];
  secondMoments: Float32Array[];
}

/**
 * Where AdamW keeps its two moments: `"host"` = Float32Arrays in ordinary memory, outside the backend (on WASM,
 * outside its 4 GiB heap: longformer-base's 1.2 GB of moments then leave that heap to weights, gradients and
 * activations), updated in JavaScript with float32 rounding after every operation — bit-identical to the tensor
 * ops; `"backend"` = tf.Variables (right for a GPU backend, where reading gradients back would cost a transfer).
 */
export type AdamWMomentStorage = "host" | "backend";

/** The storage AdamW uses by default: host memory on the WASM and cpu backends, the backend elsewhere. */
export function defaultMomentStorage(): AdamWMomentStorage {
  return tf.getBackend() === "wasm" || tf.getBackend() === "cpu" ? "host" : "backend";
}

/** AdamW over a fixed list of variables. */
export class AdamW {
  /** Number of updates applied so far. */
  step = 0;
  private readonly hostMoments: { first: Float32Array; second: Float32Array }[] | null;
  private readonly backendMoments: { first: tf.Variable; second: tf.Variable }[] | null;
  private readonly decayMask: boolean[];

  constructor(
    private readonly variables: tf.Variable[],
    private readonly config: AdamWConfig,
    readonly momentStorage: AdamWMomentStorage = defaultMomentStorage(),
  ) {
    this.hostMoments = momentStorage === "host" ? variables.map((v) => ({ first: new Float32Array(v.size), second: new Float32Array(v.size) })) : null;
    this.backendMoments =
      momentStorage === "backend"
        ? variables.map((v) => tf.tidy(() => ({ first: tf.variable(tf.zerosLike(v), false), second: tf.variable(tf.zerosLike(v), false) })))
        : null;
    this.decayMask = variables.map((v) => config.weightDecay > 0 && config.decays(v.name));
  }

  /** Names of the variables that are weight-decayed. */
  decayedVariableNames(): string[] {
    return this.variables.filter((_, i) => this.decayMask[i]).map((v) => v.name);
  }

  /**
   * One update with learning rate `lr`; `grads[i]` is the gradient of `variables[i]` (not disposed here).
   * p <- p * (1 - lr * wd); m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
   * p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
   */
  apply(grads: tf.Tensor[], lr: number): void {
    if (grads.length !== this.variables.length) {
      throw new Error(`AdamW.apply: got ${grads.length} gradients for ${this.variables.length} variables`);
    }
    this.step++;
    const { beta1, beta2, epsilon, weightDecay } = this.config;
    const stepSize = lr / (1 - Math.pow(beta1, this.step));
    const sqrtCorrection2 = Math.sqrt(1 - Math.pow(beta2, this.step));
    const scalars = { beta1, beta2, epsilon, stepSize, sqrtCorrection2, decayFactor: 1 - lr * weightDecay };
    this.variables.forEach((param, i) => {
      if (this.hostMoments) updateOnHost(param, grads[i], this.hostMoments[i], this.decayMask[i], scalars);
      else updateOnBackend(param, grads[i], this.backendMoments![i], this.decayMask[i], scalars);
    });
  }

  /** A copy of the state for checkpoints. */
  getState(): AdamWState {
    return {
      step: this.step,
      firstMoments: this.hostMoments ? this.hostMoments.map((m) => m.first.slice()) : this.backendMoments!.map((m) => new Float32Array(m.first.dataSync())),
      secondMoments: this.hostMoments ? this.hostMoments.map((m) => m.second.slice()) : this.backendMoments!.map((m) => new Float32Array(m.second.dataSync())),
    };
  }

  /** Restores a state from `getState` (shapes must match the variables). */
  setState(state: AdamWState): void {
    const check = (arrays: Float32Array[], what: string) => {
      if (arrays.length !== this.variables.length) {
        throw new Error(`AdamW.setState: ${what} has ${arrays.length} entries, the model has ${this.variables.length} variables`);
      }
      arrays.forEach((a, i) => {
        if (a.length !== this.variables[i].size) {
          throw new Error(`AdamW.setState: ${what}[${i}] has ${a.length} values, variable ${this.variables[i].name} has ${this.variables[i].size}`);
        }
      });
    };
    check(state.firstMoments, "firstMoments");
    check(state.secondMoments, "secondMoments");
    this.step = state.step;
    this.variables.forEach((p, i) => {
      if (this.hostMoments) {
        this.hostMoments[i].first.set(state.firstMoments[i]);
        this.hostMoments[i].second.set(state.secondMoments[i]);
      } else {
        tf.tidy(() => {
          this.backendMoments![i].first.assign(tf.tensor(state.firstMoments[i], p.shape, "float32"));
          this.backendMoments![i].second.assign(tf.tensor(state.secondMoments[i], p.shape, "float32"));
        });
      }
    });
  }

  /** Releases the moments. */
  dispose(): void {
    if (this.backendMoments) tf.dispose(this.backendMoments.flatMap((m) => [m.first, m.second]));
  }
}

interface UpdateScalars {
  beta1: number;
  beta2: number;
  epsilon: number;
  stepSize: number;
  sqrtCorrection2: number;
  decayFactor: number;
}

/** The update with tensor ops; small nested tidies keep only a few variable-sized temporaries alive (low peak memory). */
function updateOnBackend(param: tf.Variable, g: tf.Tensor, moments: { first: tf.Variable; second: tf.Variable }, decays: boolean, s: UpdateScalars): void {
  const { first: m, second: v } = moments;
  tf.tidy(() => m.assign(m.mul(s.beta1).add(g.mul(1 - s.beta1))));
  tf.tidy(() => v.assign(v.mul(s.beta2).add(tf.tidy(() => g.square().mul(1 - s.beta2)))));
  tf.tidy(() => {
    const denom = tf.tidy(() => v.sqrt().div(s.sqrtCorrection2).add(s.epsilon));
    const step = tf.tidy(() => m.div(denom).mul(s.stepSize));
    denom.dispose();
    const decayed = decays ? param.mul(s.decayFactor) : param;
    param.assign(decayed.sub(step));
  });
}

/**
 * The same update on host moments, each operation rounded to float32 in the order of `updateOnBackend` (scalars
 * too, as tfjs makes them float32 tensors), so both give the same bits: as one SIMD kernel where the backend has
 * it (WASM: src/backend/optimizerKernels.ts), else in JavaScript.
 */
function updateOnHost(
  param: tf.Variable,
  gradient: tf.Tensor,
  moments: { first: Float32Array; second: Float32Array },
  decays: boolean,
  s: UpdateScalars,
): void {
  const f = Math.fround;
  const [b1, c1, b2, c2] = [f(s.beta1), f(1 - s.beta1), f(s.beta2), f(1 - s.beta2)];
  const [eps, stepSize, correction, decay] = [f(s.epsilon), f(s.stepSize), f(s.sqrtCorrection2), f(s.decayFactor)];
  if (tf.getKernel(ADAMW_HOST_STEP_KERNEL, tf.getBackend())) {
    const attrs: AdamWHostStepAttrs = {
      ...moments,
      beta1: b1,
      oneMinusBeta1: c1,
      beta2: b2,
      oneMinusBeta2: c2,
      epsilon: eps,
      stepSize,
      sqrtCorrection2: correction,
      decayFactor: decay,
      decays,
    };
    tf.tidy(() => param.assign(tf.engine().runKernel<tf.Tensor>(ADAMW_HOST_STEP_KERNEL, { param, gradient }, attrs as unknown as tf.NamedAttrMap)));
    return;
  }
  const g = gradient.dataSync() as Float32Array;
  // A copy: on the cpu backend dataSync returns the buffer itself, which other tensors may share (tf.variable
  // shares its initial tensor's; tf.tensor keeps the array it was given); writing into it would change them too.
  const p = (param.dataSync() as Float32Array).slice();
  const { first: m, second: v } = moments;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = (m[i] = f(f(m[i] * b1) + f(gi * c1)));
    const vi = (v[i] = f(f(v[i] * b2) + f(f(gi * gi) * c2)));
    const step = f(f(mi / f(f(f(Math.sqrt(vi)) / correction) + eps)) * stepSize);
    p[i] = f((decays ? f(p[i] * decay) : p[i]) - step);
  }
  tf.tidy(() => param.assign(tf.tensor(p, param.shape, "float32")));
}
