/**
 * Kernels registered on tfjs's cpu backend. UnsortedSegmentSum (the gradient of gather: the embedding tables)
 * in tfjs-backend-cpu builds, for every segment, an equality mask, its float copy and the masked product of the
 * whole input, and frees them only at the end: numSegments × 9 bytes per input element at once (a 1000-token
 * vocabulary turns a 128 KiB gradient into 0.5 GiB; a 50k vocabulary at 4096 tokens would need petabytes). This
 * one adds each row into its segment in one pass, in the same order (the same float32 sums).
 */
import * as tf from "@tensorflow/tfjs";

/** out[ids[r], :] += values[r, :] for every row r whose id lies in [0, numSegments); the rest are dropped (as in TensorFlow). */
export function scatterAddRows(
  values: ArrayLike<number>,
  ids: ArrayLike<number>,
  width: number,
  numSegments: number,
  dtype: "float32" | "int32",
): Float32Array | Int32Array {
  const out = dtype === "int32" ? new Int32Array(numSegments * width) : new Float32Array(numSegments * width);
  for (let r = 0; r < ids.length; r++) {
    const s = ids[r];
    if (s < 0 || s >= numSegments) continue;
    for (let j = 0; j < width; j++) out[s * width + j] += values[r * width + j];
  }
  return out;
}

interface CpuBackendInternals {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
}

/** UnsortedSegmentSum of float32 or int32 values by int32 segment ids, in one pass. */
function unsortedSegmentSumKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      if ((x.dtype !== "float32" && x.dtype !== "int32") || segmentIds.dtype !== "int32") return original.kernelFunc(args);
      const numSegments = (args.attrs as unknown as { numSegments: number }).numSegments;
      const backend = args.backend as unknown as CpuBackendInternals;
      const width = tf.util.sizeFromShape(x.shape.slice(segmentIds.shape.length));
      const out = scatterAddRows(backend.readSync(x.dataId), backend.readSync(segmentIds.dataId), width, numSegments, x.dtype);
      return backend.makeTensorInfo([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype, out);
    },
  };
}

let registered = false;

/** Replaces tfjs's cpu UnsortedSegmentSum with the one-pass version (idempotent). */
export function registerCpuTrainingKernels(): void {
  if (registered) return;
  registered = true;
  const original = tf.getKernel("UnsortedSegmentSum", "cpu");
  if (!original) return;
  tf.unregisterKernel("UnsortedSegmentSum", "cpu");
  tf.registerKernel(unsortedSegmentSumKernel(original));
}
