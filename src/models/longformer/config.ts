/**
 * Longformer configuration with Hugging Face `config.json` field names (LongformerConfig).
 * Validation rejects impossible settings with an error naming the field; `toJSON()` writes a
 * config.json that `transformers.LongformerConfig.from_pretrained` loads.
 */
import { requirePositiveInteger } from "../../util";

/** Activation functions the feed-forward block supports (HF `hidden_act` names). */
export type LongformerActivation = "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "relu" | "tanh" | "silu" | "swish";

const ACTIVATIONS: readonly string[] = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "tanh", "silu", "swish"];

/** The fields of HF's LongformerConfig that the TypeScript model uses (HF names, HF defaults). */
export interface LongformerConfigFields {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: LongformerActivation;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  /** One window for every layer, or one per layer; each even (HF attends window/2 tokens to each side). */
  attention_window: number | number[];
  pad_token_id: number;
  bos_token_id: number;
  eos_token_id: number;
  sep_token_id: number;
  /** Label names by class index (the number of entries is `num_labels`). */
  id2label: Record<string, string>;
}

const DEFAULTS: LongformerConfigFields = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  attention_window: 512,
  pad_token_id: 1,
  bos_token_id: 0,
  eos_token_id: 2,
  sep_token_id: 2,
  id2label: { "0": "LABEL_0", "1": "LABEL_1" },
};

/** Keys a config.json must set: without them the defaults would build a model of another shape. */
export const LONGFORMER_ARCHITECTURE_KEYS: readonly (keyof LongformerConfigFields)[] = [
  "vocab_size",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "intermediate_size",
  "max_position_embeddings",
  "type_vocab_size",
];

/** Options accepted by `new LongformerConfig(...)`: HF fields plus `num_labels` (as in HF's constructor). */
export type LongformerConfigInit = Partial<LongformerConfigFields> & { num_labels?: number; [extra: string]: unknown };

function defaultLabels(n: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[String(i)] = `LABEL_${i}`;
  return out;
}

/** A validated Longformer configuration. Unknown config.json keys are kept and written back by `toJSON()`. */
export class LongformerConfig implements LongformerConfigFields {
  vocab_size!: number;
  hidden_size!: number;
  num_hidden_layers!: number;
  num_attention_heads!: number;
  intermediate_size!: number;
  hidden_act!: LongformerActivation;
  hidden_dropout_prob!: number;
  attention_probs_dropout_prob!: number;
  max_position_embeddings!: number;
  type_vocab_size!: number;
  initializer_range!: number;
  layer_norm_eps!: number;
  attention_window!: number | number[];
  pad_token_id!: number;
  bos_token_id!: number;
  eos_token_id!: number;
  sep_token_id!: number;
  id2label!: Record<string, string>;
  /** Keys of the source config.json that this class does not interpret (kept for `toJSON`). */
  readonly extra: Record<string, unknown>;

  /** Builds and validates a config; `source` names the file in error messages. */
  constructor(init: LongformerConfigInit = {}, source = "LongformerConfig") {
    const { num_labels, ...rest } = init;
    const extra: Record<string, unknown> = {};
    const fields = { ...DEFAULTS } as Record<string, unknown>;
    for (const [key, value] of Object.entries(rest)) {
      if (key in DEFAULTS) fields[key] = value;
      else if (key !== "label2id") extra[key] = value;
    }
    if (num_labels !== undefined) {
      requirePositiveInteger(num_labels, `${source}: num_labels`);
      if (init.id2label === undefined) fields.id2label = defaultLabels(num_labels);
      else if (Object.keys(init.id2label).length !== num_labels) {
        throw new Error(`${source}: num_labels = ${num_labels} but id2label has ${Object.keys(init.id2label).length} entries`);
      }
    }
    Object.assign(this, fields);
    this.extra = extra;
    this.validate(source);
  }

  /**
   * Parses the text of an HF config.json; `source` (the file path) appears in every error. The keys that set the
   * architecture (`LONGFORMER_ARCHITECTURE_KEYS`) must be present; a missing attention_window takes HF's default 512 and
   * says so through `warn` (default: stderr).
   */
  static fromJSON(text: string, source = "config.json", warn: (message: string) => void = (m) => console.warn(m)): LongformerConfig {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${source}: expected a JSON object`);
    const modelType = (raw as Record<string, unknown>).model_type;
    if (modelType !== undefined && modelType !== "longformer") {
      throw new Error(`${source}: model_type is ${JSON.stringify(modelType)}, expected "longformer"`);
    }
    const missing = LONGFORMER_ARCHITECTURE_KEYS.filter((key) => !(key in raw));
    if (missing.length > 0) {
      throw new Error(
        `${source}: missing ${missing.join(", ")}; these keys set the model's architecture and weight shapes (Hugging Face writes them in every config.json)`,
      );
    }
    if (!("attention_window" in raw)) warn(`${source}: no attention_window; using Hugging Face's default ${DEFAULTS.attention_window}`);
    return new LongformerConfig(raw as LongformerConfigInit, source);
  }

  /** Number of classes of the classification head (HF derives it from id2label). */
  get num_labels(): number {
    return Object.keys(this.id2label).length;
  }

  /** Size of one attention head. */
  get headDim(): number {
    return this.hidden_size / this.num_attention_heads;
  }

  /** The full attention window (even) of `layer`. */
  windowOf(layer: number): number {
    return Array.isArray(this.attention_window) ? this.attention_window[layer] : this.attention_window;
  }

  /** The largest window over all layers: HF pads sequences to a multiple of it. */
  get maxWindow(): number {
    let max = 0;
    for (let i = 0; i < this.num_hidden_layers; i++) max = Math.max(max, this.windowOf(i));
    return max;
  }

  private validate(source: string): void {
    const positiveInt = (name: keyof LongformerConfigFields, min = 1): void => {
      const v = (this as unknown as Record<string, unknown>)[name];
      if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
        throw new Error(`${source}: ${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
      }
    };
    for (const name of [
      "vocab_size",
      "hidden_size",
      "num_hidden_layers",
      "num_attention_heads",
      "intermediate_size",
      "max_position_embeddings",
      "type_vocab_size",
    ] as const) {
      positiveInt(name);
    }
    for (const name of ["pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id"] as const) positiveInt(name, 0);
    if (this.pad_token_id >= this.vocab_size) {
      throw new Error(`${source}: pad_token_id = ${this.pad_token_id} must be < vocab_size = ${this.vocab_size}`);
    }
    if (this.pad_token_id >= this.max_position_embeddings) {
      throw new Error(
        `${source}: pad_token_id = ${this.pad_token_id} is also the padding position id and must be < max_position_embeddings = ${this.max_position_embeddings}`,
      );
    }
    if (this.hidden_size % this.num_attention_heads !== 0) {
      throw new Error(`${source}: hidden_size = ${this.hidden_size} is not divisible by num_attention_heads = ${this.num_attention_heads}`);
    }
    const probability = (name: keyof LongformerConfigFields, value: unknown): void => {
      if (typeof value !== "number" || !(value >= 0 && value < 1)) {
        throw new Error(`${source}: ${name} must be a probability in [0, 1), got ${JSON.stringify(value)}`);
      }
    };
    probability("hidden_dropout_prob", this.hidden_dropout_prob);
    probability("attention_probs_dropout_prob", this.attention_probs_dropout_prob);
    if (typeof this.layer_norm_eps !== "number" || !(this.layer_norm_eps > 0)) {
      throw new Error(`${source}: layer_norm_eps must be a positive number, got ${JSON.stringify(this.layer_norm_eps)}`);
    }
    if (typeof this.initializer_range !== "number" || !(this.initializer_range >= 0)) {
      throw new Error(`${source}: initializer_range must be a number >= 0, got ${JSON.stringify(this.initializer_range)}`);
    }
    if (!ACTIVATIONS.includes(this.hidden_act)) {
      throw new Error(`${source}: hidden_act ${JSON.stringify(this.hidden_act)} is not supported; expected one of ${ACTIVATIONS.join(", ")}`);
    }
    const windows = this.attention_window;
    if (Array.isArray(windows)) {
      if (windows.length !== this.num_hidden_layers) {
        throw new Error(`${source}: attention_window has ${windows.length} entries but num_hidden_layers = ${this.num_hidden_layers}`);
      }
      windows.forEach((w, i) => checkWindow(w, `attention_window[${i}]`));
    } else checkWindow(windows, "attention_window");
    function checkWindow(w: unknown, field: string): void {
      if (typeof w !== "number" || !Number.isInteger(w) || w < 2 || w % 2 !== 0) {
        throw new Error(`${source}: ${field} must be a positive even integer, got ${JSON.stringify(w)}`);
      }
    }
    if (typeof this.id2label !== "object" || this.id2label === null || Object.keys(this.id2label).length < 1) {
      throw new Error(`${source}: id2label must be an object with at least one label`);
    }
    Object.keys(this.id2label).forEach((key, i) => {
      if (key !== String(i)) throw new Error(`${source}: id2label keys must be "0".."${this.num_labels - 1}", got ${JSON.stringify(key)}`);
    });
  }

  /** The config as an HF config.json object (model_type, architectures, id2label/label2id included). */
  toJSON(): Record<string, unknown> {
    return this.toHFConfig("LongformerForSequenceClassification");
  }

  /** The config.json object of a model class (`architectures: [architecture]`), keys sorted. */
  toHFConfig(architecture: string): Record<string, unknown> {
    const label2id: Record<string, number> = {};
    for (const [id, label] of Object.entries(this.id2label)) label2id[label] = Number(id);
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(DEFAULTS)) fields[key] = (this as unknown as Record<string, unknown>)[key];
    const out: Record<string, unknown> = {
      ...this.extra,
      ...fields,
      label2id,
      model_type: "longformer",
      architectures: [architecture],
    };
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(out).sort()) sorted[key] = out[key];
    return sorted;
  }
}
