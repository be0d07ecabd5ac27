/**
 * Kernels registered on tfjs's WASM backend: one it lacks but training needs (UnsortedSegmentSum, the
 * gradient of gather), an Identity that shares data instead of copying it, faster versions of ones it has for the shapes a transformer uses (2-D Transpose, row
 * GatherV2, row UnsortedSegmentSum, Sum over the leading axes, and Slice, zero PadV2 and Concat along the last
 * axis, which tfjs does per element or per row in JavaScript: kernels/rows.c), tsml's band-attention kernels (bandKernels.ts) and
 * exact-GELU kernels (activationKernels.ts), matrix products on the machine's BLAS (matMulKernels.ts), and Add, Sub and
 * Multiply on every core (elementwiseKernels.ts).
 * A replaced kernel keeps tfjs's own for every case it does not handle.
 */
import * as tf from "@tensorflow/tfjs";
import { softmaxGradient, wasmActivationKernels } from "./activationKernels";
import { wasmBandKernels } from "./bandKernels";
import { batchMatMulKernel, fusedMatMulKernel } from "./matMulKernels";
import { scatterAddRows } from "./cpuKernels";
import { wasmDropoutKernels } from "./dropoutKernels";
import { elementwiseKernel } from "./elementwiseKernels";
import { wasmOptimizerKernels } from "./optimizerKernels";
import { rowsModule } from "./rowsModule";
import { WasmBackendInternals, heapOffset } from "./wasmModules";

interface WasmBackendWithRead extends WasmBackendInternals {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): tf.TensorInfo;
}

const is32Bit = (t: tf.TensorInfo) => t.dtype === "float32" || t.dtype === "int32";

/**
 * Transpose that keeps the order of the axes longer than 1 (an identity permutation, or one that only moves size-1
 * axes: the same values in the same memory order): shares its input's data, as Reshape does. A swap of two adjacent
 * axes over blocks of at least 4 values ([B, n, h, d] -> [B, h, n, d]): one copy per block. Transpose of a matrix
 * (perm [1, 0], after dropping size-1 axes as tfjs does): tiled copy.
 */
function transposeKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const x = (inputs as { x: tf.TensorInfo }).x;
      const perm = (attrs as unknown as { perm: number[] }).perm;
      const kept = x.shape.map((dim, axis) => ({ dim, axis })).filter(({ dim }) => dim !== 1);
      const order = perm.filter((axis) => x.shape[axis] !== 1);
      if (x.dtype !== "string" && order.every((axis, i) => i === 0 || order[i - 1] < axis)) {
        (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
        return { dataId: x.dataId, shape: perm.map((axis) => x.shape[axis]), dtype: x.dtype };
      }
      const swapped = perm.findIndex((axis, i) => axis !== i);
      const adjacentSwap =
        swapped >= 0 &&
        perm[swapped] === swapped + 1 &&
        perm[swapped + 1] === swapped &&
        perm.every((axis, i) => i === swapped || i === swapped + 1 || axis === i);
      const inner = adjacentSwap ? tf.util.sizeFromShape(x.shape.slice(swapped + 2)) : 0;
      if (is32Bit(x) && adjacentSwap && inner >= 4) {
        const be = backend as unknown as WasmBackendInternals;
        const out = be.makeOutput(
          perm.map((axis) => x.shape[axis]),
          x.dtype,
        );
        const outer = tf.util.sizeFromShape(x.shape.slice(0, swapped));
        rowsModule(be).swap_axes(heapOffset(be, x), heapOffset(be, out), outer, x.shape[swapped], x.shape[swapped + 1], inner);
        return out;
      }
      if (!is32Bit(x) || kept.length !== 2 || order[0] !== kept[1].axis || order[1] !== kept[0].axis) return original.kernelFunc(args);
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(
        perm.map((axis) => x.shape[axis]),
        x.dtype,
      );
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

/** True when every axis but the last is untouched: `starts` are 0 and `sizes` are the whole axis there. */
function onlyLastAxis(shape: number[], starts: number[], sizes: number[]): boolean {
  return shape.every((dim, axis) => axis === shape.length - 1 || (starts[axis] === 0 && sizes[axis] === dim));
}

/** Slice along the last axis only (the global and band columns of attention probabilities): one copy per row. */
function sliceKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const x = (inputs as { x: tf.TensorInfo }).x;
      const { begin, size } = attrs as unknown as { begin: number | number[]; size: number | number[] };
      const [starts, sizes] = tf.slice_util.parseSliceParams(x, begin, size);
      const rank = x.shape.length;
      if (!is32Bit(x) || rank < 2 || !onlyLastAxis(x.shape, starts, sizes) || sizes[rank - 1] === 0) return original.kernelFunc(args);
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(sizes, x.dtype);
      const width = x.shape[rank - 1];
      rowsModule(be).take_columns(heapOffset(be, x), heapOffset(be, out), tf.util.sizeFromShape(x.shape) / width, width, starts[rank - 1], sizes[rank - 1]);
      return out;
    },
  };
}

/** Zero padding of the last axis only (the gradient of such a slice): one copy per row into a zeroed output. */
function padKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const x = (inputs as { x: tf.TensorInfo }).x;
      const { paddings, constantValue } = attrs as unknown as { paddings: [number, number][]; constantValue: number };
      const rank = x.shape.length;
      const outShape = x.shape.map((dim, axis) => paddings[axis][0] + dim + paddings[axis][1]);
      const lastOnly = paddings.every(([before, after], axis) => axis === rank - 1 || (before === 0 && after === 0));
      if (!is32Bit(x) || rank < 2 || constantValue !== 0 || !lastOnly || tf.util.sizeFromShape(x.shape) === 0) return original.kernelFunc(args);
      const be = backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(outShape, x.dtype);
      const width = x.shape[rank - 1];
      rowsModule(be).place_columns(
        heapOffset(be, x),
        heapOffset(be, out),
        tf.util.sizeFromShape(x.shape) / width,
        width,
        outShape[rank - 1],
        paddings[rank - 1][0],
        1,
      );
      return out;
    },
  };
}

/** Concatenation along the last axis (global and band scores): one copy per row and input. */
function concatKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const tensors = (inputs as unknown as tf.TensorInfo[]).filter((t) => tf.util.sizeFromShape(t.shape) > 0);
      const rank = tensors[0]?.shape.length ?? 0;
      const axis = tensors.length > 0 ? tf.util.parseAxisParam((attrs as unknown as { axis: number }).axis, tensors[0].shape)[0] : -1;
      const sameRows = tensors.every(
        (t) => t.dtype === tensors[0].dtype && t.shape.length === rank && t.shape.every((dim, i) => i === axis || dim === tensors[0].shape[i]),
      );
      if (tensors.length < 2 || axis !== rank - 1 || rank < 2 || !is32Bit(tensors[0]) || !sameRows) return original.kernelFunc(args);
      const be = backend as unknown as WasmBackendInternals;
      const outWidth = tensors.reduce((sum, t) => sum + t.shape[axis], 0);
      const out = be.makeOutput([...tensors[0].shape.slice(0, -1), outWidth], tensors[0].dtype);
      const rows = tf.util.sizeFromShape(tensors[0].shape) / tensors[0].shape[axis];
      let offset = 0;
      for (const t of tensors) {
        rowsModule(be).place_columns(heapOffset(be, t), heapOffset(be, out), rows, t.shape[axis], outWidth, offset, 0);
        offset += t.shape[axis];
      }
      return out;
    },
  };
}

/** Sum over every axis but the last of a float32 tensor (bias gradients): one pass of SIMD adds; tfjs transposes first. */
function sumKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const x = (inputs as { x: tf.TensorInfo }).x;
      const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const rank = x.shape.length;
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
      const leading = axes.length === rank - 1 && axes.every((a, i) => a === i);
      if (x.dtype !== "float32" || rank < 2 || !leading || tf.util.sizeFromShape(x.shape) === 0) return original.kernelFunc(args);
      const be = backend as unknown as WasmBackendInternals;
      const cols = x.shape[rank - 1];
      const out = be.makeOutput(keepDims ? [...x.shape.slice(0, -1).map(() => 1), cols] : [cols], "float32");
      rowsModule(be).sum_rows(heapOffset(be, x), heapOffset(be, out), tf.util.sizeFromShape(x.shape) / cols, cols);
      return out;
    },
  };
}

/**
 * Identity that shares its input's data (reference-counted, as tfjs's cpu backend and WASM's own Reshape do)
 * instead of copying it: tfjs clones every tensor it saves for a backward pass, so WASM's copying Identity
 * doubled the memory of saved activations and spent a copy on each.
 */
function identityKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      if (x.dtype === "string") return original.kernelFunc(args);
      (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
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
    const out = scatterAddRows(be.readSync(x.dataId), be.readSync(segmentIds.dataId), width, numSegments, x.dtype === "int32" ? "int32" : "float32");
    return be.makeOutput(outShape, x.dtype, undefined, out);
  },
};

let registered = false;

/** Registers tsml's kernels on the wasm backend (idempotent; call before the backend starts, so setup functions run). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  const replacements = [
    ["Transpose", transposeKernel],
    ["GatherV2", gatherKernel],
    ["Slice", sliceKernel],
    ["PadV2", padKernel],
    ["Concat", concatKernel],
    ["Sum", sumKernel],
    ["Identity", identityKernel],
    ["BatchMatMul", batchMatMulKernel],
    ["_FusedMatMul", fusedMatMulKernel],
    ["Add", elementwiseKernel],
    ["Sub", elementwiseKernel],
    ["Multiply", elementwiseKernel],
  ] as const;
  for (const [name, faster] of replacements) {
    const original = tf.getKernel(name, "wasm");
    if (!original) continue;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(faster(original));
  }
  for (const kernel of [unsortedSegmentSum, ...wasmBandKernels, ...wasmDropoutKernels, ...wasmActivationKernels, ...wasmOptimizerKernels]) {
    if (!tf.getKernel(kernel.kernelName, "wasm")) tf.registerKernel(kernel);
  }
  tf.registerGradient(softmaxGradient);
}
