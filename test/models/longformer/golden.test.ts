/**
 * Numerical equality with Hugging Face's own LongformerForSequenceClassification on the five golden
 * cases (test/fixtures/longformer-hf): logits, loss, every hidden state, the attention
 * probabilities and the gradient of the loss w.r.t. every parameter, on the default backend (WASM
 * here, with tsml's band kernels) and on the pure-JS cpu backend (stock tfjs ops), with gradient
 * checkpointing off and on.
 */
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../../src/backend";
import { LongformerConfig, LongformerForSequenceClassification, longformerClassificationLoss, prepareLongformerBatch } from "../../../src/models/longformer";
import { LONGFORMER_CASES, batchOf, caseDir, disposeBatch, loadCase, loadFloatTensors, maxAbsDiff } from "./fixtures";
import * as fs from "fs";
import * as path from "path";
import { restoresBackend } from "../../backends";

/** README tolerances. */
const TOL = { logits: 1e-4, hidden: 1e-4, loss: 1e-5, probs: 1e-5, gradAbs: 1e-4, gradRel: 1e-3 };

function checkCase(name: string, checkpointing: boolean): void {
  const { inputs, expected } = loadCase(name);
  const intermediates = loadFloatTensors(name, "intermediates.safetensors");
  const refGrads = loadFloatTensors(name, "grads.safetensors");
  const model = LongformerForSequenceClassification.fromFolder(caseDir(name));
  if (checkpointing) model.gradientCheckpointingEnable();
  const batch = batchOf(inputs);
  const labels = tf.tensor1d(inputs.labels, "int32");
  try {
    const out = model.run(batch, { outputHiddenStates: true, outputAttentions: true });
    assert.ok(maxAbsDiff(out.logits.dataSync(), expected.logits.flat()) <= TOL.logits, "logits");
    assert.ok(maxAbsDiff(out.lastHiddenState.dataSync(), expected.last_hidden_state.flat(2)) <= TOL.hidden, "last_hidden_state");
    const layers = model.config.num_hidden_layers;
    assert.strictEqual(out.hiddenStates!.length, layers + 1, "embedding output plus one hidden state per layer");
    assert.strictEqual(out.attentions!.length, layers, "one attention per layer");
    out.hiddenStates!.forEach((h, i) => {
      const d = maxAbsDiff(h.dataSync(), intermediates.get(`hidden_states.${i}`)!.data);
      assert.ok(d <= TOL.hidden, `hidden_states.${i} differs by ${d}`);
    });
    const globalCounts = expected.derived.effective_global_attention_mask.map((row) => row.reduce((a, b) => a + b, 0));
    out.attentions!.forEach(({ local, global }, i) => {
      const refLocal = intermediates.get(`local_attentions.${i}`)!;
      assert.deepStrictEqual(local.shape, refLocal.shape, `local_attentions.${i} shape`);
      const d = maxAbsDiff(local.dataSync(), refLocal.data);
      assert.ok(d <= TOL.probs, `local_attentions.${i} differs by ${d}`);
      // Global probabilities: only real global slots (padding slots of ragged counts are discarded by HF).
      const refGlobal = intermediates.get(`global_attentions.${i}`)!;
      assert.ok(global, "global attention expected");
      assert.deepStrictEqual(global.shape, refGlobal.shape, `global_attentions.${i} shape`);
      const [B, H, N, G] = refGlobal.shape;
      const mine = global.dataSync();
      let worst = 0;
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++)
          for (let j = 0; j < N; j++)
            for (let g = 0; g < globalCounts[b]; g++) {
              const k = ((b * H + h) * N + j) * G + g;
              worst = Math.max(worst, Math.abs(mine[k] - refGlobal.data[k]));
            }
      assert.ok(worst <= TOL.probs, `global_attentions.${i} differs by ${worst}`);
    });
    tf.dispose(out as unknown as tf.TensorContainer);

    const { value, grads } = tf.variableGrads(() => longformerClassificationLoss(model.forward(batch), labels), model.trainableVariables());
    assert.ok(Math.abs(value.dataSync()[0] - expected.loss) <= TOL.loss, `loss ${value.dataSync()[0]} vs ${expected.loss}`);
    const params = model.namedParameters();
    assert.strictEqual(params.length, refGrads.size, "one gradient per parameter");
    for (const [hfName, variable] of params) {
      const ref = refGrads.get(hfName);
      assert.ok(ref, `HF has no gradient named ${hfName}`);
      const got = grads[variable.name].dataSync();
      assert.strictEqual(got.length, ref.data.length, hfName);
      for (let i = 0; i < got.length; i++) {
        const allowed = TOL.gradAbs + TOL.gradRel * Math.abs(ref.data[i]);
        if (!(Math.abs(got[i] - ref.data[i]) <= allowed)) assert.fail(`grad ${hfName}[${i}] = ${got[i]}, HF ${ref.data[i]}`);
      }
    }
    // padding_idx: row pad_token_id of word and position embeddings gets exactly zero gradient.
    const hidden = model.config.hidden_size;
    const pad = model.config.pad_token_id;
    for (const table of ["word_embeddings", "position_embeddings"]) {
      const v = params.find(([n]) => n === `longformer.embeddings.${table}.weight`)![1];
      const row = grads[v.name].dataSync().slice(pad * hidden, (pad + 1) * hidden);
      assert.ok(
        row.every((x) => x === 0),
        `${table} padding row gradient must be exactly 0`,
      );
    }
    tf.dispose([value, ...Object.values(grads)]);
  } finally {
    disposeBatch(batch);
    labels.dispose();
    model.dispose();
  }
}

describe("Longformer golden equality with Hugging Face", () => {
  before(async () => {
    await initBackend();
  });

  describe("input semantics (expected.json.derived)", () => {
    for (const name of LONGFORMER_CASES) {
      it(`${name}: default global, merged mask, pad-to-window, position ids`, () => {
        const { inputs, expected } = loadCase(name);
        const config = LongformerConfig.fromJSON(fs.readFileSync(path.join(caseDir(name), "config.json"), "utf-8"));
        const batch = batchOf(inputs);
        const p = prepareLongformerBatch(config, batch, true);
        disposeBatch(batch);
        const d = expected.derived;
        assert.strictEqual(p.paddedLength, d.padded_seq_len);
        assert.strictEqual(p.paddedLength - p.length, d.padding_len);
        assert.deepStrictEqual(Array.from(p.effectiveGlobalMask), d.effective_global_attention_mask.flat());
        assert.deepStrictEqual(Array.from(p.inputIds), d.padded_input_ids.flat());
        assert.deepStrictEqual(Array.from(p.merged), d.merged_attention_mask_padded.flat());
        assert.deepStrictEqual(Array.from(p.positionIds), d.position_ids_padded.flat());
      });
    }
  });

  for (const backend of ["default", "cpu"]) {
    describe(`on the ${backend} backend`, () => {
      restoresBackend(backend === "cpu" ? "cpu" : undefined);
      for (const name of LONGFORMER_CASES) {
        it(`${name}: logits, loss, hidden states, attentions and all gradients match`, () => {
          checkCase(name, false);
        });
        it(`${name}: with gradient checkpointing, the same loss and gradients`, () => {
          checkCase(name, true);
        });
      }
    });
  }
});
