/**
 * Checkpoint semantics of LongformerForSequenceClassification: HF names and layouts, byte-stable
 * save/load round trips, one error listing every weight problem, head-less checkpoints (base model,
 * names without the `longformer.` prefix) and F16/BF16/F64 inputs.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../../src/backend";
import { SafetensorsEntry, readSafetensorsFile, toFloat32Array, writeSafetensorsFile } from "../../../src/io";
import { LongformerConfig, LongformerForMaskedLM, LongformerForSequenceClassification } from "../../../src/models/longformer";
import { tempDir } from "../../helpers";
import { batchOf, caseDir, disposeBatch, loadCase, maxAbsDiff } from "./fixtures";

const CASE = "c_extra_global";

/** A checkpoint folder holding the fixture's config.json and the given tensors. */
function checkpointWith(tensors: Map<string, SafetensorsEntry>): string {
  const dir = tempDir("tsml-longformer-ckpt-");
  fs.copyFileSync(path.join(caseDir(CASE), "config.json"), path.join(dir, "config.json"));
  fs.writeFileSync(path.join(dir, "model.safetensors"), encodeRaw(tensors));
  return dir;
}

/** Safetensors bytes for raw entries of any dtype (the io writer only emits F32/I32/F64/U8). */
function encodeRaw(tensors: Map<string, SafetensorsEntry>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, e] of tensors) {
    header[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.data.length] };
    offset += e.data.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const e of tensors.values()) {
    out.set(e.data, p);
    p += e.data.length;
  }
  return out;
}

function fixtureTensors(): Map<string, SafetensorsEntry> {
  return readSafetensorsFile(path.join(caseDir(CASE), "model.safetensors")).tensors;
}

/** Last hidden state of a model on the case inputs. */
function encoded(model: LongformerForSequenceClassification): Float32Array {
  const batch = batchOf(loadCase(CASE).inputs);
  const out = model.encode(batch);
  const values = out.dataSync() as Float32Array;
  out.dispose();
  disposeBatch(batch);
  return values;
}

describe("Longformer checkpoints", () => {
  before(async () => {
    await initBackend();
  });

  it("save writes HF names, F32, PyTorch layout: tensors identical to the loaded file, re-save byte-identical", () => {
    const model = LongformerForSequenceClassification.fromFolder(caseDir(CASE));
    const first = tempDir();
    const second = tempDir();
    model.savePretrained(first);
    model.dispose();
    const reloaded = LongformerForSequenceClassification.fromFolder(first);
    reloaded.savePretrained(second);
    reloaded.dispose();
    const bytesA = fs.readFileSync(path.join(first, "model.safetensors"));
    const bytesB = fs.readFileSync(path.join(second, "model.safetensors"));
    assert.ok(Buffer.compare(bytesA, bytesB) === 0, "re-saved model.safetensors must be byte-identical");
    assert.strictEqual(fs.readFileSync(path.join(first, "config.json"), "utf-8"), fs.readFileSync(path.join(second, "config.json"), "utf-8"));
    const saved = readSafetensorsFile(path.join(first, "model.safetensors"));
    const original = fixtureTensors();
    assert.deepStrictEqual([...saved.tensors.keys()].sort(), [...original.keys()].sort());
    for (const [name, entry] of original) {
      const mine = saved.tensors.get(name)!;
      assert.strictEqual(mine.dtype, "F32", name);
      assert.deepStrictEqual(mine.shape, entry.shape, name);
      assert.ok(Buffer.compare(Buffer.from(mine.data), Buffer.from(entry.data)) === 0, `${name} bytes differ`);
    }
    assert.deepStrictEqual(saved.metadata, { format: "pt" });
  });

  it("config.json written by savePretrained keeps every HF field of the source", () => {
    const model = LongformerForSequenceClassification.fromFolder(caseDir(CASE));
    const dir = tempDir();
    model.savePretrained(dir);
    model.dispose();
    const source = JSON.parse(fs.readFileSync(path.join(caseDir(CASE), "config.json"), "utf-8"));
    const written = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf-8"));
    assert.deepStrictEqual(written, source);
  });

  it("reports missing, unexpected and wrong-shape weights together in one error", () => {
    const tensors = fixtureTensors();
    tensors.delete("longformer.encoder.layer.1.attention.self.key_global.bias");
    const moved = tensors.get("classifier.dense.bias")!;
    tensors.delete("classifier.dense.bias");
    tensors.set("classifier.dense.bais", moved);
    const good = tensors.get("longformer.embeddings.token_type_embeddings.weight")!;
    tensors.set("longformer.embeddings.token_type_embeddings.weight", { ...good, shape: [1, good.shape[0] * good.shape[1]] });
    const dir = checkpointWith(tensors);
    assert.throws(
      () => LongformerForSequenceClassification.fromFolder(dir),
      (e: Error) => {
        assert.match(e.message, /model\.safetensors: 4 weight problem/);
        assert.match(e.message, /missing: longformer\.encoder\.layer\.1\.attention\.self\.key_global\.bias \[32\]/);
        assert.match(e.message, /missing: classifier\.dense\.bias/);
        assert.match(e.message, /unexpected: classifier\.dense\.bais/);
        assert.match(e.message, /wrong shape: longformer\.embeddings\.token_type_embeddings\.weight is \[1,64\], the config needs \[2,32\]/);
        return true;
      },
    );
  });

  it("a head-less checkpoint (bare LongformerModel names, pooler) needs initClassifierHead, then loads the encoder exactly", () => {
    const tensors = new Map<string, SafetensorsEntry>();
    for (const [name, entry] of fixtureTensors()) {
      if (name.startsWith("longformer.")) tensors.set(name.slice("longformer.".length), entry);
    }
    tensors.set("pooler.dense.weight", tensors.get("encoder.layer.0.output.dense.weight")!);
    const dir = checkpointWith(tensors);
    assert.throws(() => LongformerForSequenceClassification.fromFolder(dir), /missing: classifier\.out_proj\.weight[\s\S]*initClassifierHead: true/);
    const headless = LongformerForSequenceClassification.fromFolder(dir, { initClassifierHead: true, seed: 3 });
    const full = LongformerForSequenceClassification.fromFolder(caseDir(CASE));
    try {
      assert.strictEqual(maxAbsDiff(encoded(headless), encoded(full)), 0);
      const head = new Map(headless.namedParameters());
      const bias = head.get("classifier.dense.bias")!.dataSync();
      assert.ok(
        bias.every((x) => x === 0),
        "HF init: zero biases",
      );
      const weight = Array.from(head.get("classifier.out_proj.weight")!.dataSync());
      const std = Math.sqrt(weight.reduce((a, x) => a + x * x, 0) / weight.length);
      assert.ok(std > 0.01 && std < 0.03, `HF init: N(0, 0.02), got std ${std}`);
    } finally {
      headless.dispose();
      full.dispose();
    }
  });

  it("loads F16, BF16 and F64 weights as float32", () => {
    const config = LongformerConfig.fromJSON(fs.readFileSync(path.join(caseDir(CASE), "config.json"), "utf-8"));
    const reference = LongformerForSequenceClassification.fromFolder(caseDir(CASE));
    const refWeights = reference.weights();
    reference.dispose();
    for (const dtype of ["F16", "BF16", "F64"] as const) {
      const tensors = new Map<string, SafetensorsEntry>();
      const expected = new Map<string, Float32Array>();
      for (const [name, { shape, data }] of refWeights) {
        const bytes = new Uint8Array(data.length * (dtype === "F64" ? 8 : 2));
        const view = new DataView(bytes.buffer);
        const f32 = new DataView(new ArrayBuffer(4));
        data.forEach((v, i) => {
          if (dtype === "F64") view.setFloat64(8 * i, v, true);
          else if (dtype === "BF16") {
            f32.setFloat32(0, v);
            view.setUint16(2 * i, f32.getUint32(0) >>> 16, true);
          } else view.setUint16(2 * i, floatToHalf(v), true);
        });
        const entry: SafetensorsEntry = { dtype, shape, data: bytes };
        tensors.set(name, entry);
        expected.set(name, toFloat32Array(entry, name));
      }
      const dir = checkpointWith(tensors);
      const model = LongformerForSequenceClassification.fromFolder(dir);
      assert.strictEqual(model.config.hidden_size, config.hidden_size);
      for (const [name, v] of model.namedParameters()) {
        assert.strictEqual(maxAbsDiff(v.dataSync(), expected.get(name)!), 0, `${dtype} ${name}`);
        if (dtype === "F64") assert.strictEqual(maxAbsDiff(v.dataSync(), refWeights.get(name)!.data), 0, name);
      }
      model.dispose();
    }
  });

  it("a model created from a config saves and reloads to the same weights and logits", () => {
    const model = LongformerForSequenceClassification.create(
      {
        vocab_size: 40,
        hidden_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        intermediate_size: 32,
        attention_window: [4],
        max_position_embeddings: 40,
        num_labels: 3,
      },
      { seed: 5 },
    );
    const dir = tempDir();
    model.savePretrained(dir);
    const again = LongformerForSequenceClassification.fromFolder(dir);
    const batch = { inputIds: tf.tensor2d([[0, 5, 6, 7, 8, 2]], undefined, "int32") };
    const a = model.forward(batch);
    const b = again.forward(batch);
    assert.deepStrictEqual(a.shape, [1, 3]);
    assert.deepStrictEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    tf.dispose([a, b, batch.inputIds]);
    model.dispose();
    again.dispose();
    assert.throws(() => LongformerForSequenceClassification.fromFolder(path.join(dir, "nope")), /config\.json not found/);
    writeSafetensorsFile(path.join(dir, "model.safetensors"), { x: { dtype: "F32", shape: [1], data: new Float32Array(1) } });
    assert.throws(() => LongformerForSequenceClassification.fromFolder(dir), /weight problem[\s\S]*unexpected: x/);
  });
});

describe("savePretrained into a folder it cannot create", () => {
  const config = {
    vocab_size: 40,
    hidden_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 32,
    attention_window: [4],
    max_position_embeddings: 40,
  };

  it("names the folder and the level that failed, for the classifier and the masked LM (no endless mkdir on /proc)", () => {
    const blocker = path.join(tempDir(), "a-file");
    fs.writeFileSync(blocker, "");
    const classifier = LongformerForSequenceClassification.create(config, { seed: 1 });
    const maskedLM = LongformerForMaskedLM.create(config, { seed: 1 });
    try {
      const targets = ["/proc/tsml-no-such-process/model", path.join(blocker, "model")];
      let refused = 0;
      for (const target of targets) {
        assert.throws(
          () => classifier.savePretrained(target),
          (e: Error) => e.message.startsWith(`savePretrained: ${target}:`),
        );
        assert.throws(
          () => maskedLM.savePretrained(target),
          (e: Error) => e.message.startsWith(`savePretrained: ${target}:`),
        );
        refused++;
      }
      assert.strictEqual(refused, targets.length);
    } finally {
      classifier.dispose();
      maskedLM.dispose();
    }
  });
});

/** float32 -> IEEE half (round to nearest even), enough for the test's normal-range values. */
function floatToHalf(value: number): number {
  const f32 = new DataView(new ArrayBuffer(4));
  f32.setFloat32(0, value);
  const bits = f32.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  let mantissa = bits & 0x7fffff;
  if (exponent <= 0) return sign; // flush tiny values to zero
  if (exponent >= 31) return sign | 0x7c00;
  let half = sign | (exponent << 10) | (mantissa >>> 13);
  mantissa &= 0x1fff;
  if (mantissa > 0x1000 || (mantissa === 0x1000 && half & 1)) half++;
  return half;
}
