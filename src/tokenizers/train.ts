/**
 * Training a byte-level BPE vocabulary from a corpus, with incremental pair counts (only the words that
 * contain the merged pair are revisited) and a lazily-validated max-heap of pair counts.
 */
import { BpeTokenizer } from "./bpeTokenizer";
import { byteAlphabet, bytesToSymbols, preTokenize } from "./byteLevel";

/** Options of `trainBpeTokenizer`. */
export interface TrainBpeOptions {
  /** Final vocabulary size, special tokens and the 256 byte symbols included. */
  vocabSize: number;
  /** Stop merging when the best pair occurs fewer times than this (default 2). */
  minFrequency?: number;
  /** Special tokens, given ids 0, 1, ... in this order (default RoBERTa's `<s> <pad> </s> <unk> <mask>`). */
  specialTokens?: string[];
  addPrefixSpace?: boolean;
}

const DEFAULT_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"];

/** Max-heap of (count, pair) ordered by count, then by the smaller pair key (deterministic ties). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { count: number; key: number } {
    const top = { count: this.counts[0], key: this.keys[0] };
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.keys.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.keys.length && this.before(l, best)) best = l;
        if (r < this.keys.length && this.before(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }

  private before(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
}

/** Distinct byte-level words of the corpus with their frequencies. */
function countWords(texts: Iterable<string>): Map<string, number> {
  const pieces = new Map<string, number>();
  for (const text of texts) {
    for (const piece of preTokenize(text)) pieces.set(piece, (pieces.get(piece) ?? 0) + 1);
  }
  const words = new Map<string, number>();
  for (const [piece, n] of pieces) {
    const word = bytesToSymbols(piece);
    words.set(word, (words.get(word) ?? 0) + n);
  }
  return words;
}

/**
 * Trains a byte-level BPE tokenizer (HF layout: specials first, then the 256 byte symbols in code-point order,
 * then one token per merge). Each step merges the most frequent adjacent pair (ties: smallest left id, then
 * smallest right id). Deterministic for a given corpus and options.
 */
export function trainBpeTokenizer(texts: Iterable<string>, options: TrainBpeOptions): BpeTokenizer {
  const specials = options.specialTokens ?? DEFAULT_SPECIALS;
  const minFrequency = options.minFrequency ?? 2;
  const alphabet = byteAlphabet().sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < specials.length + alphabet.length) {
    throw new Error(
      `trainBpeTokenizer: vocabSize ${options.vocabSize} must be an integer >= ${specials.length + alphabet.length} (special tokens + 256 bytes)`,
    );
  }
  const tokens: string[] = [...specials, ...alphabet];
  const vocab = new Map(tokens.map((t, i) => [t, i] as [string, number]));
  if (vocab.size !== tokens.length) throw new Error(`trainBpeTokenizer: special tokens ${JSON.stringify(specials)} repeat or clash with byte symbols`);

  const wordCounts = countWords(texts);
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [word, n] of wordCounts) {
    words.push(Array.from(word, (ch) => vocab.get(ch)!));
    freqs.push(n);
  }

  // Pair (a, b) is the key a * shift + b; for vocabularies up to 2^15 keys stay small integers (fast Map keys).
  const shift = 2 ** Math.ceil(Math.log2(options.vocabSize));
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  let touched = new Map<number, number>();
  /** Adds `delta` occurrences of the pair (a, b) seen in word `w`; remembers the count before this merge step. */
  const change = (a: number, b: number, delta: number, w: number): void => {
    const key = a * shift + b;
    const old = pairCount.get(key) ?? 0;
    if (!touched.has(key)) touched.set(key, old);
    pairCount.set(key, old + delta);
    if (delta > 0) {
      let set = pairWords.get(key);
      if (!set) pairWords.set(key, (set = new Set()));
      set.add(w);
    }
  };
  words.forEach((syms, w) => {
    for (let i = 0; i + 1 < syms.length; i++) change(syms[i], syms[i + 1], freqs[w], w);
  });
  const heap = new PairHeap();
  for (const [key, count] of pairCount) heap.push(count, key);

  const merges: Array<[string, string]> = [];
  while (vocab.size < options.vocabSize && heap.size > 0) {
    const top = heap.pop();
    const current = pairCount.get(top.key) ?? 0;
    if (current !== top.count) {
      if (current > 0) heap.push(current, top.key);
      continue;
    }
    if (current < minFrequency) break;
    const left = Math.floor(top.key / shift);
    const right = top.key % shift;
    const text = tokens[left] + tokens[right];
    let merged = vocab.get(text);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(text);
      vocab.set(text, merged);
    }
    merges.push([tokens[left], tokens[right]]);
    touched = new Map();
    for (const w of pairWords.get(top.key) ?? []) {
      // Merge left to right in place; only the pairs next to each merge change.
      const syms = words[w];
      const f = freqs[w];
      let out = 0;
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === left && syms[i + 1] === right) {
          if (out > 0) {
            change(syms[out - 1], left, -f, w);
            change(syms[out - 1], merged, f, w);
          }
          if (i + 2 < syms.length) {
            change(right, syms[i + 2], -f, w);
            change(merged, syms[i + 2], f, w);
          }
          syms[out++] = merged;
          i++;
        } else {
          syms[out++] = syms[i];
        }
      }
      syms.length = out;
    }
    pairWords.delete(top.key);
    pairCount.delete(top.key);
    for (const [key, before] of touched) {
      const now = pairCount.get(key) ?? 0;
      if (now > before) heap.push(now, key);
      if (now === 0) pairCount.delete(key);
    }
  }

  return new BpeTokenizer({
    vocab,
    merges,
    addedTokens: specials.map((content, id) => ({ id, content, special: true, lstrip: content === "<mask>", rstrip: false })),
    addPrefixSpace: options.addPrefixSpace ?? false,
    unkToken: specials.includes("<unk>") ? "<unk>" : undefined,
    cls: specials.includes("<s>") ? ["<s>", vocab.get("<s>")!] : undefined,
    sep: specials.includes("</s>") ? ["</s>", vocab.get("</s>")!] : undefined,
    padToken: specials.includes("<pad>") ? "<pad>" : undefined,
    maskToken: specials.includes("<mask>") ? "<mask>" : undefined,
    source: "trainBpeTokenizer",
  });
}
