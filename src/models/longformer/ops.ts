/**
 * The small building blocks of the Longformer modules: the parameter store (tf.Variables keyed by HF
 * parameter names), the per-call forward context (training flag, seeded dropout, shape tracing) and
 * PyTorch-layout Linear, LayerNorm and activations.
 */
import * as tf from "@tensorflow/tfjs";
import { GELU_GRAD_KERNEL, GELU_KERNEL, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL, applyDropout } from "../../backend";
import { isVariableNameTaken } from "../../backend/tfjsInternals";
import type { LongformerActivation } from "./config";
import type { LongformerWeights } from "./weights";

/** HF parameter name -> variable; PyTorch layouts (`Linear.weight` is `[out, in]`). */
export class LongformerParameters {
  private readonly byName = new Map<string, tf.Variable>();

  /** Wraps `values` (name -> tensor data) in trainable variables; the tensors are copied. */
  constructor(values: Map<string, { shape: number[]; data: Float32Array }>) {
    for (const [name, { shape, data }] of values) {
      // tf.Variable names are global to the engine: a second model gets Keras-style suffixes.
      let unique = name;
      for (let k = 1; isVariableNameTaken(unique); k++) unique = `${name}_${k}`;
      this.byName.set(
        name,
        tf.tidy(() => tf.variable(tf.tensor(data, shape, "float32"), true, unique)),
      );
    }
  }

  /** The variable of an HF parameter name; throws naming it when absent. */
  get(name: string): tf.Variable {
    const v = this.byName.get(name);
    if (!v) throw new Error(`Longformer: no parameter named ${name}`);
    return v;
  }

  /** A copy of every parameter's values by HF name. */
  copyValues(): LongformerWeights {
    const out: LongformerWeights = new Map();
    for (const [name, v] of this.byName) out.set(name, { shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) });
    return out;
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
   * Inverted dropout when training with rate > 0; identity otherwise. Nothing is kept for the gradient: it is dy
   * times the same mask, drawn again from the same key (one kernel each way on WASM, no mask in memory).
   */
  dropout<T extends tf.Tensor>(x: T, rate: number): T {
    if (!this.training || rate === 0) return x;
    const key = dropoutKey(`${this.seed}:${this.dropoutCalls++}`);
    const apply = tf.customGrad((...args) => {
      const [input] = args as [tf.Tensor];
      return { value: applyDropout(input, rate, key), gradFunc: (dy: tf.Tensor) => applyDropout(dy, rate, key) };
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
 * The key of the counter-based inverted-dropout mask (src/backend/dropoutKernels.ts) for a seed string: its FNV-1a
 * hash, so masks are reproducible and independent of the backend and of the thread count.
 */
function dropoutKey(seed: string): number {
  let key = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) key = Math.imul(key ^ seed.charCodeAt(i), 0x01000193);
  return key >>> 0;
}

/**
 * y = x Wᵀ + b on 2-D x with a PyTorch `[out, in]` weight; dx = dy W, dW = dyᵀ x, db = Σ dy (rows), computed in one
 * tidy so that their temporaries die at once. Only x and W are kept for the backward pass. The forward pass is one
 * fused product (the bias added to each row of x Wᵀ, one kernel): on WASM it runs on the BLAS when the native addon
 * is active, else on XNNPACK with explicit transposes (src/backend/matMulKernels.ts, which also corrects tfjs 4.22's
 * own WASM kernel, wrong with transposeB and a bias).
 */
const linear2d = tf.customGrad((...args) => {
  const [x, weight, bias, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, weight]);
  return {
    value: tf.fused.matMul({ a: x, b: weight, transposeB: true, bias }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [savedX, savedWeight] = saved as tf.Tensor2D[];
        const dy2d = dy as tf.Tensor2D;
        return [tf.matMul(dy2d, savedWeight), tf.matMul(dy2d, savedX, true, false), tf.sum(dy2d, 0)];
      }),
  };
});

/** y = x Wᵀ + b over the last axis with a PyTorch `[out, in]` weight. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const inFeatures = x.shape[x.shape.length - 1];
  const y = linear2d(x.reshape([-1, inFeatures]), weight, bias);
  return y.reshape([...x.shape.slice(0, -1), weight.shape[0]]);
}

/**
 * PyTorch LayerNorm over the last axis (biased variance) of `x`, or of `x + residual` when given (the
 * post-LayerNorm residual block of BERT/RoBERTa). Keeps only x̂ = (x - mean) / σ and 1/σ for the backward
 * pass: dx = (1/σ) (g - mean(g) - x̂ mean(g x̂)) with g = dy γ; dγ = Σ dy x̂; dβ = Σ dy. One kernel each way on
 * WASM (src/backend/activationKernels.ts), stock ops elsewhere.
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number, residual?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const features = shape[shape.length - 1];
  const kernels = tf.getKernel(LAYER_NORM_KERNEL, tf.getBackend()) !== undefined;
  const norm = tf.customGrad((...args) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [input, gamma, beta, other] = args.slice(0, -1) as (tf.Tensor | undefined)[] as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?];
    const [value, normalized, inverseStd]: tf.Tensor[] = kernels
      ? tf.engine().runKernel<tf.Tensor[]>(LAYER_NORM_KERNEL, { x: input, gamma, beta, ...(other ? { residual: other } : {}) }, { eps })
      : tf.tidy(() => {
          const summed = (other ? tf.add(input, other) : input).reshape([-1, features]);
          const centered = tf.sub(summed, tf.mean(summed, 1, true));
          const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), 1, true), eps));
          const xHat = tf.mul(centered, rstd);
          return [tf.add(tf.mul(xHat, gamma), beta).reshape(shape), xHat, rstd];
        });
    save([normalized, inverseStd, gamma]);
    tf.dispose([normalized, inverseStd]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [xHat, rstd, g] = saved;
          let grads: tf.Tensor[];
          if (kernels) {
            grads = tf.engine().runKernel<tf.Tensor[]>(LAYER_NORM_GRAD_KERNEL, { dy, xHat, invStd: rstd, gamma: g });
          } else {
            const dy2d = dy.reshape<tf.Tensor2D>([-1, features]);
            const dxHat = tf.mul(dy2d, g);
            const dx = tf.mul(rstd, tf.sub(tf.sub(dxHat, tf.mean(dxHat, 1, true)), tf.mul(xHat, tf.mean(tf.mul(dxHat, xHat), 1, true)))).reshape(shape);
            grads = [dx, tf.sum(tf.mul(dy2d, xHat), 0), tf.sum(dy2d, 0)];
          }
          return other ? [...grads, grads[0]] : grads;
        }),
    };
  });
  return residual ? norm(x, weight, bias, residual) : norm(x, weight, bias);
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * HF's exact `gelu`, x Φ(x) = x (1 + erf(x / √2)) / 2, keeping only x: d/dx = Φ(x) + x φ(x). One SIMD kernel
 * each way on WASM (src/backend/activationKernels.ts), stock ops elsewhere.
 */
const exactGelu = tf.customGrad((...args) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  const kernels = tf.getKernel(GELU_KERNEL, tf.getBackend()) !== undefined;
  return {
    value: kernels ? tf.engine().runKernel<tf.Tensor>(GELU_KERNEL, { x }) : tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))))),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [input] = saved;
        if (kernels) return tf.engine().runKernel<tf.Tensor>(GELU_GRAD_KERNEL, { x: input, dy });
        const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(input, Math.SQRT1_2))));
        const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(-0.5, tf.square(input))));
        return tf.mul(dy, tf.add(cdf, tf.mul(input, pdf)));
      }),
  };
});

/** The activation named by HF's `hidden_act` (`gelu` is the exact erf form). */
export function activation(x: tf.Tensor, name: LongformerActivation): tf.Tensor {
  switch (name) {
    case "gelu":
      return exactGelu(x);
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
