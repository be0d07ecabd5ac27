/**
 * LongformerModel (`longformer.*`): embeddings + encoder on the internally padded batch, outputs cut
 * back to the caller's length (HF's LongformerModel without the pooler).
 */
import * as tf from "@tensorflow/tfjs";
import type { LongformerConfig } from "./config";
import { LongformerEmbeddings } from "./embeddings";
import { LongformerEncoder } from "./encoder";
import type { PreparedLongformerBatch } from "./masks";
import { ForwardContext, LongformerParameters } from "./ops";
import type { LongformerAttentionProbs } from "./selfAttention";

/** What LongformerModel returns, unpadded to the input length (global attention probs keep the padded length, as in HF). */
export interface LongformerModelOutputs {
  /** `[batch, length, hidden]`. */
  lastHiddenState: tf.Tensor;
  /** Embedding output then each layer's output, `[batch, length, hidden]` (when requested). */
  hiddenStates?: tf.Tensor[];
  /** Per layer: local `[batch, heads, length, G + window + 1]`, global `[batch, heads, paddedLength, G]` (when requested). */
  attentions?: LongformerAttentionProbs[];
}

/** The Longformer encoder stack with its embeddings. */
export class LongformerModel {
  private readonly embeddings: LongformerEmbeddings;
  readonly encoder: LongformerEncoder;

  constructor(config: LongformerConfig, params: LongformerParameters, prefix = "longformer.") {
    this.embeddings = new LongformerEmbeddings(config, params, `${prefix}embeddings.`);
    this.encoder = new LongformerEncoder(config, params, `${prefix}encoder.`);
  }

  /** Runs the model on a prepared batch. */
  apply(batch: PreparedLongformerBatch, ctx: ForwardContext, collect: { hiddenStates?: boolean; attentions?: boolean } = {}): LongformerModelOutputs {
    const embedded = this.embeddings.apply(batch, ctx);
    const encoded = this.encoder.apply(embedded, batch, ctx, { hiddenStates: !!collect.hiddenStates, attentions: !!collect.attentions });
    const { batchSize: B, length: L, paddedLength: n } = batch;
    const unpad = (t: tf.Tensor) => (n === L ? t : tf.slice(t, [0, 0, 0], [B, L, t.shape[2]!]));
    const outputs: LongformerModelOutputs = { lastHiddenState: unpad(encoded.hidden) };
    if (collect.hiddenStates) outputs.hiddenStates = encoded.hiddenStates.map(unpad);
    if (collect.attentions) {
      outputs.attentions = encoded.attentions.map(({ local, global }) => ({
        local: n === L ? local : tf.slice(local, [0, 0, 0, 0], [B, local.shape[1]!, L, local.shape[3]!]),
        global,
      }));
    }
    return outputs;
  }
}
