/**
 * The small building blocks of the Longformer modules: the parameter store (tf.Variables keyed by HF
 * parameter names), the per-call forward context (training flag, seeded dropout, shape tracing) and
 * PyTorch-layout Linear, LayerNorm and activations.
 */
import * as tf from "@tensorflow/tfjs";
import type { LongformerActivation } from "./config";

/** HF parameter name -> variable; PyTorch layouts (`Linear.weight` is `[out, in]`). */
export class LongformerParameters {
  private readonly byName = new Map<string, tf.Variable>();

  /** Wraps `values` (name -> tensor data) in trainable variables; the tensors are copied. */
  constructor(values: Map<string, { shape: number[]; data: Float32Array }>) {
    const registered = tf.engine().registeredVariables;
    for (const [name, { shape, data }] of values) {
      // tf.Variable names are global to the engine: a second model gets Keras-style suffixes.
      let unique = name;
      for (let k = 1; registered[unique] !== undefined; k++) unique = `${name}_${k}`;
      this.byName.set(name, tf.tidy(() => tf.variable(tf.tensor(data, shape, "float32"), true, unique)));
    }
  }

  /** The variable of an HF parameter name; throws naming it when absent. */
  get(name: string): tf.Variable {
    const v = this.byName.get(name);
    if (!v) throw new Error(`Longformer: no parameter named ${name}`);
    return v;
  }

  /** All parameters in creation order, keyed by HF name. */
  entries(): [string, tf.Variable][] {
    return [...this.byName.entries()];
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const v of this.byName.values()) v.dispose();
    this.byName.clear();
  }
}

/** Called with the name and shape of every attention intermediate when tracing is on. */
export type LongformerShapeTracer = (name: string, shape: number[]) => void;

/** Per-forward-call state shared by all modules. */
export class ForwardContext {
  /** `seed` makes dropout masks reproducible: call k of a forward pass uses seed `${seed}:${k}`. */
  constructor(
    readonly training: boolean,
    private readonly seed: string,
    readonly trace?: LongformerShapeTracer,
    private dropoutCalls = 0,
  ) {}

  /**
   * Inverted dropout when training with rate > 0; identity otherwise. The mask is tf.dropout's
   * (floor(uniform + keep) / keep, same seed, same numbers) but only the mask is kept for the gradient.
   */
  dropout<T extends tf.Tensor>(x: T, rate: number): T {
    if (!this.training || rate === 0) return x;
    const seed = `${this.seed}:${this.dropoutCalls++}`;
    const keep = 1 - rate;
    const apply = tf.customGrad((...args) => {
      const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
      const mask = tf.tidy(() => tf.div(tf.floor(tf.add(tf.randomUniform(input.shape, 0, 1, "float32", seed), keep)), keep));
      save([mask]);
      return { value: tf.mul(input, mask), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]) };
    });
    return apply(x) as T;
  }

  /** How many dropout masks this pass has drawn (a checkpointed layer notes it to replay them). */
  get dropoutCallsSoFar(): number {
    return this.dropoutCalls;
  }

  /** A context that draws the masks this one drew from dropout call `fromCall` on (for recomputation; no tracing). */
  replayFrom(fromCall: number): ForwardContext {
    return new ForwardContext(this.training, this.seed, undefined, fromCall);
  }

  /** Records the shape of an attention intermediate (when tracing) and returns it unchanged. */
  note<T extends tf.Tensor>(name: string, x: T): T {
    this.trace?.(name, x.shape.slice());
    return x;
  }
}

/**
 * y = x Wᵀ + b on 2-D x with a PyTorch `[out, in]` weight. Every product is a plain (non-transposed)
 * matMul — on the WASM backend a transposed right operand is many times slower — and the
 * gradients are dx = dy W, dW = dyᵀ x, db = Σ dy. (tf.fused.matMul with transposeB and a bias
 * also returns wrong values on WASM in tfjs 4.22.)
 */
const linear2d = tf.customGrad((...args) => {
  const [x, weight, bias, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, weight]);
  return {
    value: tf.add(tf.matMul(x, tf.transpose(weight)), bias),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedX, savedWeight] = saved as tf.Tensor2D[];
      const dy2d = dy as tf.Tensor2D;
      return [tf.matMul(dy2d, savedWeight), tf.matMul(tf.transpose(dy2d), savedX), tf.sum(dy2d, 0)];
    },
  };
});

/** y = x Wᵀ + b over the last axis with a PyTorch `[out, in]` weight. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const inFeatures = x.shape[x.shape.length - 1];
  const y = linear2d(x.reshape([-1, inFeatures]), weight, bias);
  return y.reshape([...x.shape.slice(0, -1), weight.shape[0]]);
}

/** PyTorch LayerNorm over the last axis (biased variance). */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const axis = x.shape.length - 1;
  const centered = tf.sub(x, tf.mean(x, axis, true));
  const variance = tf.mean(tf.square(centered), axis, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

/** The activation named by HF's `hidden_act` (`gelu` is the exact erf form). */
export function activation(x: tf.Tensor, name: LongformerActivation): tf.Tensor {
  switch (name) {
    case "gelu":
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case "gelu_new":
    case "gelu_pytorch_tanh": {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
    case "relu":
      return tf.relu(x);
    case "tanh":
      return tf.tanh(x);
    case "silu":
    case "swish":
      return tf.mul(x, tf.sigmoid(x));
  }
}
