/**
 * Kernels that @tensorflow/tfjs-backend-wasm lacks but training needs. Each one reads its inputs
 * from the WASM heap, computes in JavaScript and writes a new WASM tensor.
 */
import * as tf from "@tensorflow/tfjs";
import { wasmBandKernels } from "./bandKernels";

interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): tf.TensorInfo;
}

/** UnsortedSegmentSum: out[segmentIds[i], ...] += x[i, ...]. Needed by the gradient of gather (embeddings). */
const unsortedSegmentSum: tf.KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
    const wasm = backend as unknown as WasmBackendLike;
    const values = wasm.readSync(x.dataId);
    const ids = wasm.readSync(segmentIds.dataId);
    const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
    const inner = rows === 0 ? 0 : values.length / rows;
    const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
    const out = x.dtype === "int32" ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
    for (let r = 0; r < rows; r++) {
      const s = ids[r];
      if (s < 0 || s >= numSegments) continue;
      const src = r * inner;
      const dst = s * inner;
      for (let j = 0; j < inner; j++) out[dst + j] += values[src + j];
    }
    return wasm.makeOutput(outShape, x.dtype, undefined, out);
  },
};

let registered = false;

/** Registers the missing training kernels and tsml's band-attention kernels on the wasm backend (idempotent). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const kernel of [unsortedSegmentSum, ...wasmBandKernels]) {
    if (!tf.getKernel(kernel.kernelName, "wasm")) tf.registerKernel(kernel);
  }
}
