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
import { SOFTMAX_KERNEL } from "../../backend";
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
  /** `[batch * G, 1]`: 1 for a real global token, 0 for a padding slot. */
  globalSlotValid: tf.Tensor;
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
    const w = this.oneSided;
    const hidden = this.config.hidden_size;
    const rate = this.config.attention_probs_dropout_prob;
    // Queries are scaled by 1/√d inside their projection (HF divides the projected query; same values).
    const query = ctx.note("query", this.project("query", x, 1 / Math.sqrt(this.headDim)));
    const key = ctx.note("key", this.project("key", x));
    const value = ctx.note("value", this.project("value", x));
    const bandScores = ctx.note("band_scores", slidingChunksQueryKeyMatmul(query, key, h, w));
    let globalScores: tf.Tensor | null = null;
    let globalValues: tf.Tensor | null = null;
    if (G > 0) {
      const globalRows = (t: tf.Tensor) => tf.gather(t.reshape([B * n, hidden]), masks.globalTokenFlatIndex).reshape([B, G, hidden]);
      globalValues = globalRows(value);
      globalScores = ctx.note("global_key_scores", tf.matMul(this.splitHeads(query), this.splitHeads(globalRows(key)), false, true));
    }
    const probs = attentionProbs(bandScores, globalScores, masks);
    ctx.note("band_probs", probs.band);
    if (probs.global) ctx.note("global_key_probs", probs.global);
    let context = ctx.note("band_context", slidingChunksMatmulAttnProbsValue(ctx.dropout(probs.band, rate), value, h, w));
    let globalAttention: tf.Tensor | null = null;
    if (globalValues && probs.global) {
      const globalKeyContext = tf.matMul(ctx.dropout(probs.global, rate), this.splitHeads(globalValues));
      context = tf.add(context, ctx.note("global_key_context", this.mergeHeads(globalKeyContext)));
      const global = this.computeGlobalAttnOutputFromHidden(x, masks, ctx);
      globalAttention = global.probs;
      context = replaceGlobalRows(context, global.output, masks);
    }
    if (!wantProbs) return { output: context };
    const notGlobalRow = tf.sub(1, masks.isGlobal).reshape([B, 1, n, 1]);
    return {
      output: context,
      probs: {
        local: tf.mul(probs.global ? tf.concat([probs.global, probs.band], 3) : probs.band, notGlobalRow),
        global: globalAttention ? globalAttention.transpose([0, 1, 3, 2]) : null,
      },
    };
  }

  /**
   * HF's `_compute_global_attn_output_from_hidden`: the global tokens attend to every unmasked key with the
   * query_global/key_global/value_global projections. Returns their outputs `[B·G, hidden]` and probs `[B, h, G, n]`.
   */
  private computeGlobalAttnOutputFromHidden(x: tf.Tensor, masks: LongformerAttentionMasks, ctx: ForwardContext): { output: tf.Tensor; probs: tf.Tensor } {
    const { batchSize: B, paddedLength: n, globalCount: G } = masks;
    const hidden = this.config.hidden_size;
    const globalHidden = tf.gather(x.reshape([B * n, hidden]), masks.globalTokenFlatIndex).reshape([B, G, hidden]);
    const query = this.splitHeads(this.project("query_global", globalHidden, 1 / Math.sqrt(this.headDim)));
    const key = this.splitHeads(this.project("key_global", x));
    const value = this.splitHeads(this.project("value_global", x));
    const scores = ctx.note("global_scores", tf.add(tf.matMul(query, key, false, true), masks.keyBias));
    const probs = tf.softmax(scores);
    const context = ctx.note("global_context", tf.matMul(ctx.dropout(probs, this.config.attention_probs_dropout_prob), value));
    return { output: this.mergeHeads(context).reshape([B * G, hidden]), probs };
  }

  /** The projection `<prefix><name>` (PyTorch Linear) applied to `input`, its output multiplied by `scale`. */
  private project(name: string, input: tf.Tensor, scale = 1): tf.Tensor {
    const weight = this.params.get(`${this.prefix}${name}.weight`);
    const bias = this.params.get(`${this.prefix}${name}.bias`);
    return scale === 1 ? linear(input, weight, bias) : linear(input, tf.mul(weight, scale), tf.mul(bias, scale));
  }

  /** `[B, len, hidden]` -> `[B, heads, len, headDim]`. */
  private splitHeads(t: tf.Tensor): tf.Tensor {
    const [B, len] = t.shape;
    return t.reshape([B, len, this.heads, this.headDim]).transpose([0, 2, 1, 3]);
  }

  /** `[B, heads, len, headDim]` -> `[B, len, hidden]`. */
  private mergeHeads(t: tf.Tensor): tf.Tensor {
    const [B, , len] = t.shape;
    return t.transpose([0, 2, 1, 3]).reshape([B, len, this.heads * this.headDim]);
  }
}

/** The attention probabilities of the band and of the global keys, as attentionProbs gives them. */
export interface BandAndGlobalProbs {
  /** `[B, h, n, 2w + 1]`. */
  band: tf.Tensor;
  /** `[B, h, n, G]`; null when G = 0. */
  global: tf.Tensor | null;
}

/**
 * Softmax over the G global-key columns and the band together (masks added), with masked query rows zeroed, as HF
 * does, returned as the two parts. Keeps only the probabilities p for the backward pass:
 * d scores = p (dy - Σ dy p), which is also right (zero) on the zeroed rows. On WASM one kernel each way reads and
 * writes the two parts where they are (src/backend/activationKernels.ts); elsewhere stock ops on the columns
 * side by side, then cut apart.
 */
export function attentionProbs(bandScores: tf.Tensor, globalScores: tf.Tensor | null, masks: LongformerAttentionMasks): BandAndGlobalProbs {
  if (tf.getKernel(SOFTMAX_KERNEL, tf.getBackend()) !== undefined) {
    const band = { x: bandScores, xBias: masks.bandBias, keep: masks.queryKeep };
    const scores: tf.NamedTensorMap = globalScores ? { ...band, global: globalScores, globalBias: masks.globalSlotBias } : band;
    const [p, pGlobal] = tf.engine().runKernel<tf.Tensor[]>(SOFTMAX_KERNEL, scores);
    return { band: p, global: pGlobal ?? null };
  }
  const probs = stockAttentionProbs(bandScores, globalScores, masks);
  const G = globalScores ? globalScores.shape[3]! : 0;
  return { band: lastAxisSlice(probs, G, bandScores.shape[3]!), global: G > 0 ? lastAxisSlice(probs, 0, G) : null };
}

/** The probabilities `[B, h, n, G + 2w + 1]` (global columns first) in stock ops, keeping only them for the backward pass. */
function stockAttentionProbs(bandScores: tf.Tensor, globalScores: tf.Tensor | null, masks: LongformerAttentionMasks): tf.Tensor {
  const G = globalScores ? globalScores.shape[3]! : 0;
  const softmax = tf.customGrad((...args) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [band, global] = args.slice(0, -1) as tf.Tensor[];
    const value = tf.tidy(() => {
      const maskedBand = tf.add(band, masks.bandBias);
      const scores = global ? tf.concat([tf.add(global, masks.globalSlotBias), maskedBand], 3) : maskedBand;
      return tf.mul(tf.softmax(scores), masks.queryKeep);
    });
    save([value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [p] = saved;
          const dScores = tf.mul(p, tf.sub(dy, tf.sum(tf.mul(dy, p), -1, true)));
          if (G === 0) return [dScores];
          const [B, h, n, width] = dScores.shape as number[];
          return [tf.slice(dScores, [0, 0, 0, G], [B, h, n, width - G]), tf.slice(dScores, [0, 0, 0, 0], [B, h, n, G])];
        }),
    };
  });
  return globalScores ? softmax(bandScores, globalScores) : softmax(bandScores);
}

/** Columns [start, start + size) of the last axis; keeps nothing for the backward pass (the gradient is dy padded with zeros). */
function lastAxisSlice(x: tf.Tensor, start: number, size: number): tf.Tensor {
  const rank = x.rank;
  const total = x.shape[rank - 1];
  if (start === 0 && size === total) return x;
  const slice = tf.customGrad((...args) => {
    const [input] = args as [tf.Tensor];
    const begin = input.shape.map((_, i) => (i === rank - 1 ? start : 0));
    const sizes = input.shape.map((dim, i) => (i === rank - 1 ? size : dim));
    return {
      value: tf.slice(input, begin, sizes),
      gradFunc: (dy: tf.Tensor) =>
        tf.pad(
          dy,
          dy.shape.map<[number, number]>((_, i) => (i === rank - 1 ? [start, total - start - size] : [0, 0])),
        ),
    };
  });
  return slice(x);
}

/**
 * The context `[B, n, hidden]` with the rows of global tokens replaced by their global-attention outputs
 * `[B·G, hidden]`. Keeps only the masks: d context = dy on local rows; d global = dy at each real global token.
 */
function replaceGlobalRows(context: tf.Tensor, globalOutput: tf.Tensor, masks: LongformerAttentionMasks): tf.Tensor {
  const replace = tf.customGrad((...args) => {
    const [local, global, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const { isGlobal, positionGlobalSlot, globalTokenFlatIndex, globalSlotValid } = masks;
    save([isGlobal, globalTokenFlatIndex, globalSlotValid]);
    const [B, n, hidden] = local.shape;
    return {
      value: tf.tidy(() => {
        const spread = tf.gather(global, positionGlobalSlot).reshape([B, n, hidden]);
        return tf.add(tf.mul(local, tf.sub(1, isGlobal)), tf.mul(spread, isGlobal));
      }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [savedIsGlobal, savedIndex, savedValid] = saved;
          const dLocal = tf.mul(dy, tf.sub(1, savedIsGlobal));
          const dGlobal = tf.mul(tf.gather(dy.reshape([B * n, hidden]), savedIndex), savedValid);
          return [dLocal, dGlobal];
        }),
    };
  });
  return replace(context, globalOutput);
}
