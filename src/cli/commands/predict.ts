/**
 * `tsml predict --model DIR_OR_ID --inputs FILE.json`: runs a LongformerForSequenceClassification checkpoint
 * (config.json + model.safetensors or pytorch_model.bin, from a folder or the Hugging Face Hub) on token ids and prints `{"logits": [[...]]}` on stdout. The input
 * file holds `input_ids` and optionally `attention_mask` / `global_attention_mask` (null = not given).
 */
import * as fs from "fs";
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../../backend";
import { LongformerBatch, LongformerForSequenceClassification } from "../../models/longformer";
import { parseArgs } from "../args";
import type { Command } from "../command";

const USAGE = `usage: tsml predict --model DIR_OR_ID --inputs FILE.json [--revision REV]

  --model DIR_OR_ID folder with config.json and model.safetensors or pytorch_model.bin (Hugging Face layout),
                    or a Hub repo id (org/name), downloaded once into the huggingface_hub cache (HF_HOME,
                    HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE=1 are honoured)
  --revision REV    branch, tag or commit of a Hub repo (default main)
  --inputs FILE     JSON with input_ids [[...]], optional attention_mask and global_attention_mask
                    (null or absent = not given; the classifier then puts global attention on token 0)

Prints {"logits": [[...]]} on stdout; the compute backend is reported on stderr.`;

function intMatrix(value: unknown, field: string, file: string, shape?: [number, number]): number[][] {
  const ok = Array.isArray(value) && value.length > 0 && value.every((row) => Array.isArray(row) && row.length > 0 && row.every((v) => Number.isInteger(v)));
  if (!ok) throw new Error(`${file}: ${field} must be a non-empty list of non-empty lists of integers`);
  const rows = value as number[][];
  const width = rows[0].length;
  if (rows.some((r) => r.length !== width)) throw new Error(`${file}: ${field} rows must all have the same length`);
  if (shape && (rows.length !== shape[0] || width !== shape[1])) {
    throw new Error(`${file}: ${field} is ${rows.length} x ${width} but input_ids is ${shape[0]} x ${shape[1]}`);
  }
  return rows;
}

/** Reads the fixture-style inputs file into int32 tensors. */
function readInputs(file: string): LongformerBatch {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf-8"));
  } catch (e) {
    throw new Error(`${file}: cannot read inputs (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null) throw new Error(`${file}: expected a JSON object with input_ids`);
  const obj = raw as Record<string, unknown>;
  const ids = intMatrix(obj.input_ids, "input_ids", file);
  const shape: [number, number] = [ids.length, ids[0].length];
  const optional = (field: string) =>
    obj[field] === null || obj[field] === undefined ? null : tf.tensor2d(intMatrix(obj[field], field, file, shape), shape, "int32");
  return {
    inputIds: tf.tensor2d(ids, shape, "int32"),
    attentionMask: optional("attention_mask"),
    globalAttentionMask: optional("global_attention_mask"),
  };
}

/** The `predict` subcommand. */
export const command: Command = {
  summary: "run a Longformer classifier checkpoint on token ids and print the logits as JSON",
  run: async (argv) => {
    const { options } = parseArgs(argv, { model: "string", inputs: "string", revision: "string", help: "boolean" });
    if (options.help) {
      console.log(USAGE);
      return 0;
    }
    if (typeof options.model !== "string" || typeof options.inputs !== "string") {
      console.error(`tsml predict: --model and --inputs are required\n\n${USAGE}`);
      return 2;
    }
    const info = await initBackend();
    console.error(describeBackend(info));
    const revision = typeof options.revision === "string" ? options.revision : undefined;
    const model = await LongformerForSequenceClassification.fromPretrained(options.model, { revision });
    const batch = readInputs(options.inputs);
    const logits = model.forward(batch).arraySync();
    const row = logits.findIndex((r) => r.some((v) => !Number.isFinite(v)));
    if (row >= 0)
      throw new Error(
        `${options.model}: the logits of input ${row} are not finite (${JSON.stringify(logits[row])}); the model's weights or inputs hold NaN or overflow`,
      );
    process.stdout.write(JSON.stringify({ logits }) + "\n");
    return 0;
  },
};
