/** AdamW (Loshchilov & Hutter) with decoupled weight decay, in the exact operation order of torch.optim.AdamW. */
import * as tf from "@tensorflow/tfjs";

/** Hyperparameters of AdamW; `decays(name)` says whether a variable is weight-decayed. */
export interface AdamWConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  decays(variableName: string): boolean;
}

/** The optimizer's state as plain arrays (what a checkpoint stores). */
export interface AdamWState {
  step: number;
  firstMoments: Float32Array[];
  secondMoments: Float32Array[];
}

/** AdamW over a fixed list of variables; moments live in non-trainable tf.Variables. */
export class AdamW {
  /** Number of updates applied so far. */
  step = 0;
  private readonly firstMoments: tf.Variable[];
  private readonly secondMoments: tf.Variable[];
  private readonly decayMask: boolean[];

  constructor(private readonly variables: tf.Variable[], private readonly config: AdamWConfig) {
    this.firstMoments = variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    this.secondMoments = variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
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
    // Small nested tidies: only a few variable-sized temporaries are alive at any time (low peak memory).
    this.variables.forEach((param, i) => {
      const g = grads[i];
      const m = this.firstMoments[i];
      const v = this.secondMoments[i];
      tf.tidy(() => m.assign(m.mul(beta1).add(g.mul(1 - beta1))));
      tf.tidy(() => v.assign(v.mul(beta2).add(tf.tidy(() => g.square().mul(1 - beta2)))));
      tf.tidy(() => {
        const denom = tf.tidy(() => v.sqrt().div(sqrtCorrection2).add(epsilon));
        const step = tf.tidy(() => m.div(denom).mul(stepSize));
        denom.dispose();
        const decayed = this.decayMask[i] ? param.mul(1 - lr * weightDecay) : param;
        param.assign(decayed.sub(step));
      });
    });
  }

  /** A copy of the state for checkpoints. */
  getState(): AdamWState {
    return {
      step: this.step,
      firstMoments: this.firstMoments.map((m) => new Float32Array(m.dataSync())),
      secondMoments: this.secondMoments.map((v) => new Float32Array(v.dataSync())),
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
    tf.tidy(() => {
      this.variables.forEach((p, i) => {
        this.firstMoments[i].assign(tf.tensor(state.firstMoments[i], p.shape, "float32"));
        this.secondMoments[i].assign(tf.tensor(state.secondMoments[i], p.shape, "float32"));
      });
    });
  }

  /** Releases the moment tensors. */
  dispose(): void {
    tf.dispose([...this.firstMoments, ...this.secondMoments]);
  }
}
