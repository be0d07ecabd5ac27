/**
 * LongformerSelfAttention: sliding-window attention of one-sided width w = window / 2 plus global
 * attention, in O(n·w) memory and time.
 *
 * The band is HF's layout `[batch, heads, n, 2w + 1]` (column t = key at offset t - w), computed by
 * `slidingChunksQueryKeyMatmul` and applied to the values by `slidingChunksMatmulAttnProbsValue`
 * (slidingChunks.ts: SIMD kernels on WASM, a blockwise formulation elsewhere). The largest per-head
 * intermediate has n·(2w + 1 + G) entries (G = global tokens); no n × n tensor is ever built.
 *
 * Global tokens are excluded from everyone's band and added back as G extra key columns (normal
 * query/key/value), and their own outputs are recomputed with query_global/key_global/value_global
 * over all unmasked keys, overwriting the local ones (HF semantics).
 */
import * as tf from "@tensorflow/tfjs";
import type { LongformerConfig } from "./config";
import { ForwardContext, LongformerParameters, linear } from "./ops";
import { slidingChunksMatmulAttnProbsValue, slidingChunksQueryKeyMatmul } from "./slidingChunks";

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

    const w = this.oneSided;
    const bandScores = ctx.note("band_scores", tf.add(slidingChunksQueryKeyMatmul(query.reshape([B * h, n, d]), keyHeads.reshape([B * h, n, d]), w).reshape([B, h, n, 2 * w + 1]), masks.bandBias));
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
    const bandContext = slidingChunksMatmulAttnProbsValue(ctx.note("band_probs", bandProbs).reshape([B * h, n, 2 * w + 1]), valueHeads.reshape([B * h, n, d]), w);
    let context = ctx.note("band_context", bandContext.reshape([B, h, n, d]));
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
