/**
 * The two band products of Longformer's sliding-window attention, named after HF's functions:
 * `_sliding_chunks_query_key_matmul` (query x key over the band) and `_sliding_chunks_matmul_attn_probs_value`
 * (band probabilities x value). Queries, keys, values and contexts are `[batch, n, hidden]` as the dense layers
 * produce them (heads not split off); the band is `[batch, heads, n, 2w + 1]`, entry t of query i referring to
 * key i + t - w (0 for keys outside the sequence), w being half the attention window.
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

function runBand(kernel: string, inputs: tf.NamedTensorMap, oneSided: number, heads: number): tf.Tensor {
  return tf.engine().runKernel<tf.Tensor>(kernel, inputs, { oneSided, heads });
}

/** Band scores `[batch, heads, n, 2w + 1]` of queries and keys `[batch, n, hidden]` (HF's `_sliding_chunks_query_key_matmul`). */
export function slidingChunksQueryKeyMatmul(query: tf.Tensor, key: tf.Tensor, heads: number, oneSided: number): tf.Tensor {
  if (!hasBandKernels()) return blockwiseQueryKeyMatmul(query, key, heads, oneSided);
  const scores = tf.customGrad((...args) => {
    const [q, k, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([q, k]);
    return {
      value: runBand(BAND_SCORES_KERNEL, { q, k }, oneSided, heads),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [savedQ, savedK] = saved;
          const dyTransposed = runBand(BAND_TRANSPOSE_KERNEL, { p: dy }, oneSided, heads);
          return [
            runBand(BAND_CONTEXT_KERNEL, { p: dy, v: savedK }, oneSided, heads),
            runBand(BAND_CONTEXT_KERNEL, { p: dyTransposed, v: savedQ }, oneSided, heads),
          ];
        }),
    };
  });
  return scores(query, key);
}

/** Context `[batch, n, hidden]` of band probabilities `[batch, heads, n, 2w + 1]` and values `[batch, n, hidden]` (HF's `_sliding_chunks_matmul_attn_probs_value`). */
export function slidingChunksMatmulAttnProbsValue(probs: tf.Tensor, value: tf.Tensor, heads: number, oneSided: number): tf.Tensor {
  if (!hasBandKernels()) return blockwiseProbsValueMatmul(probs, value, heads, oneSided);
  const context = tf.customGrad((...args) => {
    const [p, v, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([p, v]);
    return {
      value: runBand(BAND_CONTEXT_KERNEL, { p, v }, oneSided, heads),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [savedP, savedV] = saved;
          const probsTransposed = runBand(BAND_TRANSPOSE_KERNEL, { p: savedP }, oneSided, heads);
          return [
            runBand(BAND_SCORES_KERNEL, { q: dy, k: savedV }, oneSided, heads),
            runBand(BAND_CONTEXT_KERNEL, { p: probsTransposed, v: dy }, oneSided, heads),
          ];
        }),
    };
  });
  return context(probs, value);
}

/** `[batch, n, hidden]` -> `[batch·heads, n, headDim]`. */
function splitHeads(t: tf.Tensor, heads: number): tf.Tensor {
  const [B, n, H] = t.shape;
  return t
    .reshape([B, n, heads, H / heads])
    .transpose([0, 2, 1, 3])
    .reshape([B * heads, n, H / heads]);
}

/** `[BH, n, d]` -> `[BH, n/w, 3w, d]`: for block i, the rows of blocks i-1, i, i+1 (zeros past the edges). */
function blockWindows(t: tf.Tensor, w: number): tf.Tensor {
  const [BH, n, d] = t.shape;
  const blocks = n / w;
  const padded = tf
    .pad(t, [
      [0, 0],
      [w, w],
      [0, 0],
    ])
    .reshape([BH, blocks + 2, w, d]);
  return tf.concat(
    [0, 1, 2].map((s) => tf.slice(padded, [0, s, 0, 0], [BH, blocks, w, d])),
    2,
  );
}

function blockwiseQueryKeyMatmul(query: tf.Tensor, key: tf.Tensor, heads: number, w: number): tf.Tensor {
  return tf.tidy(() => {
    const [B, n, H] = query.shape;
    const blocks = n / w;
    const blockScores = tf.matMul(splitHeads(query, heads).reshape([B * heads, blocks, w, H / heads]), blockWindows(splitHeads(key, heads), w), false, true);
    // Skew: flatten each block's [w, 3w] scores, pad w, view as rows of 3w + 1: row r now starts at its offset -w.
    const flat = tf.pad(blockScores.reshape([B * heads, blocks, w * 3 * w]), [
      [0, 0],
      [0, 0],
      [0, w],
    ]);
    const band = tf.slice(flat.reshape([B * heads, blocks, w, 3 * w + 1]), [0, 0, 0, 0], [B * heads, blocks, w, 2 * w + 1]);
    return band.reshape([B, heads, n, 2 * w + 1]);
  });
}

function blockwiseProbsValueMatmul(probs: tf.Tensor, value: tf.Tensor, heads: number, w: number): tf.Tensor {
  return tf.tidy(() => {
    const [B, n, H] = value.shape;
    const blocks = n / w;
    // Inverse skew: rows of 2w + 1 padded to 3w + 1, flattened, cut to w * 3w and viewed as [w, 3w] key windows.
    const rows = tf.pad(probs.reshape([B * heads, blocks, w, 2 * w + 1]), [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, w],
    ]);
    const windows = tf
      .slice(rows.reshape([B * heads, blocks, w * (3 * w + 1)]), [0, 0, 0], [B * heads, blocks, w * 3 * w])
      .reshape([B * heads, blocks, w, 3 * w]);
    const context = tf.matMul(windows, blockWindows(splitHeads(value, heads), w));
    return context
      .reshape([B, heads, n, H / heads])
      .transpose([0, 2, 1, 3])
      .reshape([B, n, H]);
  });
}
