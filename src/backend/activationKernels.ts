/**
 * HF's exact GELU and its gradient, LayerNorm with its gradient, and the attention softmax with its gradient, as SIMD
 * kernels on the WASM backend (kernels/activations.c), replacing chains of stock ops (around tfjs's scalar Erf and
 * Exp for GELU). With the native addon
 * active (native.ts) the host build of the same source runs them on every core (native/layers.c); otherwise the
 * WebAssembly module built from it runs them on one. Both give the same bits (activations.c's header). Backends
 * without them use the stock ops.
 */
import * as tf from "@tensorflow/tfjs";
import { activationsWasmBase64 } from "./kernels/activationsWasm";
import { nativeAddon } from "./native";
import { WasmBackendInternals, heapBuffer, heapOffset, wasmModuleExports } from "./wasmModules";

/** Kernel names: `TsmlGelu(x)` = x Φ(x); `TsmlGeluGrad(x, dy)` = dy (Φ(x) + x φ(x)). float32, any shape. */
export const GELU_KERNEL = "TsmlGelu";
/** Kernel name of GELU's gradient (see above). */
export const GELU_GRAD_KERNEL = "TsmlGeluGrad";
/**
 * `TsmlLayerNorm(x, gamma, beta[, residual]; eps)` over the last axis of x (+ residual) -> [out, xHat, invStd `[rows]`];
 * `TsmlLayerNormGrad(dy, xHat, invStd, gamma)` -> [dx, dGamma, dBeta]. float32.
 */
export const LAYER_NORM_KERNEL = "TsmlLayerNorm";
/** Kernel name of LayerNorm's gradient (see above). */
export const LAYER_NORM_GRAD_KERNEL = "TsmlLayerNormGrad";
/**
 * `TsmlSoftmax(x[, xBias][, global[, globalBias]][, keep])` -> [p] or [p, pGlobal]: the softmax over the last axis of
 * x + xBias, or of the global columns and the band side by side (`[global + globalBias | x + xBias]`, without copying
 * them into one tensor), each row times its keep factor — x `[B, heads, n, W]`, xBias `[B, 1, n, W]`, global
 * `[B, heads, n, G]`, globalBias `[B, 1, 1, G]`, keep `[B, 1, n, 1]` (attention scores of the band and of the global
 * keys, their masks, the query-keep mask) — with exactly 0 for scores 87 or more below their row's maximum. float32.
 * Its gradient is registered with it (`TsmlSoftmaxGrad`; the masks are constants).
 */
export const SOFTMAX_KERNEL = "TsmlSoftmax";
/**
 * `TsmlSoftmaxGrad(p, dy[, globalP, globalDy])` -> [dx] or [dx, dGlobal]: P (DY - Σ DY P) over the last axis of
 * P = [globalP | p], DY = [globalDy | dy] (the softmax's gradient). float32.
 */
export const SOFTMAX_GRAD_KERNEL = "TsmlSoftmaxGrad";

/** The exports of kernels/activations.c's WebAssembly module (pointers are byte offsets into the heap). */
export interface ActivationsModuleExports {
  gelu(x: number, out: number, n: number): void;
  gelu_grad(x: number, dy: number, out: number, n: number): void;
  layer_norm(
    x: number,
    residual: number,
    gamma: number,
    beta: number,
    out: number,
    xHat: number,
    invStd: number,
    rows: number,
    width: number,
    eps: number,
  ): void;
  layer_norm_grad(dy: number, xHat: number, invStd: number, gamma: number, dx: number, dGamma: number, dBeta: number, rows: number, width: number): void;
  softmax(
    x: number,
    xBias: number,
    global: number,
    globalBias: number,
    keep: number,
    out: number,
    globalOut: number,
    rows: number,
    width: number,
    globalWidth: number,
    heads: number,
    n: number,
  ): void;
  softmax_grad(
    p: number,
    dy: number,
    globalP: number,
    globalDy: number,
    out: number,
    globalOut: number,
    rows: number,
    width: number,
    globalWidth: number,
  ): void;
}

function activations(backend: WasmBackendInternals): ActivationsModuleExports {
  return wasmModuleExports<ActivationsModuleExports>(backend, activationsWasmBase64);
}

function requireFloat(t: tf.TensorInfo, kernel: string): void {
  if (t.dtype !== "float32") throw new Error(`${kernel}: expected float32, got ${t.dtype}`);
}

/** heads and n of x `[B, heads, n, W]`, after checking that each mask given has the shape it broadcasts from. */
function maskBroadcast(x: tf.TensorInfo, masks: { xBias?: tf.TensorInfo; global?: tf.TensorInfo; globalBias?: tf.TensorInfo; keep?: tf.TensorInfo }) {
  if (!masks.xBias && !masks.globalBias && !masks.keep) return { heads: 1, n: 1 };
  if (x.shape.length !== 4) throw new Error(`${SOFTMAX_KERNEL}: masks need x as [B, heads, n, W], got [${x.shape}]`);
  const [B, heads, n, W] = x.shape;
  const expected = { xBias: [B, 1, n, W], globalBias: [B, 1, 1, masks.global?.shape[3] ?? 0], keep: [B, 1, n, 1] };
  for (const name of ["xBias", "globalBias", "keep"] as const) {
    const mask = masks[name];
    if (mask && !tf.util.arraysEqual(mask.shape, expected[name])) {
      throw new Error(`${SOFTMAX_KERNEL}: ${name} must be [${expected[name]}] for x [${x.shape}], got [${mask.shape}]`);
    }
  }
  if (masks.globalBias && !masks.global) throw new Error(`${SOFTMAX_KERNEL}: globalBias without global columns`);
  return { heads, n };
}

/** The number of global columns `global` adds to the rows of `x`, after checking it has x's shape but for the last axis. */
function globalColumns(x: tf.TensorInfo, global: tf.TensorInfo, kernel: string): number {
  const rank = x.shape.length;
  if (global.shape.length !== rank || global.shape.some((dim, i) => i < rank - 1 && dim !== x.shape[i])) {
    throw new Error(`${kernel}: the global columns [${global.shape}] must have the shape of [${x.shape}] but for the last axis`);
  }
  return global.shape[rank - 1];
}

/** The GELU, LayerNorm and softmax kernels, for registration on the wasm backend. */
export const wasmActivationKernels: tf.KernelConfig[] = [
  {
    kernelName: GELU_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      requireFloat(x, GELU_KERNEL);
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(x.shape.slice(), "float32"); // may grow the heap: read the buffer after it
      const n = tf.util.sizeFromShape(x.shape);
      if (n === 0) return out;
      const addon = nativeAddon();
      if (addon) addon.gelu(heapBuffer(be), heapOffset(be, x), heapOffset(be, out), n);
      else activations(be).gelu(heapOffset(be, x), heapOffset(be, out), n);
      return out;
    },
  },
  {
    kernelName: GELU_GRAD_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      requireFloat(x, GELU_GRAD_KERNEL);
      requireFloat(dy, GELU_GRAD_KERNEL);
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(x.shape.slice(), "float32");
      const n = tf.util.sizeFromShape(x.shape);
      if (n === 0) return out;
      const addon = nativeAddon();
      if (addon) addon.geluGrad(heapBuffer(be), heapOffset(be, x), heapOffset(be, dy), heapOffset(be, out), n);
      else activations(be).gelu_grad(heapOffset(be, x), heapOffset(be, dy), heapOffset(be, out), n);
      return out;
    },
  },
  {
    kernelName: LAYER_NORM_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, gamma, beta, residual } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo; residual?: tf.TensorInfo };
      for (const t of [x, gamma, beta, ...(residual ? [residual] : [])]) requireFloat(t, LAYER_NORM_KERNEL);
      const width = x.shape[x.shape.length - 1];
      const rows = tf.util.sizeFromShape(x.shape) / width;
      const be = backend as unknown as WasmBackendInternals;
      const [out, xHat, invStd] = [be.makeOutput(x.shape.slice(), "float32"), be.makeOutput(x.shape.slice(), "float32"), be.makeOutput([rows], "float32")];
      const eps = (attrs as unknown as { eps: number }).eps;
      const addon = nativeAddon();
      if (addon && rows > 0) {
        const [xAt, residualAt, gammaAt, betaAt] = [heapOffset(be, x), residual ? heapOffset(be, residual) : -1, heapOffset(be, gamma), heapOffset(be, beta)];
        addon.layerNorm(heapBuffer(be), xAt, residualAt, gammaAt, betaAt, heapOffset(be, out), heapOffset(be, xHat), heapOffset(be, invStd), rows, width, eps);
        return [out, xHat, invStd];
      }
      activations(be).layer_norm(
        heapOffset(be, x),
        residual ? heapOffset(be, residual) : 0,
        heapOffset(be, gamma),
        heapOffset(be, beta),
        heapOffset(be, out),
        heapOffset(be, xHat),
        heapOffset(be, invStd),
        rows,
        width,
        eps,
      );
      return [out, xHat, invStd];
    },
  },
  {
    kernelName: LAYER_NORM_GRAD_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const { dy, xHat, invStd, gamma } = inputs as { dy: tf.TensorInfo; xHat: tf.TensorInfo; invStd: tf.TensorInfo; gamma: tf.TensorInfo };
      for (const t of [dy, xHat, invStd, gamma]) requireFloat(t, LAYER_NORM_GRAD_KERNEL);
      const width = dy.shape[dy.shape.length - 1];
      const rows = tf.util.sizeFromShape(dy.shape) / width;
      const be = backend as unknown as WasmBackendInternals;
      const [dx, dGamma, dBeta] = [be.makeOutput(dy.shape.slice(), "float32"), be.makeOutput([width], "float32"), be.makeOutput([width], "float32")];
      const addon = nativeAddon();
      if (addon && rows > 0) {
        const [dyAt, xHatAt, invStdAt, gammaAt] = [heapOffset(be, dy), heapOffset(be, xHat), heapOffset(be, invStd), heapOffset(be, gamma)];
        addon.layerNormGrad(heapBuffer(be), dyAt, xHatAt, invStdAt, gammaAt, heapOffset(be, dx), heapOffset(be, dGamma), heapOffset(be, dBeta), rows, width);
        return [dx, dGamma, dBeta];
      }
      activations(be).layer_norm_grad(
        heapOffset(be, dy),
        heapOffset(be, xHat),
        heapOffset(be, invStd),
        heapOffset(be, gamma),
        heapOffset(be, dx),
        heapOffset(be, dGamma),
        heapOffset(be, dBeta),
        rows,
        width,
      );
      return [dx, dGamma, dBeta];
    },
  },
  {
    kernelName: SOFTMAX_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const { x, xBias, global, globalBias, keep } = inputs as Partial<Record<"x" | "xBias" | "global" | "globalBias" | "keep", tf.TensorInfo>> & {
        x: tf.TensorInfo;
      };
      for (const t of [x, xBias, global, globalBias, keep]) if (t) requireFloat(t, SOFTMAX_KERNEL);
      const globalWidth = global ? globalColumns(x, global, SOFTMAX_KERNEL) : 0;
      const { heads, n } = maskBroadcast(x, { xBias, global, globalBias, keep });
      const width = x.shape[x.shape.length - 1];
      const rows = tf.util.sizeFromShape(x.shape) / width;
      const be = backend as unknown as WasmBackendInternals;
      // makeOutput may grow the heap: read the buffer after the outputs exist.
      const out = be.makeOutput(x.shape.slice(), "float32");
      const globalOut = global ? be.makeOutput(global.shape.slice(), "float32") : undefined;
      const outputs = globalOut ? [out, globalOut] : [out];
      if (!(rows > 0)) return outputs;
      const at = (t: tf.TensorInfo | undefined, none: number) => (t ? heapOffset(be, t) : none);
      const addon = nativeAddon();
      const noMask = addon ? -1 : 0; // how each build is told a mask is absent
      const operands = [at(x, 0), at(xBias, noMask), at(global, 0), at(globalBias, noMask), at(keep, noMask), at(out, 0), at(globalOut, 0)] as const;
      if (addon) addon.softmax(heapBuffer(be), ...operands, rows, width, globalWidth, heads, n);
      else activations(be).softmax(...operands, rows, width, globalWidth, heads, n);
      return outputs;
    },
  },
  {
    kernelName: SOFTMAX_GRAD_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const { p, dy, globalP, globalDy } = inputs as { p: tf.TensorInfo; dy: tf.TensorInfo; globalP?: tf.TensorInfo; globalDy?: tf.TensorInfo };
      for (const t of [p, dy, globalP, globalDy]) if (t) requireFloat(t, SOFTMAX_GRAD_KERNEL);
      if (!tf.util.arraysEqual(p.shape, dy.shape)) throw new Error(`${SOFTMAX_GRAD_KERNEL}: p [${p.shape}] and dy [${dy.shape}] must have one shape`);
      if (!globalP !== !globalDy) throw new Error(`${SOFTMAX_GRAD_KERNEL}: globalP and globalDy go together (one of them is missing)`);
      if (globalP && globalDy && !tf.util.arraysEqual(globalP.shape, globalDy.shape)) {
        throw new Error(`${SOFTMAX_GRAD_KERNEL}: globalP [${globalP.shape}] and globalDy [${globalDy.shape}] must have one shape`);
      }
      const width = p.shape[p.shape.length - 1];
      const rows = tf.util.sizeFromShape(p.shape) / width;
      const globalWidth = globalP ? globalColumns(p, globalP, SOFTMAX_GRAD_KERNEL) : 0;
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(p.shape.slice(), "float32");
      const globalOut = globalP ? be.makeOutput(globalP.shape.slice(), "float32") : undefined;
      const outputs = globalOut ? [out, globalOut] : [out];
      if (!(rows > 0)) return outputs;
      const at = (t: tf.TensorInfo | undefined) => (t ? heapOffset(be, t) : 0);
      const addon = nativeAddon();
      if (addon) addon.softmaxGrad(heapBuffer(be), at(p), at(dy), at(globalP), at(globalDy), at(out), at(globalOut), rows, width, globalWidth);
      else activations(be).softmax_grad(at(p), at(dy), at(globalP), at(globalDy), at(out), at(globalOut), rows, width, globalWidth);
      return outputs;
    },
  },
];

/**
 * TsmlSoftmax's gradient (any backend that runs the kernel): keeps only the probabilities it output; d scores =
 * P (DY - Σ DY P) over [global | band] in one TsmlSoftmaxGrad. The masks are constants (their gradients are 0).
 */
export const softmaxGradient: tf.GradConfig = {
  kernelName: SOFTMAX_KERNEL,
  outputsToSave: [true, true],
  gradFunc: (dys, saved) => {
    const [dy, globalDy] = Array.isArray(dys) ? dys : [dys];
    const [p, globalP] = saved;
    const inputs: tf.NamedTensorMap = globalP && globalDy ? { p, dy, globalP, globalDy } : { p, dy };
    const grads = tf.engine().runKernel<tf.Tensor[]>(SOFTMAX_GRAD_KERNEL, inputs);
    const constant = (shape: number[]) => () => tf.zeros(shape);
    const [B, , n, W] = p.shape as [number, number, number, number];
    const G = globalP ? globalP.shape[3]! : 0;
    return { x: () => grads[0], global: () => grads[1], xBias: constant([B, 1, n, W]), globalBias: constant([B, 1, 1, G]), keep: constant([B, 1, n, 1]) };
  },
};
