/**
 * One LongformerLayer (`<prefix>` = `longformer.encoder.layer.<i>.`): self-attention, attention output
 * (dense, dropout, residual LayerNorm), intermediate (dense + activation) and output (dense, dropout,
 * residual LayerNorm) — the same post-LayerNorm block as BERT/RoBERTa.
 */
import * as tf from "@tensorflow/tfjs";
import type { LongformerConfig } from "./config";
import { ForwardContext, LongformerParameters, activation, layerNorm, linear } from "./ops";
import { LongformerAttentionMasks, LongformerAttentionProbs, LongformerSelfAttention } from "./selfAttention";

/** A transformer block with Longformer self-attention. */
export class LongformerLayer {
  readonly attention: LongformerSelfAttention;

  constructor(
    private readonly config: LongformerConfig,
    private readonly params: LongformerParameters,
    private readonly prefix: string,
    readonly window: number,
  ) {
    this.attention = new LongformerSelfAttention(config, params, `${prefix}attention.self.`, window);
  }

  /** The variables this layer reads; the `*_global` projections only when some token attends globally. */
  parameters(withGlobalAttention: boolean): tf.Variable[] {
    return this.params
      .entries()
      .filter(([name]) => name.startsWith(this.prefix) && (withGlobalAttention || !/_global\./.test(name)))
      .map(([, v]) => v);
  }

  /** Applies the block to `[batch, n, hidden]`. */
  apply(x: tf.Tensor, masks: LongformerAttentionMasks, ctx: ForwardContext, wantProbs: boolean): { output: tf.Tensor; probs?: LongformerAttentionProbs } {
    const p = (name: string) => this.params.get(`${this.prefix}${name}`);
    const eps = this.config.layer_norm_eps;
    const dropoutRate = this.config.hidden_dropout_prob;
    const { output: context, probs } = this.attention.apply(x, masks, ctx, wantProbs);
    const attended = ctx.dropout(linear(context, p("attention.output.dense.weight"), p("attention.output.dense.bias")), dropoutRate);
    const attentionOut = layerNorm(attended, p("attention.output.LayerNorm.weight"), p("attention.output.LayerNorm.bias"), eps, x);
    const intermediate = activation(linear(attentionOut, p("intermediate.dense.weight"), p("intermediate.dense.bias")), this.config.hidden_act);
    const projected = ctx.dropout(linear(intermediate, p("output.dense.weight"), p("output.dense.bias")), dropoutRate);
    const output = layerNorm(projected, p("output.LayerNorm.weight"), p("output.LayerNorm.bias"), eps, attentionOut);
    return { output, probs };
  }
}
