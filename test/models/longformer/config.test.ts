/** LongformerConfig: HF config.json fields, validation naming the field, HF-loadable toJSON. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { LongformerConfig } from "../../../src/models/longformer";
import { LONGFORMER_CASES, caseDir } from "./fixtures";

const SMALL = {
  vocab_size: 50,
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 32,
  attention_window: 8,
  max_position_embeddings: 64,
};

describe("LongformerConfig", () => {
  it("reads every fixture's config.json (int list windows, labels, eps) and writes the same object back", () => {
    for (const name of LONGFORMER_CASES) {
      const file = path.join(caseDir(name), "config.json");
      const raw = JSON.parse(fs.readFileSync(file, "utf-8"));
      const config = LongformerConfig.fromJSON(fs.readFileSync(file, "utf-8"), file);
      assert.deepStrictEqual(config.attention_window, raw.attention_window);
      assert.strictEqual(config.num_labels, Object.keys(raw.id2label).length);
      assert.strictEqual(config.layer_norm_eps, raw.layer_norm_eps);
      assert.strictEqual(config.maxWindow, Math.max(...raw.attention_window));
      assert.deepStrictEqual(config.toJSON(), raw);
    }
  });

  it("accepts one window for all layers or one per layer, and num_labels like HF's constructor", () => {
    const shared = new LongformerConfig({ ...SMALL, attention_window: 6 });
    assert.deepStrictEqual([shared.windowOf(0), shared.windowOf(1)], [6, 6]);
    const perLayer = new LongformerConfig({ ...SMALL, attention_window: [4, 8] });
    assert.deepStrictEqual([perLayer.windowOf(0), perLayer.windowOf(1), perLayer.maxWindow], [4, 8, 8]);
    const three = new LongformerConfig({ ...SMALL, num_labels: 3 });
    assert.deepStrictEqual(three.id2label, { "0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2" });
    const json = three.toJSON();
    assert.deepStrictEqual(json.label2id, { LABEL_0: 0, LABEL_1: 1, LABEL_2: 2 });
    assert.strictEqual(json.model_type, "longformer");
    assert.deepStrictEqual(LongformerConfig.fromJSON(JSON.stringify(json)).toJSON(), json);
  });

  it("rejects invalid settings with an error naming the field", () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ attention_window: 7 }, /attention_window must be a positive even integer, got 7/],
      [{ attention_window: [4, 5] }, /attention_window\[1\] must be a positive even integer, got 5/],
      [{ attention_window: [4, 4, 4] }, /attention_window has 3 entries but num_hidden_layers = 2/],
      [{ hidden_size: 18 }, /hidden_size = 18 is not divisible by num_attention_heads = 4/],
      [{ hidden_act: "mish" }, /hidden_act "mish" is not supported/],
      [{ hidden_dropout_prob: 1.5 }, /hidden_dropout_prob must be a probability/],
      [{ layer_norm_eps: 0 }, /layer_norm_eps must be a positive number/],
      [{ num_hidden_layers: 0 }, /num_hidden_layers must be an integer >= 1/],
      [{ pad_token_id: 50 }, /pad_token_id = 50 must be < vocab_size = 50/],
      [{ num_labels: 3, id2label: { "0": "a" } }, /num_labels = 3 but id2label has 1 entries/],
    ];
    for (const [override, message] of bad) {
      assert.throws(
        () => new LongformerConfig({ ...SMALL, ...override }, "my/config.json"),
        (e: Error) => {
          assert.match(e.message, /^my\/config\.json: /);
          assert.match(e.message, message);
          return true;
        },
      );
    }
    assert.throws(() => LongformerConfig.fromJSON("{not json", "x/config.json"), /x\/config\.json: not valid JSON/);
    assert.throws(() => LongformerConfig.fromJSON('{"model_type": "bert"}', "x/config.json"), /model_type is "bert", expected "longformer"/);
  });
});
