/**
 * Kernels registered on tfjs's WASM backend: one it lacks but training needs (UnsortedSegmentSum, the
 * gradient of gather), faster versions of three it has for the shapes a transformer uses (2-D Transpose,
 * row GatherV2, row UnsortedSegmentSum: kernels/rows.c), tsml's band-attention kernels (bandKernels.ts) and
 * exact-GELU kernels (activationKernels.ts).
 * A replaced kernel keeps tfjs's own for every case it does not handle.
 */
import * as tf from "@tensorflow/tfjs";
import { wasmActivationKernels } from "./activationKernels";
import { wasmBandKernels } from "./bandKernels";
import { rowsWasmBase64 } from "./kernels/rowsWasm";
import { WasmBackendInternals, heapOffset, wasmModuleExports } from "./wasmModules";

interface RowsModuleExports {
  transpose_2d(x: number, out: number, rows: number, cols: number): void;
  gather_rows(table: number, indices: number, out: number, count: number, width: number): void;
  scatter_add_rows(x: number, segments: number, out: number, count: number, width: number, numSegments: number): void;
}

interface WasmBackendWithRead extends WasmBackendInternals {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): tf.TensorInfo;
}

function rowsModule(backend: WasmBackendInternals): RowsModuleExports {
  return wasmModuleExports<RowsModuleExports>(backend, rowsWasmBase64);
}

const is32Bit = (t: tf.TensorInfo) => t.dtype === "float32" || t.dtype === "int32";

/** Transpose of a matrix (perm [1, 0], after dropping size-1 axes as tfjs does): tiled copy. */
function transposeKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const x = (inputs as { x: tf.TensorInfo }).x;
      const perm = (attrs as unknown as { perm: number[] }).perm;
      const kept = x.shape.map((dim, axis) => ({ dim, axis })).filter(({ dim }) => dim !== 1);
      const order = perm.filter((axis) => x.shape[axis] !== 1);
      if (!is32Bit(x) || kept.length !== 2 || order[0] !== kept[1].axis || order[1] !== kept[0].axis) return original.kernelFunc(args);
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(perm.map((axis) => x.shape[axis]), x.dtype);
      rowsModule(be).transpose_2d(heapOffset(be, x), heapOffset(be, out), kept[0].dim, kept[1].dim);
      return out;
    },
  };
}

/** GatherV2 of whole rows (axis 0, no batch dims, 32-bit values): one memory copy per row. */
function gatherKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
      const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
      if (!is32Bit(x) || indices.dtype !== "int32" || (axis !== 0 && axis !== -x.shape.length) || batchDims !== 0 || x.shape.length < 1) {
        return original.kernelFunc(args);
      }
      const be = backend as unknown as WasmBackendWithRead;
      const ids = be.readSync(indices.dataId);
      const rows = x.shape[0];
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] < 0 || ids[i] >= rows) throw new Error(`GatherV2: the index value ${ids[i]} is not in [0, ${rows - 1}]`);
      }
      const width = x.shape.slice(1).reduce((a, b) => a * b, 1);
      const out = be.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
      rowsModule(be).gather_rows(heapOffset(be, x), heapOffset(be, indices), heapOffset(be, out), ids.length, width);
      return out;
    },
  };
}

/** UnsortedSegmentSum: out[segmentIds[i], ...] += x[i, ...]. Needed by the gradient of gather (embeddings). */
const unsortedSegmentSum: tf.KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
    const be = backend as unknown as WasmBackendWithRead;
    const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
    const width = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
    const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
    if (x.dtype === "float32" && segmentIds.dtype === "int32") {
      const out = be.makeOutput(outShape, "float32");
      rowsModule(be).scatter_add_rows(heapOffset(be, x), heapOffset(be, segmentIds), heapOffset(be, out), rows, width, numSegments);
      return out;
    }
    const values = be.readSync(x.dataId);
    const ids = be.readSync(segmentIds.dataId);
    const out = x.dtype === "int32" ? new Int32Array(numSegments * width) : new Float32Array(numSegments * width);
    for (let r = 0; r < rows; r++) {
      const s = ids[r];
      if (s < 0 || s >= numSegments) continue;
      for (let j = 0; j < width; j++) out[s * width + j] += values[r * width + j];
    }
    return be.makeOutput(outShape, x.dtype, undefined, out);
  },
};

let registered = false;

/** Registers tsml's kernels on the wasm backend (idempotent; call before the backend starts, so setup functions run). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const [name, faster] of [["Transpose", transposeKernel], ["GatherV2", gatherKernel]] as const) {
    const original = tf.getKernel(name, "wasm");
    if (!original) continue;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(faster(original));
  }
  for (const kernel of [unsortedSegmentSum, ...wasmBandKernels, ...wasmActivationKernels]) {
    if (!tf.getKernel(kernel.kernelName, "wasm")) tf.registerKernel(kernel);
  }
}
