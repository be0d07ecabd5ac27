/**
 * Loading byte-level BPE tokenizers from Hugging Face files: `tokenizer.json` (optionally gzipped) or the
 * older `vocab.json` + `merges.txt` pair (+ optional `special_tokens_map.json` / `tokenizer_config.json`).
 * Every malformed input fails with the file name and the field or line that is wrong.
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { HubOptions, HubRepo, pretrainedFolder } from "../hub";
import { BpeTokenizer, BpeTokenizerConfig, TokenizerAddedToken } from "./bpeTokenizer";

/** Options shared by the loaders. */
export interface LoadTokenizerOptions {
  /** Override the file's add_prefix_space (HF's `LongformerTokenizer(add_prefix_space=True)`). */
  addPrefixSpace?: boolean;
  /** Longest input the model accepts (default: `model_max_length` of a `tokenizer_config.json` beside the file). */
  modelMaxLength?: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function readText(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`${file}: file not found`);
  const raw = fs.readFileSync(file);
  if (!file.endsWith(".gz")) return raw.toString("utf8");
  try {
    return zlib.gunzipSync(raw).toString("utf8");
  } catch (e) {
    throw new Error(`${file}: not a valid gzip file (${(e as Error).message})`);
  }
}

function readJson(file: string): unknown {
  const text = readText(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

function parseVocab(value: unknown, file: string, field: string): Map<string, number> {
  if (!isObject(value)) throw new Error(`${file}: ${field} must be an object mapping token -> id, got ${describe(value)}`);
  const vocab = new Map<string, number>();
  const owner = new Map<number, string>();
  for (const [token, id] of Object.entries(value)) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
      throw new Error(`${file}: ${field}[${JSON.stringify(token)}] is ${describe(id)}, expected a non-negative integer id`);
    }
    const other = owner.get(id);
    if (other !== undefined) throw new Error(`${file}: ${field} gives id ${id} to both ${JSON.stringify(other)} and ${JSON.stringify(token)}`);
    owner.set(id, token);
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw new Error(`${file}: ${field} is empty`);
  return vocab;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
}

function parseMerge(entry: unknown, file: string, where: string): [string, string] {
  if (typeof entry === "string") {
    const parts = entry.split(" ");
    if (parts.length === 2 && parts[0] && parts[1]) return [parts[0], parts[1]];
  } else if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === "string" && typeof entry[1] === "string") {
    return [entry[0], entry[1]];
  }
  throw new Error(`${file}: ${where} is ${describe(entry)}, expected "left right" or ["left", "right"]`);
}

function flag(obj: Json, key: string, file: string, where: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") throw new Error(`${file}: ${where}.${key} is ${describe(v)}, expected true or false`);
  return v;
}

function parseAddedTokens(value: unknown, file: string): TokenizerAddedToken[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${file}: added_tokens must be an array, got ${describe(value)}`);
  return value.map((t, i) => {
    const where = `added_tokens[${i}]`;
    if (!isObject(t)) throw new Error(`${file}: ${where} must be an object, got ${describe(t)}`);
    if (typeof t.id !== "number" || !Number.isInteger(t.id) || t.id < 0)
      throw new Error(`${file}: ${where}.id is ${describe(t.id)}, expected a non-negative integer`);
    if (typeof t.content !== "string" || t.content === "") throw new Error(`${file}: ${where}.content is ${describe(t.content)}, expected a non-empty string`);
    return {
      id: t.id,
      content: t.content,
      special: flag(t, "special", file, where, false),
      lstrip: flag(t, "lstrip", file, where, false),
      rstrip: flag(t, "rstrip", file, where, false),
    };
  });
}

function parseTemplateToken(value: unknown, file: string, where: string): [string, number] {
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && Number.isInteger(value[1])) {
    return [value[0], value[1] as number];
  }
  throw new Error(`${file}: ${where} is ${describe(value)}, expected ["token", id]`);
}

function componentType(root: Json, key: string, file: string): string | null {
  const c = root[key];
  if (c === undefined || c === null) return null;
  if (!isObject(c) || typeof c.type !== "string") throw new Error(`${file}: ${key} must be null or an object with a "type", got ${describe(c)}`);
  return c.type;
}

function modelMaxLengthBeside(file: string): number | undefined {
  const configFile = path.join(path.dirname(file), "tokenizer_config.json");
  if (!fs.existsSync(configFile)) return undefined;
  const config = readJson(configFile);
  const v = isObject(config) ? config.model_max_length : undefined;
  return typeof v === "number" && Number.isInteger(v) && v > 0 && v < 1e9 ? v : undefined;
}

/** Builds a tokenizer from a parsed `tokenizer.json` object (`source` names it in errors). */
export function tokenizerFromJson(root: unknown, source: string, options: LoadTokenizerOptions = {}): BpeTokenizer {
  if (!isObject(root)) throw new Error(`${source}: expected a JSON object at the top level, got ${describe(root)}`);
  const model = root.model;
  if (!isObject(model)) throw new Error(`${source}: missing "model" object`);
  if (model.type !== undefined && model.type !== "BPE") throw new Error(`${source}: model.type is ${describe(model.type)}; only "BPE" is supported`);
  const vocab = parseVocab(model.vocab, source, "model.vocab");
  if (!Array.isArray(model.merges)) throw new Error(`${source}: model.merges must be an array, got ${describe(model.merges)}`);
  const merges = model.merges.map((m, i) => parseMerge(m, source, `model.merges[${i}]`));
  for (const key of ["continuing_subword_prefix", "end_of_word_suffix"]) {
    if (model[key]) throw new Error(`${source}: model.${key} is ${describe(model[key])}; byte-level BPE expects null`);
  }
  if (componentType(root, "normalizer", source) !== null)
    throw new Error(`${source}: normalizer ${describe(root.normalizer)} is not supported (byte-level BPE uses none)`);
  const pre = componentType(root, "pre_tokenizer", source);
  if (pre !== "ByteLevel") throw new Error(`${source}: pre_tokenizer.type is ${describe(pre)}; only "ByteLevel" is supported`);
  const decoder = componentType(root, "decoder", source);
  if (decoder !== null && decoder !== "ByteLevel") throw new Error(`${source}: decoder.type is ${describe(decoder)}; only "ByteLevel" is supported`);
  const post = componentType(root, "post_processor", source);
  const config: BpeTokenizerConfig = {
    vocab,
    merges,
    addedTokens: parseAddedTokens(root.added_tokens, source),
    addPrefixSpace: options.addPrefixSpace ?? flag(root.pre_tokenizer as Json, "add_prefix_space", source, "pre_tokenizer", false),
    unkToken: typeof model.unk_token === "string" ? model.unk_token : undefined,
    modelMaxLength: options.modelMaxLength,
    source,
    mergeLocation: (i) => `model.merges[${i}]`,
  };
  if (post === "RobertaProcessing") {
    const p = root.post_processor as Json;
    config.cls = parseTemplateToken(p.cls, source, "post_processor.cls");
    config.sep = parseTemplateToken(p.sep, source, "post_processor.sep");
  } else if (post !== null && post !== "ByteLevel") {
    throw new Error(`${source}: post_processor.type is ${describe(post)}; supported: "RobertaProcessing", "ByteLevel" or null`);
  }
  const added = new Set(config.addedTokens.map((t) => t.content));
  if (added.has("<pad>")) config.padToken = "<pad>";
  if (added.has("<mask>")) config.maskToken = "<mask>";
  return new BpeTokenizer(config);
}

/** Special tokens as written in `special_tokens_map.json` (string or `{ content, lstrip, rstrip }`). */
function readSpecialTokens(folder: string, vocab: Map<string, number>, vocabFile: string): Map<string, TokenizerAddedToken> {
  const mapFile = path.join(folder, "special_tokens_map.json");
  const roles: Json = fs.existsSync(mapFile)
    ? (() => {
        const m = readJson(mapFile);
        if (!isObject(m)) throw new Error(`${mapFile}: expected a JSON object`);
        return m;
      })()
    : {
        bos_token: "<s>",
        eos_token: "</s>",
        unk_token: "<unk>",
        sep_token: "</s>",
        pad_token: "<pad>",
        cls_token: "<s>",
        mask_token: { content: "<mask>", lstrip: true },
      };
  const byRole = new Map<string, TokenizerAddedToken>();
  for (const [role, spec] of Object.entries(roles)) {
    if (role === "additional_special_tokens") continue;
    const content = typeof spec === "string" ? spec : isObject(spec) && typeof spec.content === "string" ? spec.content : undefined;
    if (content === undefined) throw new Error(`${mapFile}: ${role} is ${describe(spec)}, expected a string or { "content": ... }`);
    const id = vocab.get(content);
    if (id === undefined) throw new Error(`${vocabFile}: special token ${JSON.stringify(content)} (${role}) is not in the vocabulary`);
    const strip = (key: string) => isObject(spec) && spec[key] === true;
    byRole.set(role, { id, content, special: true, lstrip: strip("lstrip"), rstrip: strip("rstrip") });
  }
  return byRole;
}

/** Loads the older `vocab.json` + `merges.txt` pair (RoBERTa layout: `<s> A </s>` template). */
export function loadVocabMerges(vocabFile: string, mergesFile: string, options: LoadTokenizerOptions = {}): BpeTokenizer {
  const vocab = parseVocab(readJson(vocabFile), vocabFile, "vocabulary");
  const lines = readText(mergesFile).split(/\r?\n/);
  const merges: Array<[string, string]> = [];
  const lineOf: number[] = [];
  lines.forEach((line, i) => {
    if ((i === 0 && line.startsWith("#version")) || line === "") return;
    merges.push(parseMerge(line, mergesFile, `line ${i + 1}`));
    lineOf.push(i + 1);
  });
  const specials = readSpecialTokens(path.dirname(vocabFile), vocab, vocabFile);
  const addedTokens = [...new Map([...specials.values()].map((t) => [t.content, t])).values()];
  const pick = (role: string): [string, number] | undefined => {
    const t = specials.get(role);
    return t ? [t.content, t.id] : undefined;
  };
  const configFile = path.join(path.dirname(vocabFile), "tokenizer_config.json");
  const config = fs.existsSync(configFile) ? readJson(configFile) : {};
  const prefix = isObject(config) && typeof config.add_prefix_space === "boolean" ? config.add_prefix_space : false;
  return new BpeTokenizer({
    vocab,
    merges,
    addedTokens,
    addPrefixSpace: options.addPrefixSpace ?? prefix,
    unkToken: specials.get("unk_token")?.content,
    cls: pick("cls_token") ?? pick("bos_token"),
    sep: pick("sep_token") ?? pick("eos_token"),
    padToken: specials.get("pad_token")?.content,
    maskToken: specials.get("mask_token")?.content,
    modelMaxLength: options.modelMaxLength ?? modelMaxLengthBeside(vocabFile),
    source: mergesFile,
    mergeLocation: (i) => `line ${lineOf[i]}`,
  });
}

/**
 * Loads a byte-level BPE tokenizer from a `tokenizer.json` / `tokenizer.json.gz` file, a `vocab.json`
 * (with `merges.txt` beside it), or a folder holding either.
 */
export function loadTokenizer(location: string, options: LoadTokenizerOptions = {}): BpeTokenizer {
  if (!fs.existsSync(location)) throw new Error(`${location}: no such file or folder`);
  if (fs.statSync(location).isDirectory()) {
    for (const name of ["tokenizer.json", "tokenizer.json.gz"]) {
      if (fs.existsSync(path.join(location, name))) return loadTokenizer(path.join(location, name), options);
    }
    const vocabFile = path.join(location, "vocab.json");
    if (fs.existsSync(vocabFile)) return loadVocabMerges(vocabFile, path.join(location, "merges.txt"), options);
    throw new Error(`${location}: folder has neither tokenizer.json(.gz) nor vocab.json + merges.txt`);
  }
  if (path.basename(location) === "vocab.json") return loadVocabMerges(location, path.join(path.dirname(location), "merges.txt"), options);
  return tokenizerFromJson(readJson(location), location, {
    ...options,
    modelMaxLength: options.modelMaxLength ?? modelMaxLengthBeside(location),
  });
}

/**
 * Loads the tokenizer of a pretrained model from a local folder or a Hugging Face Hub repo id (downloaded once
 * into the cache shared with Python's huggingface_hub): tokenizer.json, else vocab.json + merges.txt, with
 * tokenizer_config.json and special_tokens_map.json when the repo has them.
 */
export async function tokenizerFromPretrained(location: string, options: LoadTokenizerOptions & HubOptions = {}): Promise<BpeTokenizer> {
  return loadTokenizer(await pretrainedFolder(location, options, fetchTokenizerFiles), options);
}

/** Fetches a tokenizer's files from a Hub repo: tokenizer.json, else vocab.json + merges.txt, and the optional configs. */
export async function fetchTokenizerFiles(repo: HubRepo): Promise<void> {
  for (const optional of ["tokenizer_config.json", "special_tokens_map.json"]) await repo.fileIfPresent(optional);
  if (await repo.fileIfPresent("tokenizer.json")) return;
  await repo.file("vocab.json");
  await repo.file("merges.txt");
}
