/**
 * Inverted dropout from a counter-based hash: element i of a mask depends only on (key, i), so masks are
 * reproducible, independent of the backend and of the thread count, and made in one pass (tf.randomUniform's
 * per-element generator is the slowest op of a training step on WASM). On WASM `TsmlDropout` multiplies a tensor
 * by its mask without the mask ever being in memory — the forward pass, and on dy with the same key the backward
 * pass, so nothing is kept for the gradient — on every core through the native addon when it is active
 * (native/dropout.c, the same formula), else in JavaScript on the heap. Other backends make the mask (uploaded from
 * JavaScript) and multiply.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon } from "./native";
import { WasmBackendInternals, heapBuffer, heapOffset } from "./wasmModules";

/** Kernel name: `TsmlDropout(x; key, rate)` = x times the mask of x's shape for `key` (an unsigned 32-bit integer) and `rate` in [0, 1) (float32). */
export const DROPOUT_KERNEL = "TsmlDropout";

/** h(key, i): murmur3's 32-bit finaliser of (key + i 0x9e3779b9) mod 2^32, so the draws are uniform 32-bit integers. */
function dropoutHash(key: number, i: number): number {
  let h = (key + Math.imul(i, 0x9e3779b9)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A mask's keep threshold on h, (1 - rate) 2^32, and the kept elements' factor 1 / (1 - rate) rounded to float32. */
function maskParameters(rate: number): { threshold: number; scale: number } {
  const keep = 1 - rate;
  return { threshold: keep * 4294967296, scale: Math.fround(1 / keep) };
}

/** mask[i] = 1 / (1 - rate) (as float32) where h(key, i) < (1 - rate) 2^32, else 0. */
export function fillDropoutMask(mask: Float32Array, key: number, rate: number): void {
  const { threshold, scale } = maskParameters(rate);
  for (let i = 0; i < mask.length; i++) mask[i] = dropoutHash(key, i) < threshold ? scale : 0;
}

/** out[i] = x[i] times mask[i] of fillDropoutMask (a float64 product of two float32 values is exact, then rounded once: the float32 product). */
function applyDropoutMask(x: Float32Array, out: Float32Array, key: number, rate: number): void {
  const { threshold, scale } = maskParameters(rate);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * (dropoutHash(key, i) < threshold ? scale : 0);
}

function checkKeyAndRate(what: string, key: number, rate: number): void {
  if (!Number.isInteger(key) || key < 0 || key >= 2 ** 32) throw new Error(`${what}: key must be an unsigned 32-bit integer, got ${key}`);
  if (!(rate >= 0 && rate < 1)) throw new Error(`${what}: rate must be in [0, 1), got ${rate}`);
}

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

/** The dropout kernel, for registration on the wasm backend. */
export const wasmDropoutKernels: tf.KernelConfig[] = [dropoutKernel];

/**
 * `x` times its dropout mask for `key` and `rate` (see fillDropoutMask): in one kernel on WASM (no mask in memory),
 * else the mask times x. The gradient of inverted dropout is the same function of dy with the same key.
 */
export function applyDropout(x: tf.Tensor, rate: number, key: number): tf.Tensor {
  checkKeyAndRate("applyDropout", key, rate);
  if (tf.getKernel(DROPOUT_KERNEL, tf.getBackend())) return tf.engine().runKernel<tf.Tensor>(DROPOUT_KERNEL, { x }, { key, rate });
  const mask = new Float32Array(tf.util.sizeFromShape(x.shape));
  fillDropoutMask(mask, key, rate);
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, "float32")));
}
