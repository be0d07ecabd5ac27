/**
 * The two band products of Longformer's sliding-window attention, named after HF's functions:
 * `_sliding_chunks_query_key_matmul` (query x key over the band) and `_sliding_chunks_matmul_attn_probs_value`
 * (band probabilities x value). Both work on `[BH, n, d]` (BH = batch * heads) with one-sided width w; the band
 * is `[BH, n, 2w + 1]`, entry t of query i referring to key i + t - w (0 for keys outside the sequence).
 *
 * On the WASM backend they run tsml's SIMD kernels (src/backend/bandKernels.ts) with hand-written gradients —
 * which are the same kernels again. On any other backend they are built from stock tfjs ops, blockwise: query
 * blocks of w rows against 3w-key windows in one batched matMul, then a skew into the band layout (HF's trick).
 */
import * as tf from "@tensorflow/tfjs";
import { BAND_CONTEXT_KERNEL, BAND_SCORES_KERNEL, BAND_TRANSPOSE_KERNEL } from "../../backend";

function hasBandKernels(): boolean {
  return tf.getKernel(BAND_SCORES_KERNEL, tf.getBackend()) !== undefined;
}

function runBand(kernel: string, inputs: tf.NamedTensorMap, oneSided: number): tf.Tensor3D {
  return tf.engine().runKernel(kernel, inputs, { oneSided } as unknown as tf.NamedAttrMap) as tf.Tensor3D;
}

/** Band scores `[BH, n, 2w + 1]` of queries and keys `[BH, n, d]` (HF's `_sliding_chunks_query_key_matmul`). */
export function slidingChunksQueryKeyMatmul(query: tf.Tensor, key: tf.Tensor, oneSided: number): tf.Tensor3D {
  if (!hasBandKernels()) return blockwiseQueryKeyMatmul(query, key, oneSided);
  const scores = tf.customGrad((...args) => {
    const [q, k, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    save([q, k]);
    return {
      value: runBand(BAND_SCORES_KERNEL, { q, k }, oneSided),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedQ, savedK] = saved;
        const dyTransposed = runBand(BAND_TRANSPOSE_KERNEL, { p: dy }, oneSided);
        const grads = [runBand(BAND_CONTEXT_KERNEL, { p: dy, v: savedK }, oneSided), runBand(BAND_CONTEXT_KERNEL, { p: dyTransposed, v: savedQ }, oneSided)];
        dyTransposed.dispose();
        return grads;
      },
    };
  });
  return scores(query, key) as tf.Tensor3D;
}

/** Context vectors `[BH, n, d]` of band probabilities `[BH, n, 2w + 1]` and values `[BH, n, d]` (HF's `_sliding_chunks_matmul_attn_probs_value`). */
export function slidingChunksMatmulAttnProbsValue(probs: tf.Tensor, value: tf.Tensor, oneSided: number): tf.Tensor3D {
  if (!hasBandKernels()) return blockwiseProbsValueMatmul(probs, value, oneSided);
  const context = tf.customGrad((...args) => {
    const [p, v, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    save([p, v]);
    return {
      value: runBand(BAND_CONTEXT_KERNEL, { p, v }, oneSided),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedP, savedV] = saved;
        const probsTransposed = runBand(BAND_TRANSPOSE_KERNEL, { p: savedP }, oneSided);
        const grads = [runBand(BAND_SCORES_KERNEL, { q: dy, k: savedV }, oneSided), runBand(BAND_CONTEXT_KERNEL, { p: probsTransposed, v: dy }, oneSided)];
        probsTransposed.dispose();
        return grads;
      },
    };
  });
  return context(probs, value) as tf.Tensor3D;
}

/** `[BH, n, d]` -> `[BH, n/w, 3w, d]`: for block i, the rows of blocks i-1, i, i+1 (zeros past the edges). */
function blockWindows(t: tf.Tensor, w: number): tf.Tensor {
  const [BH, n, d] = t.shape;
  const blocks = n / w;
  const padded = tf.pad(t, [[0, 0], [w, w], [0, 0]]).reshape([BH, blocks + 2, w, d]);
  return tf.concat([0, 1, 2].map((s) => tf.slice(padded, [0, s, 0, 0], [BH, blocks, w, d])), 2);
}

function blockwiseQueryKeyMatmul(query: tf.Tensor, key: tf.Tensor, w: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [BH, n, d] = query.shape;
    const blocks = n / w;
    const blockScores = tf.matMul(query.reshape([BH, blocks, w, d]), blockWindows(key, w), false, true);
    // Skew: flatten each block's [w, 3w] scores, pad w, view as rows of 3w + 1: row r now starts at its offset -w.
    const flat = tf.pad(blockScores.reshape([BH, blocks, w * 3 * w]), [[0, 0], [0, 0], [0, w]]);
    const band = tf.slice(flat.reshape([BH, blocks, w, 3 * w + 1]), [0, 0, 0, 0], [BH, blocks, w, 2 * w + 1]);
    return band.reshape([BH, n, 2 * w + 1]);
  });
}

function blockwiseProbsValueMatmul(probs: tf.Tensor, value: tf.Tensor, w: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [BH, n, d] = value.shape;
    const blocks = n / w;
    // Inverse skew: rows of 2w + 1 padded to 3w + 1, flattened, cut to w * 3w and viewed as [w, 3w] key windows.
    const rows = tf.pad(probs.reshape([BH, blocks, w, 2 * w + 1]), [[0, 0], [0, 0], [0, 0], [0, w]]);
    const windows = tf.slice(rows.reshape([BH, blocks, w * (3 * w + 1)]), [0, 0, 0], [BH, blocks, w * 3 * w]).reshape([BH, blocks, w, 3 * w]);
    return tf.matMul(windows, blockWindows(value, w)).reshape([BH, n, d]);
  });
}
