/**
 * Inverted dropout from a counter-based hash: element i of a mask depends only on (key, i), so masks are
 * reproducible, independent of the backend and of the thread count, and made in one pass (tf.randomUniform's
 * per-element generator is the slowest op of a training step on WASM). On WASM `TsmlDropout` multiplies a tensor
 * by its mask without the mask ever being in memory — the forward pass, and on dy with the same key the backward
 * pass, so nothing is kept for the gradient — and `TsmlDropoutMask` writes a mask itself; both run on every core
 * through the native addon when it is active (native/dropout.c, the same formulas), else in JavaScript on the heap.
 * Other backends make the mask (uploaded from JavaScript) and multiply.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon } from "./native";
import { WasmBackendInternals, heapBuffer, heapOffset } from "./wasmModules";

/** Kernel name. Attrs: `shape`, `key` (an unsigned 32-bit integer) and `rate` in [0, 1). No inputs. */
export const DROPOUT_MASK_KERNEL = "TsmlDropoutMask";
/** Kernel name: `TsmlDropout(x; key, rate)` = x times the mask of x's shape for `key` and `rate` (float32). */
export const DROPOUT_KERNEL = "TsmlDropout";

/** h(key, i): murmur3's 32-bit finaliser of (key + i 0x9e3779b9) mod 2^32, so the draws are uniform 32-bit integers. */
function dropoutHash(key: number, i: number): number {
  let h = (key + Math.imul(i, 0x9e3779b9)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mask[i] = 1 / (1 - rate) (as float32) where h(key, i) < (1 - rate) 2^32, else 0. */
export function fillDropoutMask(mask: Float32Array, key: number, rate: number): void {
  const keep = 1 - rate;
  const threshold = keep * 4294967296;
  const scale = Math.fround(1 / keep);
  for (let i = 0; i < mask.length; i++) mask[i] = dropoutHash(key, i) < threshold ? scale : 0;
}

/** out[i] = x[i] times mask[i] of fillDropoutMask (a float64 product of two float32 values is exact, then rounded once: the float32 product). */
function applyDropoutMask(x: Float32Array, out: Float32Array, key: number, rate: number): void {
  const keep = 1 - rate;
  const threshold = keep * 4294967296;
  const scale = Math.fround(1 / keep);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * (dropoutHash(key, i) < threshold ? scale : 0);
}

function checkKeyAndRate(what: string, key: number, rate: number): void {
  if (!Number.isInteger(key) || key < 0 || key >= 2 ** 32) throw new Error(`${what}: key must be an unsigned 32-bit integer, got ${key}`);
  if (!(rate >= 0 && rate < 1)) throw new Error(`${what}: rate must be in [0, 1), got ${rate}`);
}

interface DropoutMaskAttrs {
  shape: number[];
  key: number;
  rate: number;
}

const dropoutMaskKernel: tf.KernelConfig = {
  kernelName: DROPOUT_MASK_KERNEL,
  backendName: "wasm",
  kernelFunc: ({ backend, attrs }) => {
    const { shape, key, rate } = attrs as unknown as DropoutMaskAttrs;
    const be = backend as unknown as WasmBackendInternals;
    const out = be.makeOutput(shape.slice(), "float32"); // may grow the heap: read the buffer after it
    const count = shape.reduce((a, b) => a * b, 1);
    if (count === 0) return out;
    const addon = nativeAddon();
    if (addon) addon.dropoutMask(heapBuffer(be), heapOffset(be, out), count, key, rate);
    else fillDropoutMask(new Float32Array(heapBuffer(be), heapOffset(be, out), count), key, rate);
    return out;
  },
};

interface DropoutAttrs {
  key: number;
  rate: number;
}

const dropoutKernel: tf.KernelConfig = {
  kernelName: DROPOUT_KERNEL,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { key, rate } = attrs as unknown as DropoutAttrs;
    if (x.dtype !== "float32") throw new Error(`${DROPOUT_KERNEL}: expected float32, got ${x.dtype}`);
    const be = backend as unknown as WasmBackendInternals;
    const out = be.makeOutput(x.shape.slice(), "float32"); // may grow the heap: read the buffer after it
    const count = tf.util.sizeFromShape(x.shape);
    if (count === 0) return out;
    const addon = nativeAddon();
    if (addon) addon.dropoutApply(heapBuffer(be), heapOffset(be, x), heapOffset(be, out), count, key, rate);
    else applyDropoutMask(new Float32Array(heapBuffer(be), heapOffset(be, x), count), new Float32Array(heapBuffer(be), heapOffset(be, out), count), key, rate);
    return out;
  },
};

/** The dropout kernels, for registration on the wasm backend. */
export const wasmDropoutKernels: tf.KernelConfig[] = [dropoutMaskKernel, dropoutKernel];

/** The mask of `shape` for `key` and `rate` (see fillDropoutMask) as a float32 tensor, made where the backend keeps it. */
export function dropoutMaskTensor(shape: number[], rate: number, key: number): tf.Tensor {
  checkKeyAndRate("dropoutMaskTensor", key, rate);
  if (tf.getKernel(DROPOUT_MASK_KERNEL, tf.getBackend())) {
    return tf.engine().runKernel<tf.Tensor>(DROPOUT_MASK_KERNEL, {}, { shape, key, rate });
  }
  const mask = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fillDropoutMask(mask, key, rate);
  return tf.tensor(mask, shape, "float32");
}

/**
 * `x` times its dropout mask for `key` and `rate` (see fillDropoutMask): in one kernel on WASM (no mask in memory),
 * else the mask times x. The gradient of inverted dropout is the same function of dy with the same key.
 */
export function applyDropout(x: tf.Tensor, rate: number, key: number): tf.Tensor {
  checkKeyAndRate("applyDropout", key, rate);
  if (tf.getKernel(DROPOUT_KERNEL, tf.getBackend())) return tf.engine().runKernel<tf.Tensor>(DROPOUT_KERNEL, { x }, { key, rate });
  return tf.tidy(() => tf.mul(x, dropoutMaskTensor(x.shape, rate, key)));
}
