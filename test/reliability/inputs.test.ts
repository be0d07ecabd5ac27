/**
 * The catalogue of bad inputs that used to be accepted silently or reported unclearly (issue 16, items 5-17, 19
 * and 20): each now gives a clear error (naming file, row, field or value) or the right result.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { parseArgs } from "../../src/cli/args";
import { loadTextDataset, loadTextDatasets, readCsv } from "../../src/data";
import { getExperimentTask } from "../../src/experiments";
import "../../src/study";
import { LongformerConfig, LongformerForSequenceClassification, longformerClassificationLoss } from "../../src/models/longformer";
import { LAST_CHECKPOINT_FILE, softmaxCrossEntropySum, Trainer, type TrainingArguments } from "../../src/train";
import { fixturePath, repoRoot, tempDir } from "../helpers";
import { arrayData, randomClassification, randomInit, softmaxRegression } from "../train/tinyModels";
import { CLI, deadPid } from "./support";

function write(dir: string, name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

/** The message of the error `fn` throws (fails when it throws none). */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return assert.fail("expected an error");
}

/** A tiny Longformer classifier config (HF field names). */
const TINY = {
  vocab_size: 40,
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 34,
  attention_window: 4,
  num_labels: 2,
};

describe("reliability: bad inputs are refused clearly (issue 16 catalogue)", function () {
  this.timeout(60_000);
  const dir = tempDir("tsml-inputs-");
  before(async () => {
    await initBackend();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe("5. labels outside the model's classes", () => {
    it("the losses refuse a label >= numLabels or < 0 instead of returning 0", () => {
      const logits = tf.tensor2d([
        [0.3, -0.2],
        [1, 2],
      ]);
      for (const bad of [
        [0, 2],
        [-1, 0],
      ]) {
        const labels = tf.tensor1d(bad, "int32");
        assert.throws(
          () => softmaxCrossEntropySum(logits, labels),
          new RegExp(`softmaxCrossEntropySum: label ${bad.find((v) => v < 0 || v > 1)} \\(item \\d of the batch\\) is not a class id in \\[0, 2\\)`),
        );
        assert.throws(() => longformerClassificationLoss(logits, labels), /label -?\d \(item \d of the batch\) is not a class id in \[0, 2\)/);
        labels.dispose();
      }
      const ok = tf.tensor1d([1, 0], "int32");
      const before = tf.memory().numTensors;
      const loss = softmaxCrossEntropySum(logits, ok);
      assert.ok(loss.dataSync()[0] > 0);
      loss.dispose();
      assert.equal(tf.memory().numTensors, before, "the check leaks no tensor");
      tf.dispose([logits, ok]);
    });

    it("the Trainer stops at the first step on a data set whose labels are outside the classes, before training", async () => {
      const { x } = randomClassification(8, 3, 2, 1);
      const net = softmaxRegression(randomInit(3, 2, 1));
      const trainer = new Trainer({
        model: net.model,
        trainData: arrayData(
          x,
          x.map(() => 2),
        ),
        args: { perDeviceBatchSize: 4, epochs: 1, progress: "none" },
      });
      const weightBefore = net.weight.arraySync();
      await assert.rejects(trainer.train(), /label 2 .* not a class id in \[0, 2\)/);
      assert.deepEqual(net.weight.arraySync(), weightBefore, "no update was applied");
      trainer.dispose();
      net.dispose();
    });
  });

  describe("6. one label mapping per data set", () => {
    it("dev and test reuse the training file's mapping (a dev file of only spam keeps spam's id)", () => {
      const train = write(dir, "6/train.csv", "text,label\na,ham\nb,spam\nc,ham\n");
      const dev = write(dir, "6/dev.csv", "text,label\nd,spam\ne,spam\n");
      const test = write(dir, "6/test.jsonl", '{"text": "f", "label": "ham"}\n');
      const splits = loadTextDatasets({ train, dev, test }, { numClasses: 2 });
      assert.deepEqual(splits.train.labelNames, ["ham", "spam"]);
      assert.deepEqual(splits.dev!.labelNames, ["ham", "spam"]);
      assert.deepEqual(splits.dev!.labels, [1, 1], "spam is id 1 in dev as in train");
      assert.deepEqual(splits.test!.labels, [0]);
    });

    it("a label the training file does not have is an error naming the file, row and value", () => {
      const train = write(dir, "6b/train.csv", "text,label\na,ham\nb,spam\n");
      const dev = write(dir, "6b/dev.csv", "text,label\nd,spam\ne,eggs\n");
      const message = errorOf(() => loadTextDatasets({ train, dev }));
      assert.match(
        message,
        new RegExp(
          `^${dev.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: 1 invalid row\\n  row 2 \\(line 3\\): label "eggs" is not one of the expected labels "ham", "spam"`,
        ),
      );
    });
  });

  describe("7. mixed and odd label kinds", () => {
    it("names and integers mixed in one file are an error naming both", () => {
      const file = write(dir, "7/mixed.csv", "text,label\na,spam\nb,ham\nc,0\nd,1\n");
      assert.match(
        errorOf(() => loadTextDataset(file)),
        /label mixes integer class ids \("0" at row 3 \(line 4\)\) and label names \("spam" at row 1 \(line 2\)\)/,
      );
    });

    it('"1" and "1.0" are one class; "NaN" is a missing label, not a class; 0.5 is not a class id', () => {
      const file = write(dir, "7/numbers.csv", "text,label\na,1\nb,1.0\nc,0\nd,01\n");
      const ds = loadTextDataset(file);
      assert.deepEqual(ds.labelNames, ["0", "1"]);
      assert.deepEqual(ds.labels, [1, 1, 0, 1]);
      const nan = write(dir, "7/nan.csv", "text,label\na,NaN\nb,1\nc,0.5\n");
      const error = errorOf(() => loadTextDataset(nan));
      assert.match(error, /row 1 \(line 2\): label is "NaN", a missing value/);
      assert.match(error, /row 3 \(line 4\): label is "0.5", a number that is not an integer class id/);
    });
  });

  describe("8. encodings and headers", () => {
    it("Latin-1 bytes are an error naming the file and line, not silent U+FFFD", () => {
      const file = write(dir, "8/latin1.csv", Buffer.concat([Buffer.from("text,label\nfine,ham\ncaf"), Buffer.from([0xe9]), Buffer.from(",spam\n")]));
      assert.match(
        errorOf(() => loadTextDataset(file)),
        /latin1\.csv: line 3: bytes that are not valid UTF-8/,
      );
      const jsonl = write(dir, "8/latin1.jsonl", Buffer.concat([Buffer.from('{"text": "caf'), Buffer.from([0xe9]), Buffer.from('", "label": "a"}\n')]));
      assert.match(
        errorOf(() => loadTextDataset(jsonl)),
        /latin1\.jsonl: line 1: bytes that are not valid UTF-8/,
      );
    });

    it("a header naming a column twice is an error naming the column and both positions", () => {
      const file = write(dir, "8/dup.csv", "label,text,label\nham,a,spam\n");
      assert.match(
        errorOf(() => loadTextDataset(file)),
        /dup\.csv: line 1: the header names column "label" twice \(columns 1 and 3\)/,
      );
    });
  });

  describe("9-10, 13. model files", () => {
    function savedModel(name: string, edit?: (config: Record<string, unknown>) => void, poison?: boolean): string {
      const model = LongformerForSequenceClassification.create(TINY, { seed: 1 });
      const out = path.join(dir, name);
      if (poison) {
        const weights = model.weights();
        const first = weights.values().next().value!;
        first.data[3] = NaN;
        new LongformerForSequenceClassification(model.config, weights).savePretrained(out);
      } else model.savePretrained(out);
      model.dispose();
      if (edit) {
        const file = path.join(out, "config.json");
        const config = JSON.parse(fs.readFileSync(file, "utf8"));
        edit(config);
        fs.writeFileSync(file, JSON.stringify(config));
      }
      return out;
    }

    it("9. a NaN weight: tsml predict fails naming the tensor instead of printing null logits with exit 0", () => {
      const model = savedModel("9-nan", undefined, true);
      const inputs = write(dir, "9-inputs.json", JSON.stringify({ input_ids: [[0, 5, 6, 2]] }));
      const run = spawnSync(process.execPath, [CLI, "predict", "--model", model, "--inputs", inputs], { encoding: "utf8", cwd: repoRoot() });
      assert.notEqual(run.status, 0, run.stdout);
      assert.equal(run.stdout.includes("null"), false, run.stdout);
      assert.match(run.stderr, /not finite: longformer\.embeddings\.word_embeddings\.weight holds NaN at index 3/);
    });

    it("10. a config.json without attention_window says that HF's default 512 is used", () => {
      const model = savedModel("10-window", (c) => delete c.attention_window);
      const warnings: string[] = [];
      const config = LongformerConfig.fromJSON(fs.readFileSync(path.join(model, "config.json"), "utf8"), "m/config.json", (m) => warnings.push(m));
      assert.equal(config.attention_window, 512);
      assert.deepEqual(warnings, ["m/config.json: no attention_window; using Hugging Face's default 512"]);
    });

    it("13. a config.json missing hidden_size and other keys names the keys, not 272 weights", async () => {
      const model = savedModel("13-keys", (c) => {
        for (const key of ["hidden_size", "num_hidden_layers", "intermediate_size"]) delete c[key];
      });
      await assert.rejects(LongformerForSequenceClassification.fromPretrained(model), (e: Error) => {
        assert.match(e.message, /config\.json: missing hidden_size, num_hidden_layers, intermediate_size; these keys set the model's architecture/);
        assert.ok(!e.message.includes("wrong shape"), e.message);
        return true;
      });
    });
  });

  describe("11, 16, 19. checkpoints", () => {
    const { x, y } = randomClassification(32, 3, 2, 4);
    async function train(outputDir: string, args: Partial<TrainingArguments>): Promise<void> {
      const net = softmaxRegression(randomInit(3, 2, 2));
      const trainer = new Trainer({
        model: net.model,
        trainData: arrayData(x, y),
        args: { perDeviceBatchSize: 4, epochs: 1, saveSteps: 4, progress: "none", outputDir, ...args },
      });
      try {
        await trainer.train();
      } finally {
        trainer.dispose();
        net.dispose();
      }
    }

    it("11. resuming with another batch size or accumulation is refused like another seed", async () => {
      const out = path.join(dir, "11");
      await train(out, { maxSteps: 4 });
      await assert.rejects(
        train(out, { maxSteps: 8, resumeFrom: "last", perDeviceBatchSize: 2 }),
        /checkpoint-4: trained with perDeviceBatchSize 4, the arguments say perDeviceBatchSize 2/,
      );
      await assert.rejects(
        train(out, { maxSteps: 8, resumeFrom: "last", gradientAccumulationSteps: 2 }),
        /trained with gradientAccumulationSteps 1, the arguments say gradientAccumulationSteps 2/,
      );
      await train(out, { maxSteps: 8, resumeFrom: "last" });
    });

    it("16. a truncated trainer_state.json and an empty pointer file are named as such", async () => {
      const out = path.join(dir, "16");
      await train(out, { maxSteps: 4 });
      const state = path.join(out, "checkpoint-4", "trainer_state.json");
      const text = fs.readFileSync(state, "utf8");
      fs.writeFileSync(state, text.slice(0, text.length / 2));
      await assert.rejects(train(out, { maxSteps: 8, resumeFrom: "last" }), new RegExp(`${state.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: not valid JSON`));
      fs.writeFileSync(state, text);
      fs.writeFileSync(path.join(out, LAST_CHECKPOINT_FILE), "");
      await assert.rejects(
        train(out, { maxSteps: 8, resumeFrom: "last" }),
        /last-checkpoint: the pointer file is empty; .*checkpoint folders present: checkpoint-4/,
      );
    });

    it("19. temporary folders and files of interrupted checkpoint writes are removed on resume (those of live processes kept)", async () => {
      const out = path.join(dir, "19");
      await train(out, { maxSteps: 4 });
      const abandoned = path.join(out, `.checkpoint-8.${deadPid()}.tmp`);
      const live = path.join(out, `.checkpoint-8.${process.ppid}.tmp`);
      for (const folder of [abandoned, live]) write(folder, "model.safetensors", "partial");
      // A kill -9 between writeFileAtomic's write and its rename leaves `.<file>.<pid>.<ms>.tmp` beside the file.
      const abandonedPointer = write(out, `.${LAST_CHECKPOINT_FILE}.${deadPid()}.${Date.now()}.tmp`, "checkpoint-");
      const livePointer = write(out, `.${LAST_CHECKPOINT_FILE}.${process.ppid}.${Date.now()}.tmp`, "checkpoint-");
      await train(out, { maxSteps: 8, resumeFrom: "last" });
      assert.ok(!fs.existsSync(abandoned), "the dead writer's folder is gone");
      assert.ok(fs.existsSync(live), "a live process's folder is kept");
      assert.ok(!fs.existsSync(abandonedPointer), "the dead writer's temporary file is gone");
      assert.ok(fs.existsSync(livePointer), "a live process's temporary file is kept");
    });
  });

  describe("12. command-line arguments", () => {
    const spec = { quick: "boolean", name: "string", "runs-dir": "string" } as const;
    it("an option where a value belongs is an error, not the value", () => {
      assert.throws(() => parseArgs(["--name", "--runs-dir", "x"], spec), /option --name needs a value, got the option --runs-dir/);
      assert.deepEqual(parseArgs(["--name=--odd"], spec).options.name, "--odd");
    });
    it("a stray word is an error that suggests the option it resembles", () => {
      assert.throws(() => parseArgs(["quick"], spec), /unexpected argument "quick"; did you mean --quick\?/);
      assert.deepEqual(parseArgs(["install"], {}, 1).positional, ["install"]);
    });
  });

  describe("14-15. JSONL byte order mark, huge fields", () => {
    it("14. a BOM at the start of a JSONL file is skipped as in CSV", () => {
      const file = write(dir, "14.jsonl", '\ufeff{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n');
      assert.deepEqual(loadTextDataset(file).texts, ["a", "b"]);
    });

    it("15. a 50 MB field without a newline gives a short error, not a 52 MB one", () => {
      const file = write(dir, "15.csv", "x".repeat(50 * 1024 * 1024));
      const message = errorOf(() => loadTextDataset(file));
      assert.ok(message.length < 500, `error of ${message.length} characters`);
      assert.match(message, /missing columns "text", "label"; the columns are "x{40}"\.\.\. \(52428800 characters\)/);
      fs.rmSync(file);
    });
  });

  describe("17. a tokenizer larger than the model's vocabulary", () => {
    it("is refused once, before any run, naming both sizes", async () => {
      const model = path.join(dir, "17-model");
      fs.mkdirSync(model);
      const tokenizerDir = fixturePath("longformer-hf", "tokenizer");
      for (const name of fs.readdirSync(tokenizerDir)) fs.copyFileSync(path.join(tokenizerDir, name), path.join(model, name));
      const config = JSON.parse(fs.readFileSync(fixturePath("longformer-hf", "a_default_global", "config.json"), "utf8"));
      fs.writeFileSync(path.join(model, "config.json"), JSON.stringify({ ...config, vocab_size: 100 }));
      const options = { trainExamples: 8, devExamples: 4, testExamples: 4, maxLength: 64, modelDir: model };
      await assert.rejects(
        getExperimentTask("spam-longformer").prepare!(options, { cacheDir: path.join(dir, "17-cache"), log: () => {} }),
        /the tokenizer has 50265 tokens but .*config\.json says vocab_size 100/,
      );
      assert.ok(!fs.existsSync(path.join(dir, "17-cache")), "nothing was prepared");
    });
  });

  describe("20. CSV memory", () => {
    it("reading a CSV holds a few times its size, not 37x (measured in a fresh process)", () => {
      const rows = ["id,text,label"];
      for (let i = 0; i < 60_000; i++) rows.push(`${i},"document ${i} ${"lorem ipsum dolor sit amet, ".repeat(12)}",${i % 2 ? "spam" : "ham"}`);
      const file = write(dir, "20.csv", rows.join("\n") + "\n");
      const size = fs.statSync(file).size;
      const script = `const { readCsv } = require(${JSON.stringify(path.join(repoRoot(), "dist", "src", "data", "readers.js"))});
const before = process.memoryUsage().rss;
const table = readCsv(${JSON.stringify(file)});
const peak = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ records: table.records.length, grew: peak - before }));`;
      const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
      const { records, grew } = JSON.parse(run.stdout) as { records: number; grew: number };
      assert.equal(records, 60_000);
      const ratio = grew / size;
      console.log(`      CSV of ${(size / 1e6).toFixed(1)} MB: peak memory grew by ${(grew / 1e6).toFixed(0)} MB (${ratio.toFixed(1)}x the file)`);
      assert.ok(ratio < 12, `memory grew ${ratio.toFixed(1)}x the file size`);
    });

    it("reads the same records as before: quotes, multi-line fields, CRLF across chunk boundaries", () => {
      const long = "y".repeat((1 << 20) - 12); // puts a CRLF and a doubled quote on the 1 MiB chunk boundary
      const text = `text,label\r\n"${long}""",a\r\n"multi\r\nline ""q""",b\r\nplain,a`;
      const file = write(dir, "20b.csv", text);
      const table = readCsv(file);
      assert.equal(table.records.length, 3);
      assert.equal(table.records[0].values.text, `${long}"`);
      assert.deepEqual(
        table.records.slice(1).map((r) => [r.values.text, r.values.label, r.location]),
        [
          ['multi\r\nline "q"', "b", "line 3"],
          ["plain", "a", "line 5"],
        ],
      );
    });
  });
});
