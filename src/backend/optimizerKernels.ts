/**
 * AdamW's update as one SIMD kernel on the WASM backend (kernels/optimizer.c), for moments kept in host memory. With
 * the native addon active (native.ts) the host build of the same source updates them where they are, on every core
 * (native/adamw.c); otherwise the WebAssembly module does, the moments copied into the heap a chunk at a time, so the
 * heap never holds more than two chunks of them. Both give the same bits. The JavaScript loop they replace spent
 * ~25 ns per parameter (a float64 division and square root per value), a quarter of a small model's training step.
 * Other backends keep that loop (src/train/adamw.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { optimizerWasmBase64 } from "./kernels/optimizerWasm";
import { nativeAddon } from "./native";
import { WasmBackendInternals, heapBuffer, heapOffset, wasmModuleExports } from "./wasmModules";

/** `TsmlAdamWHostStep(param, gradient; moments, scalars)` -> the updated parameter; updates the host moments in place. */
export const ADAMW_HOST_STEP_KERNEL = "TsmlAdamWHostStep";

/** The attributes of `TsmlAdamWHostStep`: the host moments (updated in place) and the step's float32 scalars. */
export interface AdamWHostStepAttrs {
  first: Float32Array;
  second: Float32Array;
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  epsilon: number;
  stepSize: number;
  sqrtCorrection2: number;
  decayFactor: number;
  decays: boolean;
}

/** The export of kernels/optimizer.c's WebAssembly module (pointers are byte offsets into the heap). */
export interface OptimizerModuleExports {
  adamw_step(
    param: number,
    grad: number,
    out: number,
    m: number,
    v: number,
    n: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    eps: number,
    stepSize: number,
    correction: number,
    decay: number,
    decays: number,
  ): void;
}

/** Values of the moments copied into the heap at a time (two chunks of 256 KiB). */
const CHUNK = 1 << 16;

/** The AdamW kernel, for registration on the wasm backend. */
export const wasmOptimizerKernels: tf.KernelConfig[] = [
  {
    kernelName: ADAMW_HOST_STEP_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { param, gradient } = inputs as { param: tf.TensorInfo; gradient: tf.TensorInfo };
      const a = attrs as unknown as AdamWHostStepAttrs;
      const n = tf.util.sizeFromShape(param.shape);
      if (
        param.dtype !== "float32" ||
        gradient.dtype !== "float32" ||
        tf.util.sizeFromShape(gradient.shape) !== n ||
        a.first.length !== n ||
        a.second.length !== n
      ) {
        throw new Error(`${ADAMW_HOST_STEP_KERNEL}: expected float32 parameter and gradient and moments of ${n} values`);
      }
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(param.shape.slice(), "float32"); // may grow the heap: read the buffer after it
      if (n === 0) return out;
      const addon = nativeAddon();
      if (addon) {
        const [p, g, o] = [heapOffset(be, param), heapOffset(be, gradient), heapOffset(be, out)];
        const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, epsilon, stepSize, sqrtCorrection2, decayFactor, decays } = a;
        addon.adamwStep(
          heapBuffer(be),
          p,
          g,
          o,
          n,
          a.first,
          a.second,
          beta1,
          oneMinusBeta1,
          beta2,
          oneMinusBeta2,
          epsilon,
          stepSize,
          sqrtCorrection2,
          decayFactor,
          decays,
        );
        return out;
      }
      const kernel = wasmModuleExports<OptimizerModuleExports>(be, optimizerWasmBase64);
      const chunk = Math.min(n, CHUNK);
      const scratch = be.wasm._malloc(2 * chunk * 4);
      try {
        const [p, g, o] = [heapOffset(be, param), heapOffset(be, gradient), heapOffset(be, out)];
        for (let start = 0; start < n; start += chunk) {
          const length = Math.min(chunk, n - start);
          const heap = new Float32Array((be.wasm.asm.memory as { buffer: ArrayBuffer }).buffer);
          const [m, v] = [scratch / 4, scratch / 4 + chunk];
          heap.set(a.first.subarray(start, start + length), m);
          heap.set(a.second.subarray(start, start + length), v);
          const at = start * 4;
          kernel.adamw_step(
            p + at,
            g + at,
            o + at,
            scratch,
            scratch + chunk * 4,
            length,
            a.beta1,
            a.oneMinusBeta1,
            a.beta2,
            a.oneMinusBeta2,
            a.epsilon,
            a.stepSize,
            a.sqrtCorrection2,
            a.decayFactor,
            a.decays ? 1 : 0,
          );
          a.first.set(heap.subarray(m, m + length), start);
          a.second.set(heap.subarray(v, v + length), start);
        }
      } finally {
        be.wasm._free(scratch);
      }
      return out;
    },
  },
];
