/** Malformed tokenizer files fail with the file name and what is wrong. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { loadTokenizer, trainBpeTokenizer } from "../../src/tokenizers";
import { tempDir } from "../helpers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests edit tokenizer JSON at any depth
type Json = Record<string, any>;

describe("tokenizers/load: malformed files", () => {
  const dir = tempDir();
  const valid = trainBpeTokenizer(["hello world, hello there"], { vocabSize: 270 }).toJSON() as Json;
  const write = (name: string, content: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };
  const mutated = (name: string, change: (j: Json) => void): string => {
    const copy = JSON.parse(JSON.stringify(valid));
    change(copy);
    return write(name, JSON.stringify(copy));
  };
  const fails = (file: string, pattern: RegExp): void => {
    assert.throws(
      () => loadTokenizer(file),
      (e: Error) => {
        assert.ok(e.message.includes(file), `message should name ${file}: ${e.message}`);
        assert.match(e.message, pattern);
        return true;
      },
    );
  };

  it("accepts the unmodified file", () => {
    assert.equal(loadTokenizer(mutated("ok.json", () => undefined)).vocabSize, Object.keys(valid.model.vocab).length);
  });

  it("reports invalid JSON and corrupt gzip", () => {
    fails(write("broken.json", '{"model": '), /not valid JSON/);
    fails(write("broken.json.gz", "not gzip"), /not a valid gzip file/);
  });

  it("reports a missing model, a non-BPE model and unsupported components", () => {
    fails(
      mutated("nomodel.json", (j) => delete j.model),
      /missing "model"/,
    );
    fails(
      mutated("wordpiece.json", (j) => (j.model.type = "WordPiece")),
      /model.type is "WordPiece"; only "BPE"/,
    );
    fails(
      mutated("pretok.json", (j) => (j.pre_tokenizer = { type: "Whitespace" })),
      /pre_tokenizer.type is "Whitespace"/,
    );
    fails(
      mutated("post.json", (j) => (j.post_processor = { type: "BertProcessing" })),
      /post_processor.type is "BertProcessing"/,
    );
  });

  it("reports bad vocabulary ids and merges, naming the entry", () => {
    fails(
      mutated("badid.json", (j) => (j.model.vocab.hello = "7")),
      /model.vocab\["hello"\] is "7", expected a non-negative integer id/,
    );
    fails(
      mutated("dupid.json", (j) => (j.model.vocab["<s>"] = 1)),
      /gives id 1 to both/,
    );
    fails(
      mutated("badmerge.json", (j) => (j.model.merges[0] = 42)),
      /model.merges\[0\] is 42/,
    );
    fails(
      mutated("oovmerge.json", (j) => j.model.merges.push("zz qq")),
      /model.merges\[\d+\] \("zz qq"\) uses "zz", which is not in the vocabulary/,
    );
    fails(
      mutated("added.json", (j) => (j.added_tokens[2].id = -1)),
      /added_tokens\[2\].id is -1/,
    );
  });

  it("reports a bad merges.txt line with its line number", () => {
    const folder = tempDir();
    fs.writeFileSync(path.join(folder, "vocab.json"), JSON.stringify({ "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4, a: 5, b: 6, ab: 7 }));
    const merges = path.join(folder, "merges.txt");
    fs.writeFileSync(merges, "#version: 0.2\na b\nab\n");
    assert.throws(
      () => loadTokenizer(folder),
      (e: Error) => e.message.startsWith(`${merges}: line 3 is "ab"`),
    );
    fs.writeFileSync(merges, "#version: 0.2\na b\nb c\n");
    assert.throws(
      () => loadTokenizer(folder),
      (e: Error) => e.message.startsWith(`${merges}: line 3 ("b c") uses "c"`),
    );
    fs.writeFileSync(merges, "#version: 0.2\na b\n");
    assert.deepEqual(loadTokenizer(folder, { addPrefixSpace: false }).encode("ab").ids, [0, 7, 2]);
  });

  it("reports a missing file or a folder without tokenizer files", () => {
    const empty = tempDir();
    assert.throws(() => loadTokenizer(path.join(empty, "nope.json")), /nope.json: no such file/);
    assert.throws(() => loadTokenizer(empty), /neither tokenizer.json\(.gz\) nor vocab.json \+ merges.txt/);
  });
});
