/**
 * Everything Longformer derives from the integer inputs before any float math, exactly as HF does:
 * default global attention, the merged 0/1/2 mask, padding to a multiple of the window, RoBERTa
 * position ids, the global-token index lists (ragged counts padded to the batch maximum) and the
 * additive band masks of the sliding window. Computed once per batch in plain JavaScript.
 */
import * as tf from "@tensorflow/tfjs";
import type { LongformerConfig } from "./config";

/**
 * Score given to excluded attention entries. HF adds `torch.finfo(float32).min` (and -inf at the
 * sequence edges); any score this low gets exactly zero probability after the softmax as well, and
 * staying finite keeps fully excluded rows (which are zeroed or discarded) free of NaN gradients.
 */
export const LONGFORMER_EXCLUDED_SCORE = -1e9;

/** A batch as the Trainer passes it: int32 tensors `[batch, length]`; optional masks may be null. */
export interface LongformerBatch {
  inputIds: tf.Tensor;
  attentionMask?: tf.Tensor | null;
  globalAttentionMask?: tf.Tensor | null;
  tokenTypeIds?: tf.Tensor | null;
}

/** The merged, padded and indexed form of a batch (all arrays row-major over `[batch, paddedLength]`). */
export interface PreparedLongformerBatch {
  batchSize: number;
  /** Length of the caller's sequences. */
  length: number;
  /** Length after HF's internal padding to a multiple of the largest window. */
  paddedLength: number;
  inputIds: Int32Array;
  tokenTypeIds: Int32Array;
  positionIds: Int32Array;
  /** HF's merged mask: 0 = masked, 1 = local attention, 2 = global attention. */
  merged: Int32Array;
  /** Global attention mask actually used (after the default of token 0), `[batch, length]`. */
  effectiveGlobalMask: Int32Array;
  /** Largest number of global tokens in one row (0 = no global attention anywhere). */
  globalCount: number;
  /** For each (row, slot): flat index `row * paddedLength + position` of that global token (padded slots: the row's position 0). */
  globalTokenFlatIndex: Int32Array;
  /** For each (row, slot): 0 for a real global token, LONGFORMER_EXCLUDED_SCORE for a padding slot. */
  globalSlotBias: Float32Array;
  /** For each (row, position): flat index `row * globalCount + slot` of its global output (0-slot when not global). */
  positionGlobalSlot: Int32Array;
  /** For each (row, position): 1 when the token attends globally, else 0. */
  isGlobal: Float32Array;
  /** For each (row, position) as a key: LONGFORMER_EXCLUDED_SCORE when masked, else 0. */
  keyBias: Float32Array;
  /** For each (row, position) as a query: 0 when masked (its probabilities are zeroed), else 1. */
  queryKeep: Float32Array;
}

function readMatrix(t: tf.Tensor | null | undefined, name: string, shape?: [number, number]): Int32Array | null {
  if (t === null || t === undefined) return null;
  if (t.rank !== 2) throw new Error(`Longformer: ${name} must be a rank-2 [batch, length] tensor, got shape [${t.shape}]`);
  if (shape && (t.shape[0] !== shape[0] || t.shape[1] !== shape[1])) {
    throw new Error(`Longformer: ${name} has shape [${t.shape}] but input_ids has shape [${shape}]`);
  }
  const values = t.dataSync();
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v)) throw new Error(`Longformer: ${name} must hold integers, found ${v}`);
    out[i] = v;
  }
  return out;
}

/**
 * Applies HF's input semantics. `defaultGlobalFirstToken` is what LongformerForSequenceClassification
 * does when no global mask is passed: global attention on token 0.
 */
export function prepareLongformerBatch(config: LongformerConfig, batch: LongformerBatch, defaultGlobalFirstToken: boolean): PreparedLongformerBatch {
  const ids = readMatrix(batch.inputIds, "inputIds");
  if (!ids) throw new Error("Longformer: inputIds is required");
  const [batchSize, length] = batch.inputIds.shape as [number, number];
  if (batchSize < 1 || length < 1) throw new Error(`Longformer: inputIds is empty (shape [${batch.inputIds.shape}])`);
  const attention = readMatrix(batch.attentionMask, "attentionMask", [batchSize, length]);
  let global = readMatrix(batch.globalAttentionMask, "globalAttentionMask", [batchSize, length]);
  const types = readMatrix(batch.tokenTypeIds, "tokenTypeIds", [batchSize, length]);
  if (!global && defaultGlobalFirstToken) {
    global = new Int32Array(batchSize * length);
    for (let b = 0; b < batchSize; b++) global[b * length] = 1;
  }
  const window = config.maxWindow;
  const paddedLength = Math.ceil(length / window) * window;
  const n = paddedLength;
  const pad = config.pad_token_id;
  const inputIds = new Int32Array(batchSize * n).fill(pad);
  const tokenTypeIds = new Int32Array(batchSize * n);
  const merged = new Int32Array(batchSize * n);
  const positionIds = new Int32Array(batchSize * n);
  for (let b = 0; b < batchSize; b++) {
    let count = 0;
    for (let i = 0; i < n; i++) {
      const p = b * n + i;
      if (i < length) {
        const q = b * length + i;
        const id = ids[q];
        if (id < 0 || id >= config.vocab_size) {
          throw new Error(`Longformer: inputIds[${b}][${i}] = ${id} is outside the vocabulary [0, ${config.vocab_size})`);
        }
        inputIds[p] = id;
        const type = types ? types[q] : 0;
        if (type < 0 || type >= config.type_vocab_size) {
          throw new Error(`Longformer: tokenTypeIds[${b}][${i}] = ${type} is outside [0, type_vocab_size = ${config.type_vocab_size})`);
        }
        tokenTypeIds[p] = type;
        const a = attention ? attention[q] : 1;
        const g = global ? global[q] : 0;
        if ((a !== 0 && a !== 1) || (g !== 0 && g !== 1)) {
          throw new Error(`Longformer: attentionMask / globalAttentionMask at [${b}][${i}] must be 0 or 1, got ${a} / ${g}`);
        }
        merged[p] = a * (g + 1);
      }
      if (inputIds[p] !== pad) {
        count++;
        positionIds[p] = count + pad;
      } else positionIds[p] = pad;
    }
    if (count + pad >= config.max_position_embeddings) {
      throw new Error(
        `Longformer: row ${b} has ${count} non-padding tokens, which need position id ${count + pad} but max_position_embeddings = ${config.max_position_embeddings}`,
      );
    }
  }
  const globalsPerRow: number[][] = [];
  for (let b = 0; b < batchSize; b++) {
    const row: number[] = [];
    for (let i = 0; i < n; i++) if (merged[b * n + i] === 2) row.push(i);
    globalsPerRow.push(row);
  }
  const globalCount = Math.max(...globalsPerRow.map((r) => r.length));
  const globalTokenFlatIndex = new Int32Array(batchSize * globalCount);
  const globalSlotBias = new Float32Array(batchSize * globalCount);
  const positionGlobalSlot = new Int32Array(batchSize * n);
  const isGlobal = new Float32Array(batchSize * n);
  for (let b = 0; b < batchSize; b++) {
    for (let s = 0; s < globalCount; s++) {
      const position = globalsPerRow[b][s];
      globalTokenFlatIndex[b * globalCount + s] = b * n + (position ?? 0);
      globalSlotBias[b * globalCount + s] = position === undefined ? LONGFORMER_EXCLUDED_SCORE : 0;
      if (position !== undefined) {
        positionGlobalSlot[b * n + position] = b * globalCount + s;
        isGlobal[b * n + position] = 1;
      }
    }
  }
  const keyBias = new Float32Array(batchSize * n);
  const queryKeep = new Float32Array(batchSize * n);
  for (let i = 0; i < merged.length; i++) {
    keyBias[i] = merged[i] === 0 ? LONGFORMER_EXCLUDED_SCORE : 0;
    queryKeep[i] = merged[i] === 0 ? 0 : 1;
  }
  const effectiveGlobalMask = global ?? new Int32Array(batchSize * length);
  return {
    batchSize,
    length,
    paddedLength,
    inputIds,
    tokenTypeIds,
    positionIds,
    merged,
    effectiveGlobalMask,
    globalCount,
    globalTokenFlatIndex,
    globalSlotBias,
    positionGlobalSlot,
    isGlobal,
    keyBias,
    queryKeep,
  };
}

/**
 * Additive mask of the sliding band for a full window `window` (one side w = window / 2):
 * `[batch, 1, paddedLength, window + 1]`, entry k of query i refers to key i + k - w. A key is
 * excluded when it lies outside the sequence or is masked or global (global keys come back as
 * separate columns, so nothing is counted twice).
 */
export function longformerBandBias(prepared: PreparedLongformerBatch, window: number): Float32Array {
  const { batchSize, paddedLength: n, merged } = prepared;
  const w = window / 2;
  const width = window + 1;
  const out = new Float32Array(batchSize * n * width);
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < n; i++) {
      const base = (b * n + i) * width;
      for (let k = 0; k < width; k++) {
        const key = i + k - w;
        const local = key >= 0 && key < n && merged[b * n + key] === 1;
        out[base + k] = local ? 0 : LONGFORMER_EXCLUDED_SCORE;
      }
    }
  }
  return out;
}
