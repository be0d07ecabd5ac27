/**
 * Inverted-dropout masks from a counter-based hash: element i of a mask depends only on (key, i), so masks are
 * reproducible, independent of the backend and of the thread count, and made in one pass (tf.randomUniform's
 * per-element generator is the slowest op of a training step on WASM). On WASM a kernel writes the mask straight
 * into the heap — on every core through the native addon when it is active (native/dropout.c, the same formula),
 * else with `fillDropoutMask` — with no JavaScript array to upload; other backends fill one and upload it.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon } from "./native";
import { WasmBackendInternals, heapBuffer, heapOffset } from "./wasmModules";

/** Kernel name. Attrs: `shape`, `key` (an unsigned 32-bit integer) and `rate` in [0, 1). No inputs. */
export const DROPOUT_MASK_KERNEL = "TsmlDropoutMask";

/**
 * mask[i] = 1 / (1 - rate) (as float32) where h(key, i) < (1 - rate) 2^32, else 0; h is murmur3's 32-bit finaliser
 * of (key + i 0x9e3779b9) mod 2^32, so the draws are uniform 32-bit integers.
 */
export function fillDropoutMask(mask: Float32Array, key: number, rate: number): void {
  const keep = 1 - rate;
  const threshold = keep * 4294967296;
  const scale = Math.fround(1 / keep);
  for (let i = 0; i < mask.length; i++) {
    let h = (key + Math.imul(i, 0x9e3779b9)) | 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    mask[i] = h >>> 0 < threshold ? scale : 0;
  }
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

/** The dropout kernel, for registration on the wasm backend. */
export const wasmDropoutKernels: tf.KernelConfig[] = [dropoutMaskKernel];

/** The mask of `shape` for `key` and `rate` (see fillDropoutMask) as a float32 tensor, made where the backend keeps it. */
export function dropoutMaskTensor(shape: number[], rate: number, key: number): tf.Tensor {
  if (!Number.isInteger(key) || key < 0 || key >= 2 ** 32) throw new Error(`dropoutMaskTensor: key must be an unsigned 32-bit integer, got ${key}`);
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropoutMaskTensor: rate must be in [0, 1), got ${rate}`);
  if (tf.getKernel(DROPOUT_MASK_KERNEL, tf.getBackend())) {
    return tf.engine().runKernel<tf.Tensor>(DROPOUT_MASK_KERNEL, {}, { shape, key, rate });
  }
  const mask = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fillDropoutMask(mask, key, rate);
  return tf.tensor(mask, shape, "float32");
}
