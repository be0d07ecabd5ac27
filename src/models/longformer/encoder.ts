/**
 * LongformerEncoder (`longformer.encoder.layer.<i>.*`): builds the per-batch mask tensors once (one
 * band mask per distinct window) and runs the layers, each with its own attention window — checkpointed
 * (recomputed in the backward pass) when gradient checkpointing is on.
 */
import * as tf from "@tensorflow/tfjs";
import type { LongformerConfig } from "./config";
import { checkpointed } from "./checkpointing";
import { LongformerLayer } from "./layer";
import { PreparedLongformerBatch, longformerBandBias } from "./masks";
import { ForwardContext, LongformerParameters } from "./ops";
import type { LongformerAttentionMasks, LongformerAttentionProbs } from "./selfAttention";

/** Padded encoder outputs: the final hidden state plus what was collected. */
export interface LongformerEncoderOutputs {
  hidden: tf.Tensor;
  /** Embedding output then the output of every layer (when collected). */
  hiddenStates: tf.Tensor[];
  attentions: LongformerAttentionProbs[];
}

/** The stack of LongformerLayers. */
export class LongformerEncoder {
  readonly layers: LongformerLayer[] = [];
  /** Recompute each layer in the backward pass instead of keeping its intermediates (HF's gradient checkpointing). */
  gradientCheckpointing = false;

  constructor(config: LongformerConfig, params: LongformerParameters, prefix: string) {
    for (let i = 0; i < config.num_hidden_layers; i++) {
      this.layers.push(new LongformerLayer(config, params, `${prefix}layer.${i}.`, config.windowOf(i)));
    }
  }

  /** Runs every layer on the padded embeddings; collects per-layer states/probabilities when asked. */
  apply(
    embedded: tf.Tensor,
    batch: PreparedLongformerBatch,
    ctx: ForwardContext,
    collect: { hiddenStates: boolean; attentions: boolean },
  ): LongformerEncoderOutputs {
    const shared = sharedMaskTensors(batch);
    const bandBiasByWindow = new Map<number, tf.Tensor>();
    const outputs: LongformerEncoderOutputs = { hidden: embedded, hiddenStates: collect.hiddenStates ? [embedded] : [], attentions: [] };
    for (const layer of this.layers) {
      let bandBias = bandBiasByWindow.get(layer.window);
      if (!bandBias) {
        bandBias = tf.tensor4d(longformerBandBias(batch, layer.window), [batch.batchSize, 1, batch.paddedLength, layer.window + 1]);
        bandBiasByWindow.set(layer.window, bandBias);
      }
      const masks = { ...shared, bandBias };
      // Like HF, per-layer outputs asked for by the caller come from the plain path. Each layer runs in its own
      // tidy: what its backward pass needs is kept by the ops themselves, the rest is freed before the next layer.
      const { output, probs } =
        this.gradientCheckpointing && !collect.hiddenStates && !collect.attentions
          ? { output: checkpointedLayer(layer, outputs.hidden, masks, ctx), probs: undefined }
          : (tf.tidy(() => layer.apply(outputs.hidden, masks, ctx, collect.attentions) as unknown as tf.TensorContainer) as unknown as ReturnType<
              LongformerLayer["apply"]
            >);
      outputs.hidden = output;
      if (collect.hiddenStates) outputs.hiddenStates.push(output);
      if (probs) outputs.attentions.push(probs);
    }
    return outputs;
  }
}

const MASK_TENSOR_KEYS = [
  "bandBias",
  "globalTokenFlatIndex",
  "globalSlotBias",
  "globalSlotValid",
  "positionGlobalSlot",
  "isGlobal",
  "keyBias",
  "queryKeep",
] as const;

/** `layer` on `x`, recomputed in the backward pass with the same masks and dropout draws. */
function checkpointedLayer(layer: LongformerLayer, x: tf.Tensor, masks: LongformerAttentionMasks, ctx: ForwardContext): tf.Tensor {
  const firstDropoutCall = ctx.dropoutCallsSoFar;
  const run = (input: tf.Tensor, keep: tf.Tensor[], recomputing: boolean) => {
    const kept = { ...masks };
    MASK_TENSOR_KEYS.forEach((key, i) => (kept[key] = keep[i]));
    return layer.apply(input, kept, recomputing ? ctx.replayFrom(firstDropoutCall) : ctx, false).output;
  };
  return checkpointed(
    run,
    x,
    layer.parameters(masks.globalCount > 0),
    MASK_TENSOR_KEYS.map((key) => masks[key]),
  );
}

function sharedMaskTensors(batch: PreparedLongformerBatch): Omit<LongformerAttentionMasks, "bandBias"> {
  const { batchSize: B, paddedLength: n, globalCount: G } = batch;
  return {
    batchSize: B,
    paddedLength: n,
    globalCount: G,
    globalTokenFlatIndex: tf.tensor1d(batch.globalTokenFlatIndex, "int32"),
    globalSlotBias: tf.tensor4d(batch.globalSlotBias, [B, 1, 1, G]),
    globalSlotValid: tf.tensor2d(
      batch.globalSlotBias.map((bias) => (bias === 0 ? 1 : 0)),
      [B * G, 1],
    ),
    positionGlobalSlot: tf.tensor1d(batch.positionGlobalSlot, "int32"),
    isGlobal: tf.tensor3d(batch.isGlobal, [B, n, 1]),
    keyBias: tf.tensor4d(batch.keyBias, [B, 1, 1, n]),
    queryKeep: tf.tensor4d(batch.queryKeep, [B, 1, n, 1]),
  };
}
