/**
 * Add, Sub and Multiply of float32 tensors on every core through the native addon (native/elementwise.c), with
 * NumPy broadcasting, in place on the WASM heap; tfjs's own WASM kernels run them on one thread. Small tensors (below
 * `NATIVE_ELEMENTWISE_MIN`, where waking the pool costs more than it saves), rows of fewer than 8 values after the
 * axes are merged, other dtypes and backends without the addon keep tfjs's kernels. Each element is one IEEE
 * operation in both, so the bits are the same.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon } from "./native";
import { WasmBackendInternals, heapBuffer, heapOffset } from "./wasmModules";

/** Output elements from which the native kernels run the product of two tensors' broadcast shapes. */
export const NATIVE_ELEMENTWISE_MIN = 32768;

const OPS = { Add: 0, Sub: 1, Multiply: 2 } as const;

/**
 * The broadcast of `a` and `b` to `out` as [rank, shape..., aStrides..., bStrides...]: size-1 output axes dropped,
 * neighbouring axes merged where both operands are broadcast the same way (so the last axis is one contiguous run),
 * strides in elements and 0 on the axes an operand is broadcast over.
 */
export function broadcastLayout(out: number[], a: number[], b: number[]): Int32Array {
  const pad = (shape: number[]) => [...new Array<number>(out.length - shape.length).fill(1), ...shape];
  const [pa, pb] = [pad(a), pad(b)];
  const axes: { size: number; aFull: boolean; bFull: boolean }[] = [];
  out.forEach((size, k) => {
    if (size === 1) return;
    const axis = { size, aFull: pa[k] === size, bFull: pb[k] === size };
    const previous = axes[axes.length - 1];
    if (previous && previous.aFull === axis.aFull && previous.bFull === axis.bFull) previous.size *= size;
    else axes.push(axis);
  });
  if (axes.length === 0) axes.push({ size: 1, aFull: true, bFull: true });
  const strides = (full: (axis: (typeof axes)[number]) => boolean) => {
    const result = new Array<number>(axes.length).fill(0);
    let step = 1;
    for (let k = axes.length - 1; k >= 0; k--) {
      if (!full(axes[k])) continue;
      result[k] = step;
      step *= axes[k].size;
    }
    return result;
  };
  return Int32Array.from([axes.length, ...axes.map((x) => x.size), ...strides((x) => x.aFull), ...strides((x) => x.bFull)]);
}

/** Add, Sub or Multiply on the native pool where it pays (see the header), wrapping tfjs's own kernel `original`. */
export function elementwiseKernel(original: tf.KernelConfig): tf.KernelConfig {
  const op = OPS[original.kernelName as keyof typeof OPS];
  return {
    ...original,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const addon = nativeAddon();
      if (!addon || a.dtype !== "float32" || b.dtype !== "float32") return original.kernelFunc(args);
      const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      if (tf.util.sizeFromShape(shape) < NATIVE_ELEMENTWISE_MIN) return original.kernelFunc(args);
      const layout = broadcastLayout(shape, a.shape, b.shape);
      const rank = layout[0];
      if (rank > 8 || layout[rank] < 8) return original.kernelFunc(args);
      const be = args.backend as unknown as WasmBackendInternals;
      const out = be.makeOutput(shape, "float32"); // may grow the heap: read the buffer after it
      addon.binary(heapBuffer(be), op, heapOffset(be, a), heapOffset(be, b), heapOffset(be, out), layout);
      return out;
    },
  };
}
