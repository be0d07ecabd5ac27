/**
 * LongformerSelfAttention: sliding-window attention of one-sided width w = window / 2 plus global
 * attention, in O(n·w) memory and time.
 *
 * The band is computed blockwise: the padded sequence is cut into n / w query blocks of w tokens;
 * block i can only see keys of blocks i-1, i, i+1, so one batched matMul of every query block with
 * its 3w-key window gives `[blocks, w, 3w]` scores. A skew (flatten, pad w, reshape to rows of
 * 3w + 1, keep 2w + 1 columns) turns row r of a block into its band of relative offsets -w … +w —
 * HF's layout. The inverse skew maps band probabilities back onto the key windows for the
 * probabilities × values matMul. The largest per-head intermediate has n·(3w + G) entries
 * (G = global tokens); no n × n tensor is ever built.
 *
 * Global tokens are excluded from everyone's band and added back as G extra key columns (normal
 * query/key/value), and their own outputs are recomputed with query_global/key_global/value_global
 * over all unmasked keys, overwriting the local ones (HF semantics).
 */
import * as tf from "@tensorflow/tfjs";
import type { LongformerConfig } from "./config";
import { ForwardContext, LongformerParameters, linear } from "./ops";

/** Per-batch mask tensors shared by all layers (built once per forward call by the encoder). */
export interface LongformerAttentionMasks {
  batchSize: number;
  paddedLength: number;
  globalCount: number;
  /** `[batch, 1, n, window + 1]` additive band mask of this layer's window. */
  bandBias: tf.Tensor;
  /** `[batch * G]` int32: flat row of each global token in `[batch * n, hidden]`. */
  globalTokenFlatIndex: tf.Tensor;
  /** `[batch, 1, 1, G]`: padding slots of ragged global counts are excluded. */
  globalSlotBias: tf.Tensor;
  /** `[batch * n]` int32: flat row of each position's global output in `[batch * G, hidden]`. */
  positionGlobalSlot: tf.Tensor;
  /** `[batch, n, 1]`: 1 where the token attends globally. */
  isGlobal: tf.Tensor;
  /** `[batch, 1, 1, n]`: masked keys excluded from global attention. */
  keyBias: tf.Tensor;
  /** `[batch, 1, n, 1]`: 0 for masked query rows. */
  queryKeep: tf.Tensor;
}

/** Attention probabilities in HF's output layout (for debugging and comparison). */
export interface LongformerAttentionProbs {
  /** `[batch, heads, n, G + window + 1]`: G global-key columns then the band; rows of global tokens are 0. */
  local: tf.Tensor;
  /** `[batch, heads, n, G]`: entry [b, h, j, g] is the probability from the g-th global token to key j; null when G = 0. */
  global: tf.Tensor | null;
}

/** One layer's self-attention (`<prefix>` ends in `attention.self.`). */
export class LongformerSelfAttention {
  private readonly heads: number;
  private readonly headDim: number;
  private readonly oneSided: number;

  constructor(
    private readonly config: LongformerConfig,
    private readonly params: LongformerParameters,
    private readonly prefix: string,
    private readonly window: number,
  ) {
    this.heads = config.num_attention_heads;
    this.headDim = config.headDim;
    this.oneSided = window / 2;
  }

  /** Attends `x` `[batch, n, hidden]`; returns the context vectors and optionally the probabilities. */
  apply(x: tf.Tensor, masks: LongformerAttentionMasks, ctx: ForwardContext, wantProbs: boolean): { output: tf.Tensor; probs?: LongformerAttentionProbs } {
    const { batchSize: B, paddedLength: n, globalCount: G } = masks;
    if (n % this.window !== 0) {
      throw new Error(`Longformer: sequence length should be a multiple of attention window ${this.window} (${this.prefix}); given ${n}`);
    }
    const h = this.heads;
    const d = this.headDim;
    const toHeads = (t: tf.Tensor, len: number) => ctx.note("heads", this.splitHeads(t, B, len));

    const query = toHeads(tf.div(this.project("query", x), Math.sqrt(d)), n);
    const key = this.project("key", x);
    const value = this.project("value", x);
    const keyHeads = toHeads(key, n);
    const valueHeads = toHeads(value, n);

    const bandScores = ctx.note("band_scores", tf.add(this.toBand(tf.matMul(this.queryBlocks(query, ctx), this.keyWindows(keyHeads, ctx), false, true), ctx), masks.bandBias));
    let scores = bandScores;
    let globalValues: tf.Tensor | null = null;
    if (G > 0) {
      const pickGlobal = (t: tf.Tensor) => toHeads(tf.gather(t.reshape([B * n, h * d]), masks.globalTokenFlatIndex), G);
      globalValues = pickGlobal(value);
      const globalScores = ctx.note("global_key_scores", tf.add(tf.matMul(query, pickGlobal(key), false, true), masks.globalSlotBias));
      scores = ctx.note("scores", tf.concat([globalScores, bandScores], 3));
    }
    const probs = ctx.note("probs", tf.mul(tf.softmax(scores), masks.queryKeep));
    const dropped = ctx.dropout(probs, this.config.attention_probs_dropout_prob);
    const bandProbs = G > 0 ? tf.slice(dropped, [0, 0, 0, G], [B, h, n, this.window + 1]) : dropped;
    let context = this.bandTimesValues(ctx.note("band_probs", bandProbs), valueHeads, ctx);
    if (globalValues) {
      const globalProbs = tf.slice(dropped, [0, 0, 0, 0], [B, h, n, G]);
      context = tf.add(ctx.note("global_key_context", tf.matMul(globalProbs, globalValues)), context);
    }
    let output = context.transpose([0, 2, 1, 3]).reshape([B, n, h * d]);
    let globalAttention: tf.Tensor | null = null;
    if (G > 0) {
      const global = this.globalTokenAttention(x, masks, ctx);
      globalAttention = global.probs;
      const spread = tf.gather(global.output, masks.positionGlobalSlot).reshape([B, n, h * d]);
      output = tf.add(tf.mul(output, tf.sub(1, masks.isGlobal)), tf.mul(spread, masks.isGlobal));
    }
    if (!wantProbs) return { output };
    const notGlobalRow = tf.sub(1, masks.isGlobal).reshape([B, 1, n, 1]);
    return {
      output,
      probs: { local: tf.mul(probs, notGlobalRow), global: globalAttention ? globalAttention.transpose([0, 1, 3, 2]) : null },
    };
  }

  /** `[B, h, n, d]` -> `[B·h, n/w, w, d]` query blocks. */
  private queryBlocks(queryHeads: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const [B, h, n, d] = queryHeads.shape;
    return ctx.note("query_blocks", queryHeads.reshape([B * h, n / this.oneSided, this.oneSided, d]));
  }

  /** `[B, h, n, d]` -> `[B·h, n/w, 3w, d]`: for query block i, the keys of blocks i-1, i, i+1 (zeros past the edges). */
  private keyWindows(headsTensor: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const [B, h, n, d] = headsTensor.shape;
    const w = this.oneSided;
    const blocks = n / w;
    const padded = tf.pad(headsTensor, [[0, 0], [0, 0], [w, w], [0, 0]]).reshape([B * h, blocks + 2, w, d]);
    const shifted = [0, 1, 2].map((s) => tf.slice(padded, [0, s, 0, 0], [B * h, blocks, w, d]));
    return ctx.note("key_windows", tf.concat(shifted, 2));
  }

  /** Block scores `[B·h, n/w, w, 3w]` -> band `[B, h, n, 2w + 1]` (column k = key at offset k - w). */
  private toBand(blockScores: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    ctx.note("block_scores", blockScores);
    const [BH, blocks, w] = blockScores.shape;
    const flat = tf.pad(blockScores.reshape([BH, blocks, w * 3 * w]), [[0, 0], [0, 0], [0, w]]);
    const skewed = ctx.note("skewed_scores", flat.reshape([BH, blocks, w, 3 * w + 1]));
    const band = tf.slice(skewed, [0, 0, 0, 0], [BH, blocks, w, 2 * w + 1]);
    return band.reshape([BH / this.heads, this.heads, blocks * w, 2 * w + 1]);
  }

  /** Band probabilities `[B, h, n, 2w + 1]` times values `[B, h, n, d]` -> `[B, h, n, d]` (inverse skew, then one matMul). */
  private bandTimesValues(bandProbs: tf.Tensor, valueHeads: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const [B, h, n, d] = valueHeads.shape;
    const w = this.oneSided;
    const blocks = n / w;
    const rows = tf.pad(bandProbs.reshape([B * h, blocks, w, 2 * w + 1]), [[0, 0], [0, 0], [0, 0], [0, w]]);
    const flat = ctx.note("skewed_probs", rows.reshape([B * h, blocks, w * (3 * w + 1)]));
    const windows = ctx.note("window_probs", tf.slice(flat, [0, 0, 0], [B * h, blocks, w * 3 * w]).reshape([B * h, blocks, w, 3 * w]));
    const context = ctx.note("band_context", tf.matMul(windows, this.keyWindows(valueHeads, ctx)));
    return context.reshape([B, h, n, d]);
  }

  /** Outputs of the global tokens over all unmasked keys with the *_global projections: `[B·G, hidden]` and probs `[B, h, G, n]`. */
  private globalTokenAttention(x: tf.Tensor, masks: LongformerAttentionMasks, ctx: ForwardContext): { output: tf.Tensor; probs: tf.Tensor } {
    const { batchSize: B, paddedLength: n, globalCount: G } = masks;
    const hidden = this.config.hidden_size;
    const globalHidden = tf.gather(x.reshape([B * n, hidden]), masks.globalTokenFlatIndex);
    const query = this.splitHeads(tf.div(this.project("query_global", globalHidden), Math.sqrt(this.headDim)), B, G);
    const key = this.splitHeads(this.project("key_global", x), B, n);
    const value = this.splitHeads(this.project("value_global", x), B, n);
    const scores = ctx.note("global_scores", tf.add(tf.matMul(query, key, false, true), masks.keyBias));
    const probs = tf.softmax(scores);
    const context = ctx.note("global_context", tf.matMul(ctx.dropout(probs, this.config.attention_probs_dropout_prob), value));
    return { output: context.transpose([0, 2, 1, 3]).reshape([B * G, hidden]), probs };
  }

  /** The projection `<prefix><name>` (PyTorch Linear) applied to `input`. */
  private project(name: string, input: tf.Tensor): tf.Tensor {
    return linear(input, this.params.get(`${this.prefix}${name}.weight`), this.params.get(`${this.prefix}${name}.bias`));
  }

  /** `[B·len, hidden]` or `[B, len, hidden]` -> `[B, heads, len, headDim]`. */
  private splitHeads(t: tf.Tensor, batchSize: number, len: number): tf.Tensor {
    return t.reshape([batchSize, len, this.heads, this.headDim]).transpose([0, 2, 1, 3]);
  }
}
