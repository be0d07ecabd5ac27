/**
 * LongformerEmbeddings: word + RoBERTa-style position + token-type embeddings, LayerNorm, dropout.
 * Word and position tables behave like `nn.Embedding(padding_idx=pad_token_id)`: the padding row is
 * used in the forward pass but always receives a zero gradient.
 */
import * as tf from "@tensorflow/tfjs";
import type { LongformerConfig } from "./config";
import type { PreparedLongformerBatch } from "./masks";
import { ForwardContext, LongformerParameters, layerNorm } from "./ops";

/** Row lookup whose gradient skips every occurrence of `frozenRow` (PyTorch padding_idx semantics). */
function lookupWithFrozenRow(table: tf.Tensor, ids: Int32Array, frozenRow: number): tf.Tensor {
  const lookup = tf.customGrad((...inputs) => {
    const t = inputs[0] as tf.Tensor;
    return {
      value: tf.gather(t, tf.tensor1d(ids, "int32")),
      gradFunc: (dy: tf.Tensor) => {
        const keep = tf.tensor2d(
          Float32Array.from(ids, (id) => (id === frozenRow ? 0 : 1)),
          [ids.length, 1],
        );
        return tf.unsortedSegmentSum(tf.mul(dy, keep), tf.tensor1d(ids, "int32"), t.shape[0]);
      },
    };
  });
  return lookup(table);
}

/** The embedding block of LongformerModel (`<prefix>embeddings.*`). */
export class LongformerEmbeddings {
  constructor(
    private readonly config: LongformerConfig,
    private readonly params: LongformerParameters,
    private readonly prefix: string,
  ) {}

  /** Embeds the padded batch: `[batch, paddedLength, hidden]`. */
  apply(batch: PreparedLongformerBatch, ctx: ForwardContext): tf.Tensor {
    const p = (name: string) => this.params.get(`${this.prefix}${name}`);
    const pad = this.config.pad_token_id;
    const words = lookupWithFrozenRow(p("word_embeddings.weight"), batch.inputIds, pad);
    const positions = lookupWithFrozenRow(p("position_embeddings.weight"), batch.positionIds, pad);
    const types = tf.gather(p("token_type_embeddings.weight"), tf.tensor1d(batch.tokenTypeIds, "int32"));
    const summed = tf.add(tf.add(words, positions), types);
    const normed = layerNorm(summed, p("LayerNorm.weight"), p("LayerNorm.bias"), this.config.layer_norm_eps);
    const shaped = normed.reshape([batch.batchSize, batch.paddedLength, this.config.hidden_size]);
    return ctx.dropout(shaped, this.config.hidden_dropout_prob);
  }
}
