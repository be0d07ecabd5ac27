/**
 * Masked-language-modelling data: Hugging Face's DataCollatorForLanguageModeling masking (each non-special,
 * non-padding token is selected with probability 15%; a selected token becomes `<mask>` 80% of the time, a
 * random id 10%, stays itself 10%; labels keep the original id at selected positions and -100 elsewhere),
 * drawn from a seeded generator so that the mask of example i in epoch e is a pure function of
 * (seed, epoch, i) — reproducible, independent of batch composition, and resumable mid-epoch.
 */
import * as tf from "@tensorflow/tfjs";
import { deriveSeed, SeededRng } from "../random";
import { requirePositiveInteger } from "../util";

/** Label of positions that do not count in the masked-LM loss. */
const IGNORE_INDEX = -100;

/** How tokens are selected and replaced (HF's DataCollatorForLanguageModeling parameters). */
export interface LanguageModelingMaskOptions {
  /** Id of `<mask>`. */
  maskTokenId: number;
  /** Random replacements are drawn uniformly from [0, vocabSize) (HF: `len(tokenizer)`). */
  vocabSize: number;
  /** Ids never selected (HF's special-tokens mask: `<s>`, `</s>`, `<pad>`, `<unk>`, `<mask>`, ...). */
  specialTokenIds: readonly number[];
  /** Share of tokens selected (default 0.15, HF's `mlm_probability`). */
  mlmProbability?: number;
  /** Share of selected tokens replaced by `<mask>` (default 0.8). */
  maskReplaceProbability?: number;
  /** Share of selected tokens replaced by a random id (default 0.1); the rest keep their id. */
  randomReplaceProbability?: number;
}

/** The collator's output for one sequence. */
export interface MaskedSequence {
  inputIds: Int32Array;
  /** Original id at selected positions, -100 elsewhere. */
  labels: Int32Array;
}

function checkProbability(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0 && value <= 1)) throw new Error(`masked language modelling: ${name} must be in [0, 1], got ${value}`);
  return value;
}

/**
 * Masks one sequence as HF's `torch_mask_tokens` does. `realLength` (default: all) marks where padding
 * starts; padding and special tokens are never selected.
 */
export function maskTokensForLanguageModeling(
  ids: ArrayLike<number>,
  rng: SeededRng,
  options: LanguageModelingMaskOptions,
  realLength = ids.length,
): MaskedSequence {
  const selectP = checkProbability("mlmProbability", options.mlmProbability ?? 0.15);
  const maskP = checkProbability("maskReplaceProbability", options.maskReplaceProbability ?? 0.8);
  const randomP = checkProbability("randomReplaceProbability", options.randomReplaceProbability ?? 0.1);
  if (maskP + randomP > 1 + 1e-12)
    throw new Error(`masked language modelling: maskReplaceProbability + randomReplaceProbability = ${maskP + randomP} exceeds 1`);
  requirePositiveInteger(options.vocabSize, "masked language modelling: vocabSize");
  const special = new Set(options.specialTokenIds);
  const inputIds = Int32Array.from(ids);
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  // HF draws "random" among the tokens not replaced by <mask>: P(random | not mask) = randomP / (1 - maskP).
  const randomGivenNotMask = maskP >= 1 ? 0 : randomP / (1 - maskP);
  for (let i = 0; i < realLength; i++) {
    if (special.has(inputIds[i]) || rng.next() >= selectP) continue;
    labels[i] = inputIds[i];
    if (rng.next() < maskP) inputIds[i] = options.maskTokenId;
    else if (rng.next() < randomGivenNotMask) inputIds[i] = Math.floor(rng.next() * options.vocabSize);
  }
  return { inputIds, labels };
}

/** One masked-LM micro-batch: int32 `[B, L]` ids (masked), attention mask (1 = real token) and labels (-100 = ignored). */
export interface MaskedLanguageModelingBatch {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  labels: tf.Tensor2D;
}

/** Options of `maskedLanguageModelingData`. */
export interface MaskedLanguageModelingDataOptions extends LanguageModelingMaskOptions {
  /** Seed of the masks (mixed with the epoch and the example index). */
  seed: number;
  /** Pad id (default 1, RoBERTa's `<pad>`). */
  padId?: number;
  /** Pad each batch to a multiple of this (the attention window); default 1. */
  padToMultipleOf?: number;
}

/**
 * Training data for masked-LM pretraining (the Trainer's `TrainingData`): a seeded shuffle per epoch, and a
 * collate that pads dynamically and masks each example with a generator seeded by (seed, epoch, example).
 * The epoch is the one the Trainer last asked the sampler for (it always does before collating that epoch).
 */
export class MaskedLanguageModelingData {
  readonly size: number;
  readonly sampler: {
    /** The micro-batches (example indices) of one epoch, in a seeded order. */
    epochBatches(epoch: number, seed: number, microBatchSize: number): number[][];
  };
  private epoch = 0;
  private readonly padId: number;
  private readonly multiple: number;

  constructor(
    private readonly sequences: readonly Int32Array[],
    private readonly options: MaskedLanguageModelingDataOptions,
  ) {
    this.size = sequences.length;
    this.padId = options.padId ?? 1;
    this.multiple = options.padToMultipleOf ?? 1;
    requirePositiveInteger(this.multiple, "maskedLanguageModelingData: padToMultipleOf");
    sequences.forEach((ids, i) => {
      if (ids.length === 0) throw new Error(`maskedLanguageModelingData: sequence ${i} is empty`);
    });
    this.sampler = {
      epochBatches: (epoch, seed, batchSize) => {
        requirePositiveInteger(batchSize, "batch size");
        this.epoch = epoch;
        const order = new SeededRng(deriveSeed(seed, epoch)).shuffle(Array.from({ length: this.size }, (_, i) => i));
        return Array.from({ length: Math.ceil(order.length / batchSize) }, (_, b) => order.slice(b * batchSize, (b + 1) * batchSize));
      },
    };
  }

  /** The masked form of example `index` in `epoch` (what `collate` puts in its row, before padding). */
  maskedExample(index: number, epoch: number): MaskedSequence {
    const rng = new SeededRng(deriveSeed(deriveSeed(this.options.seed, epoch), index));
    return maskTokensForLanguageModeling(this.sequences[index], rng, this.options);
  }

  /** Pads and masks the given examples (masks of the current epoch). */
  collate(indices: number[]): MaskedLanguageModelingBatch {
    if (indices.length === 0) throw new Error("collate: empty batch");
    for (const i of indices) if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new Error(`collate: index ${i} is outside 0..${this.size - 1}`);
    const longest = Math.max(...indices.map((i) => this.sequences[i].length));
    const width = Math.ceil(longest / this.multiple) * this.multiple;
    const ids = new Int32Array(indices.length * width).fill(this.padId);
    const mask = new Int32Array(indices.length * width);
    const labels = new Int32Array(indices.length * width).fill(IGNORE_INDEX);
    indices.forEach((example, row) => {
      const masked = this.maskedExample(example, this.epoch);
      ids.set(masked.inputIds, row * width);
      labels.set(masked.labels, row * width);
      mask.fill(1, row * width, row * width + masked.inputIds.length);
    });
    const shape: [number, number] = [indices.length, width];
    return { inputIds: tf.tensor2d(ids, shape, "int32"), attentionMask: tf.tensor2d(mask, shape, "int32"), labels: tf.tensor2d(labels, shape, "int32") };
  }

  /** Frees a batch's tensors. */
  dispose(batch: MaskedLanguageModelingBatch): void {
    tf.dispose([batch.inputIds, batch.attentionMask, batch.labels]);
  }
}

/** Masked-LM training data over token-id sequences; see `MaskedLanguageModelingData`. */
export function maskedLanguageModelingData(sequences: readonly Int32Array[], options: MaskedLanguageModelingDataOptions): MaskedLanguageModelingData {
  return new MaskedLanguageModelingData(sequences, options);
}
