/**
 * Files tsml writes, tsml reads (issue 24, rows 12-14 and the file cases of 16): convert refuses a tensor name that
 * safetensors reserves, a checkpoint whose state disagrees with its folder (or holds NaN) is refused naming both,
 * and a full disk names the file and the step and leaves no temporary file behind.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { initBackend } from "../../src/backend";
import { loadTextDataset } from "../../src/data";
import { readSafetensorsFile, symlinkAtomic, toFloat32Array, writeFileAtomic, writeSafetensorsFile } from "../../src/io";
import { LAST_CHECKPOINT_FILE, readLastCheckpoint, resolveTrainingArguments, Trainer, type TrainingArguments } from "../../src/train";
import { fixturePath, tempDir } from "../helpers";
import { checkpoint, oneTensorPickle } from "../io/torchPickles";
import { arrayData, randomClassification, randomInit, softmaxRegression } from "../train/tinyModels";
import { runCli } from "./support";

const { x, y } = randomClassification(24, 3, 2, 5);
const ARGS: Partial<TrainingArguments> = { perDeviceBatchSize: 4, maxSteps: 10, saveSteps: 5, loggingSteps: 1, learningRate: 0.05, seed: 3, progress: "none" };

/** Trains the tiny classifier with `args` (outputDir included) and returns the trainer's error, if any. */
async function train(args: Partial<TrainingArguments>): Promise<Error | undefined> {
  const net = softmaxRegression(randomInit(3, 2, 1));
  const trainer = new Trainer({ model: net.model, trainData: arrayData(x, y), args: { ...ARGS, ...args } });
  try {
    await trainer.train();
    return undefined;
  } catch (e) {
    return e as Error;
  } finally {
    trainer.dispose();
    net.dispose();
  }
}

describe("reliability: files tsml writes, tsml reads (issue 24)", function () {
  this.timeout(60_000);
  const root = tempDir("tsml-files-");
  before(async () => {
    await initBackend();
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("12. convert of a state dict with a tensor named __metadata__ is refused naming the file; no model.safetensors is written", async () => {
    const source = path.join(root, "12-model");
    fs.mkdirSync(source);
    fs.copyFileSync(fixturePath("longformer-hf", "b_padding_unaligned", "config.json"), path.join(source, "config.json"));
    const bin = path.join(source, "pytorch_model.bin");
    fs.writeFileSync(bin, checkpoint(oneTensorPickle(2, undefined, "__metadata__"), [["0", new Uint8Array(new Float32Array([1, 2]).buffer)]]));
    const out = path.join(root, "12-out");
    const run = await runCli(["convert", "--model", source, "--out", out]);
    assert.equal(run.code, 1, run.output);
    assert.ok(run.output.includes(`${bin}: safetensors: a tensor is named "__metadata__", the key the format reserves`), run.output);
    assert.deepEqual(fs.readdirSync(out), [], "nothing was written");
  });

  it("13. trainer_state.json saying step 7 inside checkpoint-10 is refused naming both; log.jsonl is left as it was", async () => {
    const dir = path.join(root, "13");
    assert.equal(await train({ outputDir: dir }), undefined);
    const stateFile = path.join(dir, "checkpoint-10", "trainer_state.json");
    fs.writeFileSync(stateFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(stateFile, "utf8")), globalStep: 7 }));
    const log = fs.readFileSync(path.join(dir, "log.jsonl"), "utf8");
    const error = await train({ outputDir: dir, maxSteps: 12, resumeFrom: "last" });
    assert.ok(error, "the resume was refused");
    assert.equal(
      error.message,
      `checkpoint ${path.join(dir, "checkpoint-10")}: trainer_state.json says step 7, the folder name says step 10; the checkpoint is not consistent, delete it to resume from an older one`,
    );
    assert.equal(fs.readFileSync(path.join(dir, "log.jsonl"), "utf8"), log);
  });

  it("14. a full disk while checkpointing names the file and the step, removes its temporary files, and resume still works", async function () {
    const mount = path.join(root, "14-tmpfs");
    fs.mkdirSync(mount);
    if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mount]).status !== 0) return this.skip(); // needs root
    try {
      const dir = path.join(mount, "out");
      const net = softmaxRegression(randomInit(3, 2, 1));
      const trainer = new Trainer({ model: net.model, trainData: arrayData(x, y), args: { ...ARGS, maxSteps: 5, outputDir: dir } });
      await trainer.train();
      // Fill the disk.
      const filler = fs.openSync(path.join(mount, "filler"), "w");
      const chunk = Buffer.alloc(4096, 1);
      try {
        for (;;) fs.writeSync(filler, chunk);
      } catch (e) {
        assert.equal((e as NodeJS.ErrnoException).code, "ENOSPC");
      } finally {
        fs.closeSync(filler);
      }
      assert.throws(
        () => trainer.saveCheckpoint(),
        (e: Error) => {
          assert.match(
            e.message,
            /^checkpoint of step 5 not saved: cannot write .*\/\.checkpoint-5\.\d+\.tmp\/model\.safetensors: ENOSPC: no space left on device, write; .*checkpoint-5 is still the last checkpoint$/,
          );
          return true;
        },
      );
      const report = path.join(mount, "report.html");
      assert.throws(
        () => writeFileAtomic(report, Buffer.alloc(100_000)),
        new RegExp(`^Error: cannot write ${report.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: ENOSPC`),
      );
      const leftovers = fs
        .readdirSync(mount, { recursive: true })
        .map(String)
        .filter((f) => f.includes(".tmp"));
      assert.deepEqual(leftovers, [], "no temporary file or folder is left");
      trainer.dispose();
      net.dispose();
      fs.rmSync(path.join(mount, "filler"));
      assert.equal(readLastCheckpoint(dir)?.step, 5);
      assert.equal(await train({ outputDir: dir, maxSteps: 6, resumeFrom: "last" }), undefined, "resumes from checkpoint-5");
      assert.equal(fs.readFileSync(path.join(dir, LAST_CHECKPOINT_FILE), "utf8").trim(), "checkpoint-6");
    } finally {
      spawnSync("umount", [mount]);
    }
  });

  it("symlinkAtomic replaces an existing link whole and leaves no temporary link, also when the rename fails", () => {
    const folder = tempDir("tsml-symlink-");
    const link = path.join(folder, "model.safetensors");
    symlinkAtomic("old-blob", link);
    symlinkAtomic("new-blob", link);
    assert.equal(fs.readlinkSync(link), "new-blob");
    const taken = path.join(folder, "a-folder");
    fs.mkdirSync(path.join(taken, "inside"), { recursive: true });
    assert.throws(() => symlinkAtomic("blob", taken), /EISDIR|ENOTDIR|ENOTEMPTY|EEXIST/);
    assert.deepEqual(fs.readdirSync(folder).sort(), ["a-folder", "model.safetensors"], "no temporary link is left");
  });

  describe("16. unclear messages about files and arguments", () => {
    it("learningRate: Infinity says Infinity, not null", () => {
      assert.throws(
        () => resolveTrainingArguments({ learningRate: Infinity }),
        /^Error: TrainingArguments\.learningRate must be a finite number >= 0, got Infinity$/,
      );
    });

    it("resumeFrom a missing folder says the folder does not exist, not that model.safetensors is missing", async () => {
      const missing = path.join(root, "16-none", "checkpoint-3");
      const error = await train({ resumeFrom: missing });
      assert.match(error?.message ?? "", new RegExp(`^checkpoint ${missing.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: no such folder`));
    });

    it("a NaN weight inside a Trainer checkpoint is blamed on the checkpoint, naming the tensor", async () => {
      const dir = path.join(root, "16-nan");
      assert.equal(await train({ outputDir: dir }), undefined);
      const file = path.join(dir, "checkpoint-10", "model.safetensors");
      const saved = readSafetensorsFile(file);
      const tensors = Object.fromEntries(
        [...saved.tensors].map(([name, entry]) => [name, { dtype: entry.dtype, shape: entry.shape, data: toFloat32Array(entry, name) }]),
      );
      const [first] = Object.keys(tensors).sort();
      tensors[first].data[1] = NaN;
      writeSafetensorsFile(file, tensors, saved.metadata);
      const error = await train({ outputDir: dir, maxSteps: 12, resumeFrom: "last" });
      assert.equal(
        error?.message,
        `${file}: "${first}" holds NaN at index 1; the checkpoint is damaged (training saves only finite values), resume from an older one`,
      );
    });

    it("a label column named __proto__ is read from the row, not from Object.prototype", () => {
      const file = path.join(root, "16-proto.csv");
      fs.writeFileSync(file, "text,__proto__\na,spam\nb,ham\nc,spam\n");
      const ds = loadTextDataset(file, { labelColumn: "__proto__" });
      assert.deepEqual(ds.labelNames, ["ham", "spam"]);
      assert.deepEqual(ds.labels, [1, 0, 1]);
    });
  });
});
