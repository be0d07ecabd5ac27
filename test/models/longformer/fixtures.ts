/** Loading the HF golden fixtures (test/fixtures/longformer-hf/<case>) for the Longformer tests. */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { readSafetensorsFile, toFloat32Array } from "../../../src/io";
import type { LongformerBatch } from "../../../src/models/longformer";
import { fixturePath } from "../../helpers";

/** The five golden cases. */
export const LONGFORMER_CASES = ["a_default_global", "b_padding_unaligned", "c_extra_global", "d_per_layer_windows", "e_combined"];

/** inputs.json of a case. */
export interface FixtureInputs {
  input_ids: number[][];
  attention_mask: number[][] | null;
  global_attention_mask: number[][] | null;
  labels: number[];
}

/** expected.json of a case (the fields the tests use). */
export interface FixtureExpected {
  loss: number;
  logits: number[][];
  last_hidden_state: number[][][];
  derived: {
    effective_global_attention_mask: number[][];
    padding_len: number;
    padded_seq_len: number;
    padded_input_ids: number[][];
    merged_attention_mask_padded: number[][];
    position_ids_padded: number[][];
  };
}

/** Path of a case folder. */
export function caseDir(name: string): string {
  return fixturePath("longformer-hf", name);
}

/** Parsed inputs and expectations of a case. */
export function loadCase(name: string): { inputs: FixtureInputs; expected: FixtureExpected } {
  const dir = caseDir(name);
  return {
    inputs: JSON.parse(fs.readFileSync(path.join(dir, "inputs.json"), "utf-8")),
    expected: JSON.parse(fs.readFileSync(path.join(dir, "expected.json"), "utf-8")),
  };
}

/** Float tensors of a safetensors file of a case (grads / intermediates). */
export function loadFloatTensors(name: string, file: string): Map<string, { shape: number[]; data: Float32Array }> {
  const parsed = readSafetensorsFile(path.join(caseDir(name), file));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [key, entry] of parsed.tensors) out.set(key, { shape: entry.shape, data: toFloat32Array(entry, key) });
  return out;
}

/** The case inputs as int32 tensors (null masks stay absent, as in HF). */
export function batchOf(inputs: FixtureInputs): LongformerBatch {
  return {
    inputIds: tf.tensor2d(inputs.input_ids, undefined, "int32"),
    attentionMask: inputs.attention_mask ? tf.tensor2d(inputs.attention_mask, undefined, "int32") : null,
    globalAttentionMask: inputs.global_attention_mask ? tf.tensor2d(inputs.global_attention_mask, undefined, "int32") : null,
  };
}

/** Disposes the tensors of a batch. */
export function disposeBatch(batch: LongformerBatch): void {
  for (const t of [batch.inputIds, batch.attentionMask, batch.globalAttentionMask, batch.tokenTypeIds]) t?.dispose();
}

/** Largest |a - b| over two equally long arrays (throws on a length mismatch). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
