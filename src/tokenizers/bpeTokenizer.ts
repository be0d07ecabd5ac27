/**
 * Byte-level BPE tokenizer with RoBERTa special-token handling, matching Hugging Face's slow
 * `RobertaTokenizer` / `LongformerTokenizer` id for id (pre-tokenization, merges, literal special tokens,
 * `lstrip` tokens, add_prefix_space, pairs, decode with clean-up).
 */
import * as zlib from "zlib";
import { writeFileAtomic } from "../io";
import { bytesToSymbols, preTokenize, PY_SPACE, symbolsToText } from "./byteLevel";

/** A token that is matched in raw text before BPE (e.g. `<s>`, `<mask>`). */
export interface TokenizerAddedToken {
  id: number;
  content: string;
  /** Special tokens are dropped by `decode(..., { skipSpecialTokens: true })`. */
  special: boolean;
  /** Absorb the whitespace on its left (RoBERTa's `<mask>`). */
  lstrip: boolean;
  /** Absorb the whitespace on its right. */
  rstrip: boolean;
}

/** Everything a byte-level BPE tokenizer is made of. */
export interface BpeTokenizerConfig {
  vocab: Map<string, number>;
  /** Merge rules in priority order (rank 0 first). */
  merges: Array<[string, string]>;
  addedTokens: TokenizerAddedToken[];
  addPrefixSpace: boolean;
  unkToken?: string;
  /** RoBERTa template tokens: single `<s> A </s>`, pair `<s> A </s></s> B </s>`; absent: nothing is added. */
  cls?: [string, number];
  sep?: [string, number];
  padToken?: string;
  maskToken?: string;
  modelMaxLength?: number;
  /** Where the config came from, for error messages. */
  source: string;
  /** Describes where merge `index` sits in the source file (e.g. "line 7"). */
  mergeLocation?: (index: number) => string;
}

/** Result of encoding one text or pair. */
export interface TokenizerEncoding {
  ids: number[];
  tokens: string[];
  attentionMask: number[];
}

/** Options of `encode`. */
export interface TokenizerEncodeOptions {
  /** Second text of a pair. */
  pair?: string;
  /** Add `<s>` / `</s>` (default true). */
  addSpecialTokens?: boolean;
  /** Truncate (longest sequence first for pairs) so the result, special tokens included, fits. */
  maxLength?: number;
}

/** Options of `encodeBatch`. */
export interface TokenizerBatchOptions {
  addSpecialTokens?: boolean;
  maxLength?: number;
  /** "longest" pads to the longest row, "max_length" to maxLength, "none" leaves rows ragged (default "longest"). */
  padding?: "longest" | "max_length" | "none";
  /** Round the padded length up to a multiple of this (e.g. the attention window). */
  padToMultipleOf?: number;
}

/** Padded batch of encodings (row-major nested arrays; `attentionMask` is 1 on real tokens). */
export interface TokenizerBatch {
  inputIds: number[][];
  attentionMask: number[][];
}

/** Options of `decode`. */
export interface TokenizerDecodeOptions {
  skipSpecialTokens?: boolean;
  /** HF's `clean_up_tokenization_spaces` (default true, as in the slow tokenizer of the fixtures' revision). */
  cleanUpTokenizationSpaces?: boolean;
}

const CACHE_LIMIT = 200_000;
const LEADING_SPACE = new RegExp(`^[${PY_SPACE}]+`, "u");
const TRAILING_SPACE = new RegExp(`[${PY_SPACE}]+$`, "u");
const STARTS_WITH_SPACE = new RegExp(`^[${PY_SPACE}]`, "u");

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** HF's `clean_up_tokenization`: removes the spaces a word-level detokenizer would have left. */
function cleanUpTokenization(text: string): string {
  const rules: Array<[string, string]> = [
    [" .", "."],
    [" ?", "?"],
    [" !", "!"],
    [" ,", ","],
    [" ' ", "'"],
    [" n't", "n't"],
    [" 'm", "'m"],
    [" 's", "'s"],
    [" 've", "'ve"],
    [" 're", "'re"],
  ];
  return rules.reduce((s, [from, to]) => s.split(from).join(to), text);
}

/** A byte-level BPE tokenizer (GPT-2 / RoBERTa / Longformer family). Build it with `loadTokenizer` or `trainBpeTokenizer`. */
export class BpeTokenizer {
  readonly config: BpeTokenizerConfig;
  private readonly idToToken: string[] = [];
  /** mergeRanks[left].get(right) = rank of the merge (left, right); small-integer keys keep lookups fast. */
  private readonly mergeRanks: Array<Map<number, number> | undefined> = [];
  private readonly mergeResult: number[] = [];
  private readonly addedByContent = new Map<string, TokenizerAddedToken>();
  private readonly specialIds = new Set<number>();
  private readonly addedPattern: RegExp | null;
  private readonly cache = new Map<string, number[]>();
  private readonly unkId: number | undefined;

  constructor(config: BpeTokenizerConfig) {
    this.config = config;
    for (const [token, id] of config.vocab) this.idToToken[id] = token;
    config.merges.forEach(([a, b], rank) => {
      const where = config.mergeLocation ? config.mergeLocation(rank) : `merge ${rank + 1}`;
      const left = config.vocab.get(a);
      const right = config.vocab.get(b);
      const merged = config.vocab.get(a + b);
      for (const [part, id] of [
        [a, left],
        [b, right],
        [a + b, merged],
      ] as const) {
        if (id === undefined) {
          throw new Error(`${config.source}: ${where} ("${a} ${b}") uses ${JSON.stringify(part)}, which is not in the vocabulary`);
        }
      }
      const ranks = (this.mergeRanks[left!] ??= new Map());
      if (!ranks.has(right!)) ranks.set(right!, rank);
      this.mergeResult[rank] = merged!;
    });
    for (const t of config.addedTokens) {
      this.addedByContent.set(t.content, t);
      this.idToToken[t.id] = t.content;
      if (t.special) this.specialIds.add(t.id);
    }
    const contents = [...this.addedByContent.keys()].sort((x, y) => y.length - x.length || (x < y ? -1 : 1));
    this.addedPattern = contents.length ? new RegExp(contents.map(escapeRegExp).join("|"), "g") : null;
    this.unkId = config.unkToken === undefined ? undefined : this.tokenToId(config.unkToken);
  }

  /** Number of ids (largest id + 1, added tokens included). */
  get vocabSize(): number {
    return this.idToToken.length;
  }

  /** Id of the padding token; throws if the tokenizer has none. */
  get padId(): number {
    return this.requireSpecial(this.config.padToken, "pad");
  }

  /** Id of `<s>` / CLS (the classification token at position 0). */
  get clsId(): number {
    return this.requireSpecial(this.config.cls?.[0], "cls");
  }

  /** Id of `</s>` / SEP. */
  get sepId(): number {
    return this.requireSpecial(this.config.sep?.[0], "sep");
  }

  /** Id of the mask token (for masked-LM pretraining). */
  get maskId(): number {
    return this.requireSpecial(this.config.maskToken, "mask");
  }

  /** Ids of every special token (`<s>`, `</s>`, `<pad>`, `<unk>`, `<mask>`, ...: HF's `all_special_ids`), ascending. */
  get specialTokenIds(): number[] {
    return [...this.specialIds].sort((a, b) => a - b);
  }

  /** Id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.config.vocab.get(token);
  }

  /** Token string of an id, or undefined. */
  idToTokenString(id: number): string | undefined {
    return this.idToToken[id];
  }

  /** Encodes one text (or a pair) into ids with special tokens, optionally truncated. */
  encode(text: string, options: TokenizerEncodeOptions = {}): TokenizerEncoding {
    const addSpecial = options.addSpecialTokens ?? true;
    let first = this.tokenizeToIds(text);
    let second = options.pair === undefined ? undefined : this.tokenizeToIds(options.pair);
    if (options.maxLength !== undefined) {
      const budget = options.maxLength - (addSpecial ? this.numSpecialTokens(second !== undefined) : 0);
      if (budget < 0) throw new Error(`maxLength ${options.maxLength} is smaller than the special tokens alone`);
      [first, second] = truncateLongestFirst(first, second, budget);
    }
    const ids = addSpecial ? this.withSpecialTokens(first, second) : second ? first.concat(second) : first;
    return { ids, tokens: ids.map((id) => this.idToToken[id]), attentionMask: ids.map(() => 1) };
  }

  /** Encodes many texts (or pairs) and pads them into a rectangle with an attention mask. */
  encodeBatch(texts: Array<string | [string, string]>, options: TokenizerBatchOptions = {}): TokenizerBatch {
    const { maxLength, padToMultipleOf = 1 } = options;
    const padding = options.padding ?? "longest";
    const rows = texts.map((t) =>
      typeof t === "string"
        ? this.encode(t, { addSpecialTokens: options.addSpecialTokens, maxLength }).ids
        : this.encode(t[0], { pair: t[1], addSpecialTokens: options.addSpecialTokens, maxLength }).ids,
    );
    if (padding === "none") return { inputIds: rows, attentionMask: rows.map((r) => r.map(() => 1)) };
    if (padding === "max_length" && maxLength === undefined) throw new Error(`padding "max_length" needs maxLength`);
    const longest = padding === "max_length" ? maxLength! : Math.max(0, ...rows.map((r) => r.length));
    const width = Math.ceil(longest / padToMultipleOf) * padToMultipleOf;
    const pad = this.padId;
    return {
      inputIds: rows.map((r) => r.concat(new Array(width - r.length).fill(pad))),
      attentionMask: rows.map((r) => r.map(() => 1).concat(new Array(width - r.length).fill(0))),
    };
  }

  /** Turns ids back into text (byte-level, so `decode(encode(x, no specials)) === x` for any string). */
  decode(ids: ArrayLike<number>, options: TokenizerDecodeOptions = {}): string {
    let symbols = "";
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (options.skipSpecialTokens && this.specialIds.has(id)) continue;
      const token = this.idToToken[id];
      if (token === undefined) throw new Error(`decode: id ${id} (position ${i}) is not in the vocabulary of ${this.config.source}`);
      symbols += token;
    }
    const text = symbolsToText(symbols);
    return (options.cleanUpTokenizationSpaces ?? true) ? cleanUpTokenization(text) : text;
  }

  /** Token strings of a text without special tokens (e.g. `["Hello", "Ġworld"]`). */
  tokenize(text: string): string[] {
    return this.tokenizeToIds(text).map((id) => this.idToToken[id]);
  }

  /** Number of special tokens the template adds to one text (2) or a pair (4). */
  numSpecialTokens(pair: boolean): number {
    if (!this.config.cls || !this.config.sep) return 0;
    return pair ? 4 : 2;
  }

  /** The tokenizer in Hugging Face's `tokenizer.json` layout (readable by HF `tokenizers` and `loadTokenizer`). */
  toJSON(): Record<string, unknown> {
    const c = this.config;
    const byteLevel = { type: "ByteLevel", add_prefix_space: c.addPrefixSpace, trim_offsets: true, use_regex: true };
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: c.addedTokens.map((t) => ({
        id: t.id,
        content: t.content,
        single_word: false,
        lstrip: t.lstrip,
        rstrip: t.rstrip,
        normalized: false,
        special: t.special,
      })),
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: c.cls && c.sep ? { type: "RobertaProcessing", sep: c.sep, cls: c.cls, trim_offsets: true, add_prefix_space: c.addPrefixSpace } : null,
      decoder: byteLevel,
      model: {
        type: "BPE",
        dropout: null,
        unk_token: c.unkToken ?? null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        vocab: Object.fromEntries(c.vocab),
        merges: c.merges.map(([a, b]) => `${a} ${b}`),
      },
    };
  }

  /** Writes `toJSON()` to a file (gzipped when the name ends in `.gz`). */
  save(file: string): void {
    const text = JSON.stringify(this.toJSON());
    writeFileAtomic(file, file.endsWith(".gz") ? zlib.gzipSync(text) : text);
  }

  private requireSpecial(token: string | undefined, role: string): number {
    const id = token === undefined ? undefined : this.tokenToId(token);
    if (id === undefined) throw new Error(`${this.config.source} defines no ${role} token`);
    return id;
  }

  private withSpecialTokens(first: number[], second: number[] | undefined): number[] {
    const { cls, sep } = this.config;
    if (!cls || !sep) return second ? first.concat(second) : first;
    const single = [cls[1], ...first, sep[1]];
    return second ? [...single, sep[1], ...second, sep[1]] : single;
  }

  /** Ids of a text without template tokens: literal added tokens first, then byte-level BPE of the rest. */
  private tokenizeToIds(input: string): number[] {
    const text = this.config.addPrefixSpace && input.length > 0 && !STARTS_WITH_SPACE.test(input) ? " " + input : input;
    const pieces: Array<string | TokenizerAddedToken> = [];
    let last = 0;
    if (this.addedPattern) {
      for (const m of text.matchAll(this.addedPattern)) {
        pieces.push(text.slice(last, m.index), this.addedByContent.get(m[0])!);
        last = m.index + m[0].length;
      }
    }
    pieces.push(text.slice(last));
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (typeof piece === "string") continue;
      if (piece.lstrip && i > 0) pieces[i - 1] = (pieces[i - 1] as string).replace(TRAILING_SPACE, "");
      if (piece.rstrip && i + 1 < pieces.length) pieces[i + 1] = (pieces[i + 1] as string).replace(LEADING_SPACE, "");
    }
    const ids: number[] = [];
    for (const piece of pieces) {
      if (typeof piece !== "string") ids.push(piece.id);
      else for (const word of preTokenize(piece)) for (const id of this.bpe(word)) ids.push(id);
    }
    return ids;
  }

  /** BPE of one pre-token: repeatedly merge every occurrence of the lowest-ranked adjacent pair. */
  private bpe(piece: string): number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    let symbols: number[] = [];
    for (const ch of bytesToSymbols(piece)) {
      const id = this.config.vocab.get(ch) ?? this.unkId;
      if (id === undefined) throw new Error(`${this.config.source}: byte symbol ${JSON.stringify(ch)} is not in the vocabulary and there is no unk token`);
      symbols.push(id);
    }
    while (symbols.length > 1) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.mergeRanks[symbols[i]]?.get(symbols[i + 1]);
        if (rank !== undefined && rank < bestRank) bestRank = rank;
      }
      if (bestRank === Infinity) break;
      const merged: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && this.mergeRanks[symbols[i]]?.get(symbols[i + 1]) === bestRank) {
          merged.push(this.mergeResult[bestRank]);
          i++;
        } else {
          merged.push(symbols[i]);
        }
      }
      symbols = merged;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, symbols);
    return symbols;
  }
}

/** HF's "longest_first" truncation: drop tokens from the end of whichever sequence is longer. */
function truncateLongestFirst(first: number[], second: number[] | undefined, budget: number): [number[], number[] | undefined] {
  if (second === undefined) return [first.slice(0, budget), undefined];
  let a = first.length;
  let b = second.length;
  while (a + b > budget) {
    if (a > b) a--;
    else b--;
  }
  return [first.slice(0, a), second.slice(0, b)];
}
