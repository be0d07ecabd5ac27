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

/** Adds a PyTorch Linear `name` ([out, in] weight, [out] bias) to `specs`. */
function linearSpecs(specs: LongformerParameterSpec[], name: string, out: number, inp: number): void {
  specs.push({ name: `${name}.weight`, shape: [out, inp], init: "normal" });
  specs.push({ name: `${name}.bias`, shape: [out], init: "zeros" });
}

/** Adds a LayerNorm `name` of width `width` to `specs`. */
function layerNormSpecs(specs: LongformerParameterSpec[], name: string, width: number): void {
  specs.push({ name: `${name}.weight`, shape: [width], init: "ones" });
  specs.push({ name: `${name}.bias`, shape: [width], init: "zeros" });
}

/** The parameters of LongformerModel without pooler (`longformer.*`), in HF's state_dict order. */
export function longformerEncoderParameterSpecs(config: LongformerConfig): LongformerParameterSpec[] {
  const H = config.hidden_size;
  const specs: LongformerParameterSpec[] = [];
  const e = "longformer.embeddings.";
  specs.push({ name: `${e}word_embeddings.weight`, shape: [config.vocab_size, H], init: "normal-padding-row" });
  specs.push({ name: `${e}position_embeddings.weight`, shape: [config.max_position_embeddings, H], init: "normal-padding-row" });
  specs.push({ name: `${e}token_type_embeddings.weight`, shape: [config.type_vocab_size, H], init: "normal" });
  layerNormSpecs(specs, `${e}LayerNorm`, H);
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const l = `longformer.encoder.layer.${i}.`;
    for (const proj of ["query", "key", "value", "query_global", "key_global", "value_global"]) linearSpecs(specs, `${l}attention.self.${proj}`, H, H);
    linearSpecs(specs, `${l}attention.output.dense`, H, H);
    layerNormSpecs(specs, `${l}attention.output.LayerNorm`, H);
    linearSpecs(specs, `${l}intermediate.dense`, config.intermediate_size, H);
    linearSpecs(specs, `${l}output.dense`, H, config.intermediate_size);
    layerNormSpecs(specs, `${l}output.LayerNorm`, H);
  }
  return specs;
}

/** Every parameter of LongformerForSequenceClassification in HF's state_dict order. */
export function longformerParameterSpecs(config: LongformerConfig): LongformerParameterSpec[] {
  const specs = longformerEncoderParameterSpecs(config);
  linearSpecs(specs, `${LONGFORMER_CLASSIFIER_PREFIX}dense`, config.hidden_size, config.hidden_size);
  linearSpecs(specs, `${LONGFORMER_CLASSIFIER_PREFIX}out_proj`, config.num_labels, config.hidden_size);
  return specs;
}

/** Prefix of the masked-LM head's parameters. */
export const LONGFORMER_LM_HEAD_PREFIX = "lm_head.";

/**
 * Every parameter of LongformerForMaskedLM: the encoder, then `lm_head.dense`, `lm_head.layer_norm` and
 * `lm_head.bias` (the decoder's bias). The decoder weight is tied to the word embeddings and has no entry.
 */
export function longformerMaskedLMParameterSpecs(config: LongformerConfig): LongformerParameterSpec[] {
  const specs = longformerEncoderParameterSpecs(config);
  linearSpecs(specs, `${LONGFORMER_LM_HEAD_PREFIX}dense`, config.hidden_size, config.hidden_size);
  layerNormSpecs(specs, `${LONGFORMER_LM_HEAD_PREFIX}layer_norm`, config.hidden_size);
  specs.push({ name: `${LONGFORMER_LM_HEAD_PREFIX}bias`, shape: [config.vocab_size], init: "zeros" });
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

/** How a checkpoint maps onto one model class's parameters (see `mapCheckpointWeights`). */
export interface LongformerCheckpointMapping {
  /** The model class named in errors, e.g. "LongformerForMaskedLM". */
  modelName: string;
  /** Checkpoint entries skipped silently (HF's `_keys_to_ignore_on_load_*`). */
  ignored: RegExp[];
  /** Checkpoint name -> model name for entries stored under another name (tied parameters). */
  aliases?: Record<string, string>;
  /** Parameters under this prefix are initialised (HF init, `seed`) when the checkpoint has none of them. */
  initialisablePrefix?: string;
  initialise?: boolean;
  seed?: number;
  /** Appended to the error when every parameter under `initialisablePrefix` is missing and `initialise` is off. */
  headlessHint?: string;
}

/**
 * Maps a safetensors checkpoint (HF names; `longformer.` prefix optional as in a bare LongformerModel)
 * onto `specs`, converting F16/BF16/F64 to F32. Missing, unexpected, wrong-shape and conflicting alias
 * entries are reported together in one error naming `source`. The result follows the order of `specs`.
 */
export function mapCheckpointWeights(
  config: LongformerConfig,
  specs: LongformerParameterSpec[],
  file: SafetensorsFile,
  source: string,
  mapping: LongformerCheckpointMapping,
): LongformerWeights {
  const known = new Set(specs.map((s) => s.name));
  const names = [...file.tensors.keys()];
  const bare = !names.some((n) => n.startsWith("longformer.")) && names.some((n) => n.startsWith("embeddings.") || n.startsWith("encoder."));
  const entries = new Map<string, string[]>(); // model name -> checkpoint names
  const unexpected: string[] = [];
  for (const name of names) {
    const aliased = mapping.aliases?.[name];
    if (aliased === undefined && mapping.ignored.some((re) => re.test(name))) continue;
    const modelName = aliased ?? (bare && (name.startsWith("embeddings.") || name.startsWith("encoder.")) ? `longformer.${name}` : name);
    if (known.has(modelName)) entries.set(modelName, [...(entries.get(modelName) ?? []), name]);
    else unexpected.push(name);
  }
  const prefix = mapping.initialisablePrefix;
  const missing = specs.filter((s) => !entries.has(s.name));
  const optional = prefix === undefined ? [] : specs.filter((s) => s.name.startsWith(prefix));
  const headless = optional.length > 0 && optional.every((s) => !entries.has(s.name));
  const initHead = headless && mapping.initialise === true;
  const problems: string[] = [];
  const out: LongformerWeights = new Map();
  for (const spec of specs) {
    const checkpointNames = entries.get(spec.name) ?? [];
    for (const checkpointName of checkpointNames) {
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
      if (bad >= 0) {
        problems.push(`not finite: ${checkpointName} holds ${data[bad]} at index ${bad}`);
        continue;
      }
      const previous = out.get(spec.name);
      if (previous && previous.data.some((x, i) => x !== data[i])) {
        problems.push(`conflict: ${checkpointNames.join(" and ")} are one tied parameter (${spec.name}) but hold different values`);
        continue;
      }
      out.set(spec.name, { shape: spec.shape, data });
    }
  }
  for (const spec of missing) {
    if (initHead && spec.name.startsWith(prefix!)) continue;
    problems.push(`missing: ${spec.name} [${spec.shape}]`);
  }
  for (const name of unexpected) problems.push(`unexpected: ${name} [${file.tensors.get(name)!.shape}]`);
  if (problems.length > 0) {
    const hint = headless && !initHead && mapping.headlessHint ? `\n${mapping.headlessHint}` : "";
    throw new Error(`${source}: ${problems.length} weight problem(s) for ${mapping.modelName}:\n  ${problems.join("\n  ")}${hint}`);
  }
  if (initHead) {
    for (const [name, value] of initLongformerWeights(config, mapping.seed ?? 0, optional)) out.set(name, value);
  }
  const ordered: LongformerWeights = new Map();
  for (const spec of specs) ordered.set(spec.name, out.get(spec.name)!);
  return ordered;
}

/**
 * Maps a safetensors checkpoint onto LongformerForSequenceClassification (pooler, lm_head and
 * position_ids are ignored as in HF); `initClassifierHead` initialises a missing head.
 */
export function longformerWeightsFromCheckpoint(
  config: LongformerConfig,
  file: SafetensorsFile,
  source: string,
  options: LongformerLoadOptions = {},
): LongformerWeights {
  return mapCheckpointWeights(config, longformerParameterSpecs(config), file, source, {
    modelName: "LongformerForSequenceClassification",
    ignored: IGNORED,
    initialisablePrefix: LONGFORMER_CLASSIFIER_PREFIX,
    initialise: options.initClassifierHead,
    seed: options.seed,
    headlessHint:
      "The checkpoint has no classification head (e.g. a base or masked-LM Longformer); pass { initClassifierHead: true } to initialise classifier.* as HF does.",
  });
}

/** The weights as safetensors inputs (F32, HF names, PyTorch layout). */
export function longformerWeightsToSafetensors(weights: LongformerWeights): Record<string, SafetensorsInput> {
  const out: Record<string, SafetensorsInput> = {};
  for (const [name, { shape, data }] of weights) out[name] = { dtype: "F32", shape, data };
  return out;
}
