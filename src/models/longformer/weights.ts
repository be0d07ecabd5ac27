/**
 * Longformer parameters under Hugging Face names and PyTorch layouts: the list of parameters of
 * LongformerForSequenceClassification, HF's from-scratch initialisation (seeded), checkpoint
 * mapping with one error listing every problem, and conversion back to safetensors tensors.
 */
import type { SafetensorsFile, SafetensorsInput } from "../../io";
import { toFloat32Array } from "../../io";
import type { LongformerConfig } from "./config";
import { SeededRng } from "../../random";

/** How HF's `_init_weights` initialises a parameter. */
type InitKind = "normal" | "normal-padding-row" | "zeros" | "ones";

/** One parameter: HF name, PyTorch shape and initialisation. */
export interface LongformerParameterSpec {
  name: string;
  shape: number[];
  init: InitKind;
}

/** Parameter values by HF name (row-major float32, PyTorch layout). */
export type LongformerWeights = Map<string, { shape: number[]; data: Float32Array }>;

/** Prefix of the classification head's parameters. */
export const LONGFORMER_CLASSIFIER_PREFIX = "classifier.";

/** Every parameter of LongformerForSequenceClassification in HF's state_dict order. */
export function longformerParameterSpecs(config: LongformerConfig): LongformerParameterSpec[] {
  const H = config.hidden_size;
  const specs: LongformerParameterSpec[] = [];
  const linear = (name: string, out: number, inp: number) => {
    specs.push({ name: `${name}.weight`, shape: [out, inp], init: "normal" });
    specs.push({ name: `${name}.bias`, shape: [out], init: "zeros" });
  };
  const layerNorm = (name: string) => {
    specs.push({ name: `${name}.weight`, shape: [H], init: "ones" });
    specs.push({ name: `${name}.bias`, shape: [H], init: "zeros" });
  };
  const e = "longformer.embeddings.";
  specs.push({ name: `${e}word_embeddings.weight`, shape: [config.vocab_size, H], init: "normal-padding-row" });
  specs.push({ name: `${e}position_embeddings.weight`, shape: [config.max_position_embeddings, H], init: "normal-padding-row" });
  specs.push({ name: `${e}token_type_embeddings.weight`, shape: [config.type_vocab_size, H], init: "normal" });
  layerNorm(`${e}LayerNorm`);
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const l = `longformer.encoder.layer.${i}.`;
    for (const proj of ["query", "key", "value", "query_global", "key_global", "value_global"]) linear(`${l}attention.self.${proj}`, H, H);
    linear(`${l}attention.output.dense`, H, H);
    layerNorm(`${l}attention.output.LayerNorm`);
    linear(`${l}intermediate.dense`, config.intermediate_size, H);
    linear(`${l}output.dense`, H, config.intermediate_size);
    layerNorm(`${l}output.LayerNorm`);
  }
  linear(`${LONGFORMER_CLASSIFIER_PREFIX}dense`, H, H);
  linear(`${LONGFORMER_CLASSIFIER_PREFIX}out_proj`, config.num_labels, H);
  return specs;
}

/**
 * HF's `_init_weights` for the given parameters: Linear/Embedding weights ~ N(0, initializer_range),
 * biases 0, LayerNorm weight 1 / bias 0, padding rows of word/position embeddings 0.
 */
export function initLongformerWeights(config: LongformerConfig, seed: number, specs = longformerParameterSpecs(config)): LongformerWeights {
  const rng = new SeededRng(seed);
  const out: LongformerWeights = new Map();
  for (const { name, shape, init } of specs) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (init === "ones") data.fill(1);
    if (init === "normal" || init === "normal-padding-row") {
      for (let i = 0; i < data.length; i++) data[i] = rng.nextGaussian() * config.initializer_range;
    }
    if (init === "normal-padding-row") data.fill(0, config.pad_token_id * shape[1], (config.pad_token_id + 1) * shape[1]);
    out.set(name, { shape, data });
  }
  return out;
}

/** Options for mapping a checkpoint onto the model. */
export interface LongformerLoadOptions {
  /** Initialise `classifier.*` (HF init, `seed`) when the checkpoint has no classification head. */
  initClassifierHead?: boolean;
  /** Seed of that initialisation (default 0). */
  seed?: number;
}

/** Checkpoint entries that HF itself ignores when loading a sequence classifier. */
const IGNORED = [/^(longformer\.)?pooler\./, /^lm_head\./, /(^|\.)embeddings\.position_ids$/];

/**
 * Maps a safetensors checkpoint (HF names; `longformer.` prefix optional as in a bare LongformerModel)
 * to the model's parameters, converting F16/BF16/F64 to F32. Missing, unexpected and wrong-shape
 * entries are reported together in one error naming `source`.
 */
export function longformerWeightsFromCheckpoint(
  config: LongformerConfig,
  file: SafetensorsFile,
  source: string,
  options: LongformerLoadOptions = {},
): LongformerWeights {
  const specs = longformerParameterSpecs(config);
  const names = [...file.tensors.keys()];
  const bare = !names.some((n) => n.startsWith("longformer.")) && names.some((n) => n.startsWith("embeddings.") || n.startsWith("encoder."));
  const entries = new Map<string, string>(); // model name -> checkpoint name
  const unexpected: string[] = [];
  for (const name of names) {
    if (IGNORED.some((re) => re.test(name))) continue;
    const modelName = bare ? `longformer.${name}` : name;
    if (specs.some((s) => s.name === modelName)) entries.set(modelName, name);
    else unexpected.push(name);
  }
  const missing = specs.filter((s) => !entries.has(s.name));
  const headMissing = missing.filter((s) => s.name.startsWith(LONGFORMER_CLASSIFIER_PREFIX));
  const headless = headMissing.length === specs.filter((s) => s.name.startsWith(LONGFORMER_CLASSIFIER_PREFIX)).length;
  const initHead = headless && options.initClassifierHead === true;
  const problems: string[] = [];
  const out: LongformerWeights = new Map();
  for (const spec of specs) {
    const checkpointName = entries.get(spec.name);
    if (checkpointName === undefined) continue;
    const entry = file.tensors.get(checkpointName)!;
    if (entry.shape.length !== spec.shape.length || entry.shape.some((d, i) => d !== spec.shape[i])) {
      problems.push(`wrong shape: ${checkpointName} is [${entry.shape}], the config needs [${spec.shape}]`);
      continue;
    }
    let data: Float32Array;
    try {
      data = toFloat32Array(entry, checkpointName);
    } catch (e) {
      problems.push(`unsupported dtype: ${(e as Error).message}`);
      continue;
    }
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) problems.push(`not finite: ${checkpointName} holds ${data[bad]} at index ${bad}`);
    else out.set(spec.name, { shape: spec.shape, data });
  }
  for (const spec of missing) {
    if (initHead && spec.name.startsWith(LONGFORMER_CLASSIFIER_PREFIX)) continue;
    problems.push(`missing: ${spec.name} [${spec.shape}]`);
  }
  for (const name of unexpected) problems.push(`unexpected: ${name} [${file.tensors.get(name)!.shape}]`);
  if (problems.length > 0) {
    const hint = headless && !initHead
      ? "\nThe checkpoint has no classification head (e.g. a base or masked-LM Longformer); pass { initClassifierHead: true } to initialise classifier.* as HF does."
      : "";
    throw new Error(`${source}: ${problems.length} weight problem(s) for LongformerForSequenceClassification:\n  ${problems.join("\n  ")}${hint}`);
  }
  if (initHead) {
    const headSpecs = specs.filter((s) => s.name.startsWith(LONGFORMER_CLASSIFIER_PREFIX));
    for (const [name, value] of initLongformerWeights(config, options.seed ?? 0, headSpecs)) out.set(name, value);
  }
  const ordered: LongformerWeights = new Map();
  for (const spec of specs) ordered.set(spec.name, out.get(spec.name)!);
  return ordered;
}

/** The weights as safetensors inputs (F32, HF names, PyTorch layout). */
export function longformerWeightsToSafetensors(weights: LongformerWeights): Record<string, SafetensorsInput> {
  const out: Record<string, SafetensorsInput> = {};
  for (const [name, { shape, data }] of weights) out[name] = { dtype: "F32", shape, data };
  return out;
}
