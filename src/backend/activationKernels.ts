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
 * `TsmlSoftmax(x[, keep])`: softmax over the last axis of x, each row times its keep factor — x `[B, heads, n, W]`
 * and keep `[B, 1, n, 1]` (attention scores and the query-keep mask) — with exactly 0 for scores 87 or more below
 * their row's maximum. float32.
 */
export const SOFTMAX_KERNEL = "TsmlSoftmax";
/** `TsmlSoftmaxGrad(p, dy)` = p (dy - Σ dy p) over the last axis (the softmax's gradient). float32. */
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
  softmax(x: number, keep: number, out: number, rows: number, width: number, heads: number, n: number): void;
  softmax_grad(p: number, dy: number, out: number, rows: number, width: number): void;
}

function activations(backend: WasmBackendInternals): ActivationsModuleExports {
  return wasmModuleExports<ActivationsModuleExports>(backend, activationsWasmBase64);
}

function requireFloat(t: tf.TensorInfo, kernel: string): void {
  if (t.dtype !== "float32") throw new Error(`${kernel}: expected float32, got ${t.dtype}`);
}

/** The keep mask's broadcast over `x` `[B, heads, n, W]`: heads and n, after checking keep is `[B, 1, n, 1]`. */
function keepBroadcast(x: tf.TensorInfo, keep: tf.TensorInfo | undefined): { heads: number; n: number } {
  if (!keep) return { heads: 1, n: 1 };
  const [B, heads, n] = x.shape;
  const expected = [B, 1, n, 1];
  if (x.shape.length !== 4 || keep.shape.length !== 4 || keep.shape.some((dim, i) => dim !== expected[i])) {
    throw new Error(`${SOFTMAX_KERNEL}: keep must be [B, 1, n, 1] for x [B, heads, n, W], got [${keep.shape}] for [${x.shape}]`);
  }
  return { heads, n };
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
      const { x, keep } = inputs as { x: tf.TensorInfo; keep?: tf.TensorInfo };
      for (const t of [x, ...(keep ? [keep] : [])]) requireFloat(t, SOFTMAX_KERNEL);
      const { heads, n } = keepBroadcast(x, keep);
      const width = x.shape[x.shape.length - 1];
      const rows = tf.util.sizeFromShape(x.shape) / width;
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(x.shape.slice(), "float32"); // may grow the heap: read the buffer after it
      if (!(rows > 0)) return out;
      const addon = nativeAddon();
      if (addon) addon.softmax(heapBuffer(be), heapOffset(be, x), keep ? heapOffset(be, keep) : -1, heapOffset(be, out), rows, width, heads, n);
      else activations(be).softmax(heapOffset(be, x), keep ? heapOffset(be, keep) : 0, heapOffset(be, out), rows, width, heads, n);
      return out;
    },
  },
  {
    kernelName: SOFTMAX_GRAD_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const { p, dy } = inputs as { p: tf.TensorInfo; dy: tf.TensorInfo };
      requireFloat(p, SOFTMAX_GRAD_KERNEL);
      requireFloat(dy, SOFTMAX_GRAD_KERNEL);
      if (!tf.util.arraysEqual(p.shape, dy.shape)) throw new Error(`${SOFTMAX_GRAD_KERNEL}: p [${p.shape}] and dy [${dy.shape}] must have one shape`);
      const width = p.shape[p.shape.length - 1];
      const rows = tf.util.sizeFromShape(p.shape) / width;
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(p.shape.slice(), "float32");
      if (!(rows > 0)) return out;
      const addon = nativeAddon();
      if (addon) addon.softmaxGrad(heapBuffer(be), heapOffset(be, p), heapOffset(be, dy), heapOffset(be, out), rows, width);
      else activations(be).softmax_grad(heapOffset(be, p), heapOffset(be, dy), heapOffset(be, out), rows, width);
      return out;
    },
  },
];
