/**
 * LongformerForSequenceClassification: LongformerModel + classification head on the first token
 * (dropout, dense, tanh, dropout, out_proj; no pooler), with HF checkpoint I/O and the Trainer's
 * contract (`trainableVariables`, `forward`, `encode`).
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { HubOptions, HubRepo, pretrainedFolder } from "../../hub";
import { type SafetensorsFile, ensureWritableFolder, readSafetensorsFile, readTorchCheckpointFile, writeJsonAtomic, writeSafetensorsFile } from "../../io";
import { TrainableModel, classifierFromFunction, softmaxCrossEntropySum } from "../../train";
import { LongformerConfig, LongformerConfigInit } from "./config";
import { LongformerBatch, prepareLongformerBatch } from "./masks";
import type { LongformerModelOutputs } from "./model";
import { ForwardContext, linear } from "./ops";
import { LongformerPreTrainedModel, type LongformerForwardOptions } from "./pretrainedModel";
import {
  LONGFORMER_CLASSIFIER_PREFIX,
  LongformerLoadOptions,
  initLongformerWeights,
  longformerWeightsFromCheckpoint,
  longformerWeightsToSafetensors,
} from "./weights";

/** Options of `run`: also collect per-layer hidden states and attention probabilities. */
export interface LongformerRunOptions extends LongformerForwardOptions {
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
}

/** Everything `run` returns. */
export interface LongformerClassifierOutputs extends LongformerModelOutputs {
  /** `[batch, num_labels]`. */
  logits: tf.Tensor;
}

/** Options of `create`: the seed of HF-style initialisation and of dropout. */
export interface LongformerCreateOptions {
  seed?: number;
}

/** Mean cross-entropy of `logits` `[batch, classes]` against int32 `labels` `[batch]` (HF's CrossEntropyLoss). */
export function longformerClassificationLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div<tf.Scalar>(softmaxCrossEntropySum(logits, labels), labels.shape[0]));
}

/** A batch with its labels, as the Trainer feeds it (src/data's ClassificationBatch is one). */
export interface LongformerLabelledBatch extends LongformerBatch {
  /** int32 class ids `[batch]`. */
  labels: tf.Tensor;
}

/** Options of `fromPretrained`: how to map the checkpoint and, for a Hub repo id, how to fetch it. */
export interface LongformerPretrainedOptions extends LongformerLoadOptions, HubOptions {}

/** Weight files a pretrained folder may hold, in order of preference (safetensors needs no pickle). */
export const LONGFORMER_WEIGHT_FILES = ["model.safetensors", "pytorch_model.bin"];

/** A checkpoint folder's config.json and its weight file (safetensors preferred, else the PyTorch .bin), read; `caller` names errors. */
export function readLongformerFolder(dir: string, caller: string): { config: LongformerConfig; checkpoint: SafetensorsFile; weightsPath: string } {
  const configPath = path.join(dir, "config.json");
  const weightsPath = LONGFORMER_WEIGHT_FILES.map((name) => path.join(dir, name)).find((file) => fs.existsSync(file));
  if (!fs.existsSync(configPath))
    throw new Error(`${caller}: ${configPath} not found (expected config.json and ${LONGFORMER_WEIGHT_FILES.join(" or ")} in ${dir})`);
  if (!weightsPath) throw new Error(`${caller}: neither ${LONGFORMER_WEIGHT_FILES.join(" nor ")} found in ${dir}`);
  const config = LongformerConfig.fromJSON(fs.readFileSync(configPath, "utf-8"), configPath);
  const checkpoint = weightsPath.endsWith(".bin") ? readTorchCheckpointFile(weightsPath) : readSafetensorsFile(weightsPath);
  return { config, checkpoint, weightsPath };
}

/** Fetches what a Longformer checkpoint folder needs from a Hub repo: config.json and the preferred weights file. */
export async function fetchLongformerCheckpoint(repo: HubRepo): Promise<void> {
  await repo.file("config.json");
  await repo.file(...LONGFORMER_WEIGHT_FILES);
}

/** Longformer with a sequence-classification head, numerically equal to HF's. */
export class LongformerForSequenceClassification extends LongformerPreTrainedModel {
  /** A freshly initialised model (HF's `_init_weights`, seeded). */
  static create(config: LongformerConfig | LongformerConfigInit, options: LongformerCreateOptions = {}): LongformerForSequenceClassification {
    const cfg = config instanceof LongformerConfig ? config : new LongformerConfig(config);
    const seed = options.seed ?? 0;
    return new LongformerForSequenceClassification(cfg, initLongformerWeights(cfg, seed), seed);
  }

  /**
   * Loads a pretrained model from a local folder or a Hugging Face Hub repo id (`"allenai/longformer-base-4096"`,
   * downloaded once into the cache shared with Python's huggingface_hub; see HubOptions for revision, cache,
   * offline mode and token). Reads config.json and model.safetensors, or pytorch_model.bin when the repo has
   * no safetensors.
   */
  static async fromPretrained(location: string, options: LongformerPretrainedOptions = {}): Promise<LongformerForSequenceClassification> {
    const folder = await pretrainedFolder(location, options, fetchLongformerCheckpoint);
    return LongformerForSequenceClassification.fromFolder(folder, options);
  }

  /** Loads `dir/config.json` and `dir/model.safetensors`, else `dir/pytorch_model.bin` (HF names; F32/F16/BF16). */
  static fromFolder(dir: string, options: LongformerLoadOptions = {}): LongformerForSequenceClassification {
    const { config, checkpoint, weightsPath } = readLongformerFolder(dir, "Longformer.fromFolder");
    const weights = longformerWeightsFromCheckpoint(config, checkpoint, weightsPath, options);
    return new LongformerForSequenceClassification(config, weights, options.seed ?? 0);
  }

  /** Writes `dir/config.json` and `dir/model.safetensors` (F32, HF names and layouts) atomically. */
  savePretrained(dir: string): void {
    ensureWritableFolder(dir, "savePretrained:");
    writeJsonAtomic(path.join(dir, "config.json"), this.config.toJSON());
    writeSafetensorsFile(path.join(dir, "model.safetensors"), longformerWeightsToSafetensors(this.weights()), { format: "pt" });
  }

  /** Logits `[batch, num_labels]`; global attention defaults to token 0 when no global mask is given. */
  forward(batch: LongformerBatch, options: LongformerForwardOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const { outputs, ctx } = this.encodeWithContext(batch, options);
      return this.classify(outputs.lastHiddenState, ctx);
    }) as tf.Tensor2D;
  }

  /** Last hidden state `[batch, length, hidden]` of the encoder (same default global attention). */
  encode(batch: LongformerBatch, options: LongformerForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.encodeWithContext(batch, options).outputs.lastHiddenState) as tf.Tensor3D;
  }

  /** Mean cross-entropy loss of the batch against int32 `labels` `[batch]`. */
  loss(batch: LongformerBatch, labels: tf.Tensor, options: LongformerForwardOptions = {}): tf.Scalar {
    return tf.tidy(() => longformerClassificationLoss(this.forward(batch, options), labels));
  }

  /** Logits plus the last hidden state and, on request, every hidden state and attention probability. */
  run(batch: LongformerBatch, options: LongformerRunOptions = {}): LongformerClassifierOutputs {
    const result = tf.tidy(() => {
      const collect = { hiddenStates: options.outputHiddenStates, attentions: options.outputAttentions };
      const { outputs, ctx } = this.encodeWithContext(batch, options, collect);
      return { ...outputs, logits: this.classify(outputs.lastHiddenState, ctx) } as unknown as tf.TensorContainer;
    });
    return result as unknown as LongformerClassifierOutputs;
  }

  /**
   * The Trainer's view of this model: summed cross-entropy over labelled batches, dropout reseeded by the
   * Trainer before every micro-batch (so a resumed run is bit-identical), gradient checkpointing switchable.
   */
  asTrainableModel(): TrainableModel<LongformerLabelledBatch> {
    return {
      ...classifierFromFunction<LongformerLabelledBatch>(
        this.trainableVariables(),
        (batch, training) => this.forward(batch, { training }),
        (batch) => batch.labels,
      ),
      setRandomSeed: (seed) => this.setRandomSeed(seed),
      setGradientCheckpointing: (enabled) => (enabled ? this.gradientCheckpointingEnable() : this.gradientCheckpointingDisable()),
    };
  }

  private encodeWithContext(
    batch: LongformerBatch,
    options: LongformerForwardOptions,
    collect: { hiddenStates?: boolean; attentions?: boolean } = {},
  ): { outputs: LongformerModelOutputs; ctx: ForwardContext } {
    const ctx = this.forwardContext(options);
    const prepared = prepareLongformerBatch(this.config, batch, true);
    return { outputs: this.longformer.apply(prepared, ctx, collect), ctx };
  }

  private classify(hidden: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const p = (name: string) => this.params.get(`${LONGFORMER_CLASSIFIER_PREFIX}${name}`);
    const rate = this.config.hidden_dropout_prob;
    const [B, , H] = hidden.shape;
    const first = ctx.dropout(tf.slice(hidden, [0, 0, 0], [B, 1, H]).reshape([B, H]), rate);
    const dense = ctx.dropout(tf.tanh(linear(first, p("dense.weight"), p("dense.bias"))), rate);
    return linear(dense, p("out_proj.weight"), p("out_proj.bias"));
  }
}
