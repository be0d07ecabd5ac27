/**
 * From token ids to training batches: seeded, epoch-aware order (optionally bucketed by length), dynamic
 * padding per batch to a multiple of the attention window, int32 tensors, resumable positions. Fits the
 * Trainer's `TrainingData` / `BatchSampler` contract structurally.
 */
import * as tf from "@tensorflow/tfjs";
import { seededRng } from "./random";
import { requirePositiveInteger } from "../util";

/** Token ids and a class id per document. */
export interface EncodedClassificationData {
  inputIds: Int32Array[];
  labels: number[];
}

/** Anything that turns text into ids (e.g. `BpeTokenizer`). */
export interface TokenIdEncoder {
  /** The token ids of `text`, at most `maxLength` of them. */
  encode(text: string, options?: { maxLength?: number }): { ids: ArrayLike<number> };
}

/** One micro-batch: int32 `[B, L]` ids and mask (1 = real token), int32 `[B]` labels. */
export interface ClassificationBatch {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  labels: tf.Tensor1D;
}

/** Options of `sequenceClassificationData`. */
export interface SequenceClassificationOptions {
  /** Pad each batch to a multiple of this (the attention window); default 1. */
  padToMultipleOf?: number;
  /** Longer sequences keep their first maxLength - 1 tokens and their last token (`</s>`). */
  maxLength?: number;
  /** Pad id (default 1, RoBERTa's `<pad>`). */
  padId?: number;
  /** Group similar lengths into batches to cut padding (default false). */
  bucketByLength?: boolean;
  /** With bucketing: sort within chunks of this many batches before shuffling batch order (default 50). */
  bucketChunkBatches?: number;
}

/** Where an iteration stands: resume with `batches(epoch, { startBatch: index })`. */
export interface BatchPosition {
  epoch: number;
  /** Index into `sampler.epochBatches(epoch, seed, batchSize)`. */
  index: number;
}

/** Real and padding token counts of a set of batches. */
export interface PaddingStats {
  realTokens: number;
  paddedTokens: number;
  /** paddedTokens / (realTokens + paddedTokens). */
  padShare: number;
}

/** Encodes documents with a tokenizer (optionally truncating) into `EncodedClassificationData`. */
export function encodeForClassification(
  tokenizer: TokenIdEncoder,
  texts: string[],
  labels: number[],
  options: { maxLength?: number } = {},
): EncodedClassificationData {
  if (texts.length !== labels.length) throw new Error(`encodeForClassification: ${texts.length} texts but ${labels.length} labels`);
  return { inputIds: texts.map((t) => Int32Array.from(tokenizer.encode(t, options).ids)), labels: labels.slice() };
}

/** Training data for sequence classification; see `sequenceClassificationData`. */
export class SequenceClassificationData {
  readonly size: number;
  readonly sampler: {
    /** The micro-batches (example indices) of one epoch: examples of similar length together, in a seeded order. */
    epochBatches(epoch: number, seed: number, microBatchSize: number): number[][];
  };
  private readonly lengths: Int32Array;
  private readonly multiple: number;
  private readonly padId: number;

  constructor(
    private readonly encoded: EncodedClassificationData,
    private readonly options: SequenceClassificationOptions = {},
  ) {
    const { inputIds, labels } = encoded;
    if (inputIds.length !== labels.length) throw new Error(`sequenceClassificationData: ${inputIds.length} sequences but ${labels.length} labels`);
    this.multiple = options.padToMultipleOf ?? 1;
    requirePositiveInteger(this.multiple, "padToMultipleOf");
    if (options.maxLength !== undefined && (!Number.isInteger(options.maxLength) || options.maxLength < 2)) {
      throw new Error(`maxLength must be an integer >= 2, got ${options.maxLength}`);
    }
    this.padId = options.padId ?? 1;
    this.size = inputIds.length;
    this.lengths = Int32Array.from(inputIds, (ids, i) => {
      if (ids.length === 0) throw new Error(`sequenceClassificationData: sequence ${i} is empty`);
      if (!Number.isInteger(labels[i]) || labels[i] < 0) throw new Error(`sequenceClassificationData: label ${labels[i]} of sequence ${i} is not a class id`);
      return Math.min(ids.length, options.maxLength ?? Infinity);
    });
    this.sampler = { epochBatches: (epoch, seed, batchSize) => this.epochBatches(epoch, seed, batchSize) };
  }

  /** Token count (after truncation) of example `i`. */
  length(i: number): number {
    return this.lengths[i];
  }

  /** Padded width of a batch: its longest sequence rounded up to the multiple. */
  paddedWidth(indices: number[]): number {
    let longest = 0;
    for (const i of indices) longest = Math.max(longest, this.lengths[i]);
    return Math.ceil(longest / this.multiple) * this.multiple;
  }

  /** Builds int32 tensors for the given examples, padded to `paddedWidth(indices)`. */
  collate(indices: number[]): ClassificationBatch {
    if (indices.length === 0) throw new Error("collate: empty batch");
    for (const i of indices) if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new Error(`collate: index ${i} is outside 0..${this.size - 1}`);
    const width = this.paddedWidth(indices);
    const ids = new Int32Array(indices.length * width).fill(this.padId);
    const mask = new Int32Array(indices.length * width);
    indices.forEach((example, row) => {
      const source = this.encoded.inputIds[example];
      const n = this.lengths[example];
      const offset = row * width;
      if (n < source.length) {
        ids.set(source.subarray(0, n - 1), offset);
        ids[offset + n - 1] = source[source.length - 1];
      } else {
        ids.set(source, offset);
      }
      mask.fill(1, offset, offset + n);
    });
    return {
      inputIds: tf.tensor2d(ids, [indices.length, width], "int32"),
      attentionMask: tf.tensor2d(mask, [indices.length, width], "int32"),
      labels: tf.tensor1d(
        Int32Array.from(indices, (i) => this.encoded.labels[i]),
        "int32",
      ),
    };
  }

  /** Frees a batch's tensors. */
  dispose(batch: ClassificationBatch): void {
    tf.dispose([batch.inputIds, batch.attentionMask, batch.labels]);
  }

  /**
   * The micro-batches of one epoch, a pure function of (epoch, seed, batchSize): a seeded shuffle cut into
   * batches; with bucketing, chunks of `bucketChunkBatches` batches are sorted by length first and the
   * batch order is shuffled afterwards.
   */
  epochBatches(epoch: number, seed: number, batchSize: number): number[][] {
    requirePositiveInteger(batchSize, "batch size");
    const rng = seededRng(seed, epoch);
    const order = rng.shuffle(Array.from({ length: this.size }, (_, i) => i));
    const cut = (xs: number[]) => Array.from({ length: Math.ceil(xs.length / batchSize) }, (_, b) => xs.slice(b * batchSize, (b + 1) * batchSize));
    if (!this.options.bucketByLength) return cut(order);
    const chunkSize = batchSize * (this.options.bucketChunkBatches ?? 50);
    const batches: number[][] = [];
    for (let start = 0; start < order.length; start += chunkSize) {
      // Stable sort: equal lengths keep their shuffled order (an index tie-break would group examples by their
      // position in the file, e.g. all ham then all spam among the e-mails truncated to maxLength).
      const chunk = order.slice(start, start + chunkSize).sort((a, b) => this.lengths[b] - this.lengths[a]);
      batches.push(...cut(chunk));
    }
    return rng.shuffle(batches);
  }

  /** Real vs padding tokens if these batches are collated (no tensors are built). */
  paddingStats(batches: number[][]): PaddingStats {
    let real = 0;
    let total = 0;
    for (const batch of batches) {
      total += batch.length * this.paddedWidth(batch);
      for (const i of batch) real += this.lengths[i];
    }
    return { realTokens: real, paddedTokens: total - real, padShare: total ? (total - real) / total : 0 };
  }

  /**
   * Iterates one epoch's batches from `startBatch` (to resume from a `BatchPosition`). Each batch's tensors are
   * disposed when the loop moves on or ends; keep what you need with `tf.clone`/`tf.keep`.
   */
  *batches(
    epoch: number,
    options: { seed?: number; batchSize: number; startBatch?: number },
  ): Generator<{ batch: ClassificationBatch; indices: number[]; position: BatchPosition }> {
    const plan = this.epochBatches(epoch, options.seed ?? 0, options.batchSize);
    for (let index = options.startBatch ?? 0; index < plan.length; index++) {
      const batch = this.collate(plan[index]);
      try {
        yield { batch, indices: plan[index], position: { epoch, index } };
      } finally {
        this.dispose(batch);
      }
    }
  }
}

/**
 * Training data for sequence classification (the Trainer's `TrainingData<ClassificationBatch>`): `collate`
 * pads dynamically to a multiple of `padToMultipleOf`, `sampler` gives a seeded (optionally length-bucketed)
 * order that is deterministic in (epoch, seed).
 */
export function sequenceClassificationData(encoded: EncodedClassificationData, options: SequenceClassificationOptions = {}): SequenceClassificationData {
  return new SequenceClassificationData(encoded, options);
}
