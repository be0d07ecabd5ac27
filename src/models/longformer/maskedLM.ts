/**
 * LongformerForMaskedLM: LongformerModel + HF's LM head (dense, exact GELU, LayerNorm, decoder tied to
 * the word embeddings with the bias `lm_head.bias`), the masked-LM loss over labelled positions only
 * (label -100 ignored), HF checkpoint I/O with tied weights, and the step from a pretrained encoder to
 * a LongformerForSequenceClassification with a fresh classification head.
 */
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { HubOptions, pretrainedFolder } from "../../hub";
import type { TrainableModel } from "../../train";
import { ensureWritableFolder, writeJsonAtomic, writeSafetensorsFile } from "../../io";
import type { SafetensorsInput } from "../../io";
import { LongformerForSequenceClassification, fetchLongformerCheckpoint, readLongformerFolder } from "./classification";
import type { LongformerCreateOptions } from "./classification";
import { LongformerConfig, LongformerConfigInit } from "./config";
import { LongformerBatch, prepareLongformerBatch } from "./masks";
import { activation, layerNorm, linear } from "./ops";
import { LongformerPreTrainedModel, type LongformerForwardOptions } from "./pretrainedModel";
import {
  LONGFORMER_CLASSIFIER_PREFIX,
  LONGFORMER_LM_HEAD_PREFIX,
  LongformerWeights,
  initLongformerWeights,
  longformerMaskedLMParameterSpecs,
  longformerParameterSpecs,
  mapCheckpointWeights,
} from "./weights";

/** The label of positions that do not count in the masked-LM loss (HF's CrossEntropyLoss ignore_index). */
export const MASKED_LM_IGNORE_INDEX = -100;

/** Name of the word-embedding table that the LM decoder shares. */
const WORD_EMBEDDINGS = "longformer.embeddings.word_embeddings.weight";

/** A batch with masked-LM labels: int32 token ids `[batch, length]`, -100 where no token is predicted. */
export interface LongformerMaskedLMBatch extends LongformerBatch {
  labels: tf.Tensor;
}

/** Options of `LongformerForMaskedLM.fromFolder` / `fromPretrained` (the latter also takes HubOptions). */
export interface LongformerMaskedLMLoadOptions extends HubOptions {
  /** Seed of dropout. */
  seed?: number;
}

/** Options of `toSequenceClassifier`: the classification head to add. */
export interface LongformerClassifierFromEncoderOptions {
  /** Number of classes (default: the config's `num_labels`). */
  numLabels?: number;
  /** Label names by class index (overrides `numLabels`). */
  id2label?: Record<string, string>;
  /** Seed of the head's HF initialisation and of the classifier's dropout (default 0). */
  seed?: number;
}

/**
 * Sum of the cross-entropy of `logits` `[batch, length, vocab]` over the positions whose int32 `labels`
 * `[batch, length]` are not -100, and the number of those positions (HF's loss is sum / count).
 */
export function maskedLMLossSum(logits: tf.Tensor, labels: tf.Tensor): { lossSum: tf.Scalar; count: number } {
  const [B, L, V] = logits.shape;
  if (labels.rank !== 2 || labels.shape[0] !== B || labels.shape[1] !== L) {
    throw new Error(`maskedLMLossSum: labels must be [batch, length] = [${B}, ${L}], got [${labels.shape}]`);
  }
  const flatLabels = labels.dataSync();
  const positions: number[] = [];
  const targets: number[] = [];
  flatLabels.forEach((label, i) => {
    if (label === MASKED_LM_IGNORE_INDEX) return;
    if (!(Number.isInteger(label) && label >= 0 && label < V)) {
      throw new Error(`maskedLMLossSum: label ${label} at flat position ${i} is neither -100 nor a token id in [0, ${V})`);
    }
    positions.push(i);
    targets.push(label);
  });
  const lossSum = tf.tidy(() => {
    if (positions.length === 0) return tf.mul<tf.Scalar>(tf.sum(logits), 0);
    const picked = tf.gather(logits.reshape([B * L, V]), tf.tensor1d(positions, "int32"));
    const logProbs = tf.logSoftmax(picked);
    return tf.neg(tf.sum(tf.mul(logProbs, tf.oneHot(tf.tensor1d(targets, "int32"), V)))) as tf.Scalar;
  });
  return { lossSum, count: positions.length };
}

/** Longformer with HF's masked-language-modelling head, numerically equal to HF's LongformerForMaskedLM. */
export class LongformerForMaskedLM extends LongformerPreTrainedModel {
  /** Wraps `weights` (HF names, PyTorch layout, no `lm_head.decoder.*`); `seed` drives dropout. */
  constructor(config: LongformerConfig, weights: LongformerWeights, seed = 0) {
    const absent = longformerMaskedLMParameterSpecs(config)
      .map((s) => s.name)
      .filter((name) => !weights.has(name));
    if (absent.length > 0) throw new Error(`LongformerForMaskedLM: weights lack ${absent.join(", ")}`);
    super(config, weights, seed);
  }

  /** A freshly initialised model (HF's `_init_weights`, seeded). */
  static create(config: LongformerConfig | LongformerConfigInit, options: LongformerCreateOptions = {}): LongformerForMaskedLM {
    const cfg = config instanceof LongformerConfig ? config : new LongformerConfig(config);
    const seed = options.seed ?? 0;
    return new LongformerForMaskedLM(cfg, initLongformerWeights(cfg, seed, longformerMaskedLMParameterSpecs(cfg)), seed);
  }

  /** Loads an HF LongformerForMaskedLM from a local folder or a Hugging Face Hub repo id (see `fromFolder`, HubOptions). */
  static async fromPretrained(location: string, options: LongformerMaskedLMLoadOptions = {}): Promise<LongformerForMaskedLM> {
    const folder = await pretrainedFolder(location, options, fetchLongformerCheckpoint);
    return LongformerForMaskedLM.fromFolder(folder, options);
  }

  /**
   * Loads `dir/config.json` and `dir/model.safetensors` (else `dir/pytorch_model.bin`) of an HF LongformerForMaskedLM:
   * the decoder weight is the word-embedding table (a stored `lm_head.decoder.weight` must equal it),
   * `lm_head.decoder.bias` is `lm_head.bias`; pooler and position_ids entries are ignored as in HF.
   */
  static fromFolder(dir: string, options: LongformerMaskedLMLoadOptions = {}): LongformerForMaskedLM {
    const { config, checkpoint: file, weightsPath } = readLongformerFolder(dir, "LongformerForMaskedLM.fromFolder");
    const weights = mapCheckpointWeights(config, longformerMaskedLMParameterSpecs(config), file, weightsPath, {
      modelName: "LongformerForMaskedLM",
      ignored: [/^(longformer\.)?pooler\./, /(^|\.)embeddings\.position_ids$/],
      aliases: { "lm_head.decoder.bias": `${LONGFORMER_LM_HEAD_PREFIX}bias`, "lm_head.decoder.weight": WORD_EMBEDDINGS },
    });
    return new LongformerForMaskedLM(config, weights, options.seed ?? 0);
  }

  /**
   * Writes `dir/config.json` and `dir/model.safetensors` as HF saves a LongformerForMaskedLM: the tied
   * decoder weight left out, the bias under both `lm_head.bias` and `lm_head.decoder.bias`.
   */
  savePretrained(dir: string): void {
    ensureWritableFolder(dir, "savePretrained:");
    writeJsonAtomic(path.join(dir, "config.json"), this.config.toHFConfig("LongformerForMaskedLM"));
    const tensors: Record<string, SafetensorsInput> = {};
    for (const [name, { shape, data }] of this.weights()) tensors[name] = { dtype: "F32", shape, data };
    tensors["lm_head.decoder.bias"] = tensors[`${LONGFORMER_LM_HEAD_PREFIX}bias`];
    writeSafetensorsFile(path.join(dir, "model.safetensors"), tensors, { format: "pt" });
  }

  /** Prediction scores `[batch, length, vocab]`; no global attention unless a global mask is given (as in HF). */
  forward(batch: LongformerBatch, options: LongformerForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.predictTokens(this.encode(batch, options))) as tf.Tensor3D;
  }

  /**
   * Sum of the cross-entropy over labelled positions of int32 `labels` `[batch, length]` (-100 = ignored) and
   * their count. The LM head runs on the labelled positions only (the others do not change the loss or any
   * gradient), which saves most of the vocabulary projection when 15% of tokens are labelled.
   */
  lossSum(batch: LongformerBatch, labels: tf.Tensor, options: LongformerForwardOptions = {}): { lossSum: tf.Scalar; count: number } {
    const [B, L] = batch.inputIds.shape;
    if (labels.rank !== 2 || labels.shape[0] !== B || labels.shape[1] !== L) {
      throw new Error(`LongformerForMaskedLM.lossSum: labels must be [batch, length] = [${B}, ${L}], got [${labels.shape}]`);
    }
    const flat = labels.dataSync();
    const positions: number[] = [];
    flat.forEach((label, i) => void (label !== MASKED_LM_IGNORE_INDEX && positions.push(i)));
    let count = 0;
    const lossSum = tf.tidy(() => {
      const hidden = this.encode(batch, options);
      if (positions.length === 0) return tf.mul<tf.Scalar>(tf.sum(hidden), 0);
      const at = tf.tensor1d(positions, "int32");
      const picked = tf.gather(hidden.reshape([B * L, this.config.hidden_size]), at);
      const logits = this.predictTokens(picked).reshape([1, positions.length, this.config.vocab_size]);
      const result = maskedLMLossSum(logits, tf.gather(labels.reshape([-1]), at).reshape([1, positions.length]));
      count = result.count;
      return result.lossSum;
    });
    return { lossSum, count };
  }

  /**
   * The Trainer's view of this model: loss summed over labelled tokens; its "classes" are the token ids at the
   * labelled positions (so accuracy is masked-token accuracy); dropout reseeded by the Trainer before every
   * micro-batch; gradient checkpointing switchable.
   */
  asTrainableModel(): TrainableModel<LongformerMaskedLMBatch> {
    const labelledPositions = (labels: tf.Tensor) =>
      tf.tensor1d(
        Array.from(labels.dataSync()).flatMap((label, i) => (label === MASKED_LM_IGNORE_INDEX ? [] : [i])),
        "int32",
      );
    return {
      trainableVariables: () => this.trainableVariables(),
      lossSum: (batch, training) => this.lossSum(batch, batch.labels, { training }),
      predictLogits: (batch) => tf.tidy(() => tf.gather(this.forward(batch).reshape([-1, this.config.vocab_size]), labelledPositions(batch.labels))),
      labels: (batch) => tf.tidy(() => tf.gather(batch.labels.reshape([-1]), labelledPositions(batch.labels))),
      setRandomSeed: (seed) => this.setRandomSeed(seed),
      setGradientCheckpointing: (enabled) => (enabled ? this.gradientCheckpointingEnable() : this.gradientCheckpointingDisable()),
    };
  }

  /** HF's masked-LM loss: mean cross-entropy over the labelled positions (NaN when none is labelled, as in HF). */
  loss(batch: LongformerBatch, labels: tf.Tensor, options: LongformerForwardOptions = {}): tf.Scalar {
    return tf.tidy(() => {
      const { lossSum, count } = this.lossSum(batch, labels, options);
      return tf.div<tf.Scalar>(lossSum, count);
    });
  }

  /**
   * A LongformerForSequenceClassification with this model's encoder weights (copied) and a freshly
   * initialised classification head (HF init, `seed`); the LM head is dropped, as HF does when a
   * masked-LM checkpoint is loaded into a sequence classifier.
   */
  toSequenceClassifier(options: LongformerClassifierFromEncoderOptions = {}): LongformerForSequenceClassification {
    const init = this.config.toHFConfig("LongformerForSequenceClassification") as LongformerConfigInit;
    if (options.id2label !== undefined || options.numLabels !== undefined) {
      delete init.id2label;
      delete init.label2id;
      if (options.id2label !== undefined) init.id2label = options.id2label;
      else init.num_labels = options.numLabels;
    }
    const config = new LongformerConfig(init);
    const seed = options.seed ?? 0;
    const specs = longformerParameterSpecs(config);
    const head = initLongformerWeights(
      config,
      seed,
      specs.filter((s) => s.name.startsWith(LONGFORMER_CLASSIFIER_PREFIX)),
    );
    const own = this.weights();
    const weights: LongformerWeights = new Map();
    for (const spec of specs) weights.set(spec.name, spec.name.startsWith(LONGFORMER_CLASSIFIER_PREFIX) ? head.get(spec.name)! : own.get(spec.name)!);
    return new LongformerForSequenceClassification(config, weights, seed);
  }

  /** Last hidden state `[batch, length, hidden]` of the encoder (no default global attention). */
  private encode(batch: LongformerBatch, options: LongformerForwardOptions): tf.Tensor {
    const ctx = this.forwardContext(options);
    return this.longformer.apply(prepareLongformerBatch(this.config, batch, false), ctx).lastHiddenState;
  }

  /** LM head: dense, exact GELU, LayerNorm, then the tied decoder `x Eᵀ + bias`. */
  private predictTokens(hidden: tf.Tensor): tf.Tensor {
    const p = (name: string) => this.params.get(`${LONGFORMER_LM_HEAD_PREFIX}${name}`);
    const dense = activation(linear(hidden, p("dense.weight"), p("dense.bias")), "gelu");
    const normed = layerNorm(dense, p("layer_norm.weight"), p("layer_norm.bias"), this.config.layer_norm_eps);
    return linear(normed, this.params.get(WORD_EMBEDDINGS), p("bias"));
  }
}
