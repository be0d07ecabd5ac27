import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { readSafetensorsFile, toFloat32Array } from "../../src/io";
import { listCheckpoints, Trainer, type TrainerCallback, type TrainingArguments, type TrainingLogRecord } from "../../src/train";
import { tempDir } from "../helpers";
import { arrayData, randomClassification, randomInit, softmaxRegression } from "./tinyModels";

const { x, y } = randomClassification(40, 4, 3, 31);
const args: Partial<TrainingArguments> = {
  perDeviceBatchSize: 3,
  gradientAccumulationSteps: 2,
  maxSteps: 16,
  learningRate: 0.05,
  weightDecay: 0.01,
  warmupSteps: 2,
  lrSchedule: "cosine",
  loggingSteps: 1,
  saveSteps: 5,
  saveTotalLimit: 3,
  seed: 9,
  progress: "none",
};

/** Runs a Trainer with `extra` arguments and returns its losses, dropout seeds, history and final parameters. */
async function run(extra: Partial<TrainingArguments>, initSeed: number, callbacks: TrainerCallback[] = []) {
  const m = softmaxRegression(randomInit(4, 3, initSeed));
  const seeds: number[] = [];
  const trainer = new Trainer({
    model: { ...m.model, setRandomSeed: (s) => void seeds.push(s) },
    trainData: arrayData(x, y),
    args: { ...args, ...extra },
    callbacks,
  });
  try {
    await trainer.train();
    return { losses: trainer.stepLosses.slice(), seeds, records: trainer.history.records.slice(), params: [...m.weight.dataSync(), ...m.bias.dataSync()] };
  } finally {
    trainer.dispose();
    m.dispose();
  }
}

/** History records without the wall-clock field. */
const withoutTiming = (records: TrainingLogRecord[]) => records.map(({ examplesPerSecond: _, ...r }) => r);

describe("train/checkpoint: save, keep last K, resume exactly", function () {
  this.timeout(60000);
  before(async () => {
    await initBackend();
  });

  it("writes weights, Adam moments and state atomically, keeps the last K, and points last-checkpoint at the newest", async () => {
    const dir = tempDir();
    const m = softmaxRegression(randomInit(4, 3, 1));
    const trainer = new Trainer({ model: m.model, trainData: arrayData(x, y), args: { ...args, outputDir: dir } });
    await trainer.train();
    assert.deepEqual(
      listCheckpoints(dir).map((c) => c.step),
      [10, 15, 16],
    );
    assert.equal(fs.readFileSync(path.join(dir, "last-checkpoint"), "utf8").trim(), "checkpoint-16");
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes("tmp")),
      [],
    );
    const last = path.join(dir, "checkpoint-16");
    assert.deepEqual(fs.readdirSync(last).sort(), ["model.safetensors", "optimizer.safetensors", "trainer_state.json"]);
    const weights = readSafetensorsFile(path.join(last, "model.safetensors"));
    assert.deepEqual(Array.from(toFloat32Array(weights.tensors.get(m.weight.name)!)), Array.from(m.weight.dataSync()));
    const optimizer = readSafetensorsFile(path.join(last, "optimizer.safetensors"));
    assert.equal(optimizer.metadata.step, "16");
    assert.deepEqual(optimizer.tensors.get(`exp_avg_sq/${m.bias.name}`)!.shape, [3]);
    const state = JSON.parse(fs.readFileSync(path.join(last, "trainer_state.json"), "utf8"));
    // 40 examples in micro-batches of 3 -> 14 per epoch, 7 steps per epoch: step 16 is 2 micro-batches into epoch 2
    assert.deepEqual([state.globalStep, state.epoch, state.microBatchInEpoch, state.stepLosses.length], [16, 2, 4, 16]);
    trainer.dispose();
    m.dispose();
  });

  it("resuming from an interrupted run reproduces the uninterrupted run's losses, seeds and weights exactly", async () => {
    const reference = await run({}, 1);
    const dir = tempDir();
    // Interrupt after step 10 (mid-epoch: step 10 is 3 steps into epoch 1); stopping writes a checkpoint.
    const stopAt10: TrainerCallback = { onStepEnd: (info, control) => (info.step === 10 ? control.stop("interrupted") : undefined) };
    const interrupted = await run({ outputDir: dir, saveSteps: 4 }, 1, [stopAt10]);
    assert.equal(interrupted.losses.length, 10);
    assert.equal(fs.readFileSync(path.join(dir, "last-checkpoint"), "utf8").trim(), "checkpoint-10");
    // A fresh model with DIFFERENT initial weights: everything must come from the checkpoint.
    const resumed = await run({ outputDir: dir, saveSteps: 4, resumeFrom: "last" }, 2);
    assert.deepEqual(resumed.losses, reference.losses);
    assert.deepEqual(resumed.params, reference.params);
    assert.deepEqual([...interrupted.seeds, ...resumed.seeds], reference.seeds);
    assert.deepEqual(withoutTiming(resumed.records), withoutTiming(reference.records));
    const logged = fs
      .readFileSync(path.join(dir, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).step);
    assert.deepEqual(
      logged,
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
  });

  it("resuming from an explicit earlier checkpoint (not the newest) also continues exactly", async () => {
    const dir = tempDir();
    const full = await run({ outputDir: dir }, 1);
    const resumed = await run({ outputDir: tempDir(), resumeFrom: path.join(dir, "checkpoint-15") }, 3);
    assert.deepEqual(resumed.losses, full.losses);
    assert.deepEqual(resumed.params, full.params);
  });

  it("refuses a checkpoint of another model or another seed with a clear error", async () => {
    const dir = tempDir();
    await run({ outputDir: dir, maxSteps: 5 }, 1);
    const other = tf.tidy(() => tf.variable(tf.zeros([5, 3]), true, "other_shape"));
    const bias = tf.tidy(() => tf.variable(tf.zeros([3]), true, "other_bias"));
    const model = softmaxRegression(randomInit(4, 3, 1)).model;
    const wrongShape = new Trainer({
      model: { ...model, trainableVariables: () => [other, bias] },
      trainData: arrayData(x, y),
      args: { ...args, maxSteps: 5, outputDir: dir, resumeFrom: "last" },
    });
    await assert.rejects(wrongShape.train(), /model.safetensors: "weight_\d+" has shape \[4,3\], variable other_shape has \[5,3\]/);
    wrongShape.dispose();
    tf.dispose([other, bias, ...model.trainableVariables()]);
    await assert.rejects(run({ outputDir: dir, maxSteps: 5, resumeFrom: "last", seed: 10 }, 1), /checkpoint-5: trained with seed 9, the arguments say seed 10/);
  });
});
