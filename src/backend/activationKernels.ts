/**
 * HF's exact GELU and its gradient as SIMD kernels on the WASM backend (kernels/activations.c), replacing the
 * chain of stock ops around tfjs's scalar Erf and Exp. Backends without them use the stock ops.
 */
import * as tf from "@tensorflow/tfjs";
import { activationsWasmBase64 } from "./kernels/activationsWasm";
import { WasmBackendInternals, heapOffset, wasmModuleExports } from "./wasmModules";

/** Kernel names: `TsmlGelu(x)` = x Φ(x); `TsmlGeluGrad(x, dy)` = dy (Φ(x) + x φ(x)). float32, any shape. */
export const GELU_KERNEL = "TsmlGelu";
export const GELU_GRAD_KERNEL = "TsmlGeluGrad";

interface ActivationsModuleExports {
  gelu(x: number, out: number, n: number): void;
  gelu_grad(x: number, dy: number, out: number, n: number): void;
}

function activations(backend: WasmBackendInternals): ActivationsModuleExports {
  return wasmModuleExports<ActivationsModuleExports>(backend, activationsWasmBase64);
}

function requireFloat(t: tf.TensorInfo, kernel: string): void {
  if (t.dtype !== "float32") throw new Error(`${kernel}: expected float32, got ${t.dtype}`);
}

/** The GELU kernels, for registration on the wasm backend. */
export const wasmActivationKernels: tf.KernelConfig[] = [
  {
    kernelName: GELU_KERNEL,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      requireFloat(x, GELU_KERNEL);
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(x.shape.slice(), "float32");
      activations(be).gelu(heapOffset(be, x), heapOffset(be, out), tf.util.sizeFromShape(x.shape));
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
      activations(be).gelu_grad(heapOffset(be, x), heapOffset(be, dy), heapOffset(be, out), tf.util.sizeFromShape(x.shape));
      return out;
    },
  },
];
