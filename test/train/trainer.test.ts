import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import {
  classificationMetrics,
  classifierFromLayersModel,
  createProgressReporter,
  earlyStopping,
  formatProgressLine,
  smoothLoss,
  Trainer,
  TrainingDivergedError,
  type ClassifierBatch,
  type TrainingArguments,
  type TrainingData,
} from "../../src/train";
import { tempDir } from "../helpers";
import { arrayData, fixedSampler, randomClassification, randomInit, softmaxRegression } from "./tinyModels";

const { x, y } = randomClassification(40, 4, 2, 21);
const init = randomInit(4, 2, 22);

/** Trains a fresh softmax regression; returns the trainer (disposed) and its per-step losses. */
async function trainTiny(args: Partial<TrainingArguments>, extra: Partial<ConstructorParameters<typeof Trainer<ClassifierBatch>>[0]> = {}) {
  const m = softmaxRegression(init);
  const trainer = new Trainer({ model: m.model, trainData: arrayData(x, y), ...extra, args: { learningRate: 0.05, progress: "none", ...args } });
  try {
    const result = await trainer.train();
    return { trainer, result, losses: trainer.stepLosses.slice(), params: [...m.weight.dataSync(), ...m.bias.dataSync()] };
  } finally {
    trainer.dispose();
    m.dispose();
  }
}

describe("train/trainer", function () {
  this.timeout(60000);
  before(async () => {
    await initBackend();
  });

  it("is deterministic: same seed gives identical losses, another seed another data order", async () => {
    const args = { perDeviceBatchSize: 3, gradientAccumulationSteps: 2, epochs: 2, seed: 5 };
    const a = await trainTiny(args);
    const b = await trainTiny(args);
    const c = await trainTiny({ ...args, seed: 6 });
    assert.equal(a.losses.length, 2 * Math.ceil(Math.ceil(40 / 3) / 2));
    assert.deepEqual(a.losses, b.losses);
    assert.deepEqual(a.params, b.params);
    assert.notDeepEqual(a.losses, c.losses);
  });

  it("keeps tf.memory().numTensors flat across steps (accumulation, clipping, eval) and after dispose", async () => {
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    await trainTiny(
      { perDeviceBatchSize: 4, gradientAccumulationSteps: 3, maxSteps: 12, evalSteps: 4, maxGradNorm: 0.1, weightDecay: 0.01 },
      { evalData: arrayData(x.slice(0, 10), y.slice(0, 10)), callbacks: [{ onStepEnd: () => void counts.push(tf.memory().numTensors) }] },
    );
    assert.equal(counts.length, 12);
    assert.ok(
      counts.every((n) => n === counts[0]),
      `tensor counts per step: ${counts.join(",")}`,
    );
    assert.equal(tf.memory().numTensors, before, "everything released after dispose");
  });

  it("writes history records, log.jsonl (one line per record) and a danfojs DataFrame", async () => {
    const dir = tempDir();
    const logged: number[] = [];
    const { trainer } = await trainTiny(
      {
        perDeviceBatchSize: 4,
        gradientAccumulationSteps: 2,
        maxSteps: 10,
        loggingSteps: 2,
        evalSteps: 5,
        outputDir: dir,
        fluctuationWindow: 4,
        smoothingWeight: 0.5,
      },
      { evalData: arrayData(x, y), callbacks: [{ onLog: (r, h) => void logged.push(r.step, h.length) }] },
    );
    const records = trainer.history.records;
    assert.deepEqual(
      records.map((r) => r.step),
      [2, 4, 5, 6, 8, 10],
    );
    assert.deepEqual(logged, [2, 1, 4, 2, 5, 3, 6, 4, 8, 5, 10, 6]);
    const lines = fs
      .readFileSync(path.join(dir, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines, JSON.parse(JSON.stringify(records)));
    // loss = mean raw step loss since the previous record; smoothed = TensorBoard EMA of the logged losses
    const raw = trainer.stepLosses;
    assert.ok(Math.abs(records[0].loss - (raw[0] + raw[1]) / 2) < 1e-12);
    assert.ok(Math.abs(records[2].loss - raw[4]) < 1e-12);
    smoothLoss(
      records.map((r) => r.loss),
      0.5,
    ).forEach((s, i) => assert.ok(Math.abs(records[i].smoothedLoss - s) < 1e-12));
    // rolling std over the last 4 raw step losses at step 8
    const w = raw.slice(4, 8);
    const mean = w.reduce((a, b) => a + b, 0) / 4;
    const std = Math.sqrt(w.reduce((a, v) => a + (v - mean) ** 2, 0) / 3);
    assert.ok(Math.abs(records[4].lossStd! - std) < 1e-12);
    assert.ok(Math.abs(records[4].lossCv! - std / mean) < 1e-12);
    assert.equal(records[4].examplesSeen, 8 * 8);
    assert.ok(records.every((r) => r.learningRate >= 0 && r.gradNorm > 0 && r.examplesPerSecond > 0));
    // Two micro-batches per step give the noise-scale estimator two batch sizes: an estimate exists by the last
    // record, and each record carries the estimate of its step (finite) or null.
    const lastNoise = trainer.noiseScale;
    assert.ok(lastNoise !== undefined && Number.isFinite(lastNoise), `a noise-scale estimate after 10 steps, got ${lastNoise}`);
    assert.equal(records[records.length - 1].noiseScale, lastNoise);
    assert.ok(
      records.every((r) => r.noiseScale === null || Number.isFinite(r.noiseScale)),
      JSON.stringify(records.map((r) => r.noiseScale)),
    );
    assert.ok(records[2].eval_accuracy >= 0 && records[5].eval_f1 !== undefined && records[0].eval_loss === undefined);
    const frame = trainer.historyFrame();
    assert.deepEqual(frame.shape, [6, Object.keys(records[2]).length]);
    assert.deepEqual(frame.column("step").values, [2, 4, 5, 6, 8, 10]);
    assert.ok(Number.isNaN((frame.column("eval_loss").values as number[])[0]));
  });

  it("evaluate() on a LayersModel agrees with metrics computed from model.predict by hand", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [4], activation: "relu" }), tf.layers.dense({ units: 2 })] });
    const classifier = classifierFromLayersModel(model);
    const data = arrayData(x, y);
    const trainer = new Trainer({ model: classifier, trainData: data, args: { learningRate: 0.01, maxSteps: 5, progress: "none" } });
    await trainer.train();
    const result = trainer.evaluate(data, 7);
    const predicted = tf.tidy(() => (model.predict(tf.tensor2d(x)) as tf.Tensor).argMax(-1).dataSync());
    const expected = classificationMetrics(y, Array.from(predicted), 2);
    assert.deepEqual(result.confusionMatrix, expected.confusionMatrix);
    assert.equal(result.f1, expected.f1);
    const logits = tf.tidy(() => (model.predict(tf.tensor2d(x)) as tf.Tensor).arraySync() as number[][]);
    const ce = logits.reduce((s, l, i) => s + Math.log(Math.exp(l[0]) + Math.exp(l[1])) - l[y[i]], 0) / x.length;
    assert.ok(Math.abs(result.loss - ce) < 1e-5, `${result.loss} vs ${ce}`);
    trainer.dispose();
    model.dispose();
    const softmaxModel = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4], activation: "softmax" })] });
    assert.throws(() => classifierFromLayersModel(softmaxModel), /applies softmax; the model must output logits/);
    softmaxModel.dispose();
  });

  it("early stopping ends training after `patience` evaluations without improvement", async () => {
    const { result, trainer } = await trainTiny(
      { perDeviceBatchSize: 8, learningRate: 0, maxSteps: 50, evalSteps: 2 },
      { evalData: arrayData(x, y), callbacks: [earlyStopping({ metric: "loss", patience: 3 })] },
    );
    // lr 0: the eval loss never improves after the first evaluation (step 2); evaluations at 4, 6, 8 exhaust patience
    assert.equal(result.globalStep, 8);
    assert.match(result.stoppedReason!, /early stopping at step 8: eval loss did not improve/);
    assert.equal(trainer.history.records.at(-1)!.step, 8);
  });

  it("a NaN loss stops training naming the step and the last finite loss; the last checkpoint stays", async () => {
    const dir = tempDir();
    const poisoned = x.map((row, i) => (i === 30 ? [NaN, ...row.slice(1)] : row));
    const order = Array.from({ length: 40 }, (_, i) => [i]);
    const m = softmaxRegression(init);
    const trainer = new Trainer({
      model: m.model,
      trainData: arrayData(poisoned, y, fixedSampler(order)),
      args: { perDeviceBatchSize: 1, gradientAccumulationSteps: 4, maxSteps: 10, saveSteps: 3, outputDir: dir, progress: "none", learningRate: 0.01 },
    });
    const before = tf.memory().numTensors;
    await assert.rejects(trainer.train(), (e: unknown) => {
      assert.ok(e instanceof TrainingDivergedError);
      assert.equal(e.step, 8); // example 30 is in micro-batches 28..31 = step 8
      assert.equal(e.lastFinite!.step, 7);
      assert.equal(e.lastFinite!.loss, trainer.stepLosses[6]);
      assert.match(e.message, /diverged at step 8: loss or gradient norm is NaN; last finite loss [0-9.e-]+ at step 7/);
      return true;
    });
    assert.equal(tf.memory().numTensors, before, "no tensors leaked on the error path");
    assert.equal(fs.readFileSync(path.join(dir, "last-checkpoint"), "utf8").trim(), "checkpoint-6");
    assert.ok(m.weight.dataSync().every(Number.isFinite), "the failing step was not applied");
    trainer.dispose();
    m.dispose();
  });

  it("shows a throttled live display in a notebook (at most every 0.5 s) ending at the last step", async () => {
    // A fake clock that advances only with the steps (100 ms each): the throttle is checked without wall-clock time.
    const stepMs = 100;
    const steps = 60;
    let now = 0;
    const shown: { kind: string; text: string; at: number }[] = [];
    const g = globalThis as { __tsmlKernel?: unknown };
    g.__tsmlKernel = {
      display: (b: Record<string, unknown>) => void shown.push({ kind: "display", text: String(b["text/plain"]), at: now }),
      update: (b: Record<string, unknown>) => void shown.push({ kind: "update", text: String(b["text/plain"]), at: now }),
    };
    const realNow = Date.now;
    Date.now = () => now;
    try {
      await trainTiny({ perDeviceBatchSize: 2, maxSteps: steps, progress: "auto" }, { callbacks: [{ onStepEnd: () => void (now += stepMs) }] });
    } finally {
      Date.now = realNow;
      delete g.__tsmlKernel;
    }
    assert.equal(shown[0].kind, "display");
    assert.ok(shown.slice(1).every((s) => s.kind === "update"));
    const gaps = shown.slice(1, -1).map((s, i) => s.at - shown[i].at); // the last one is the final flush
    assert.equal(gaps.length, shown.length - 2);
    assert.ok(
      gaps.every((gap) => gap >= 500),
      `gaps between updates: ${gaps}`,
    );
    const span = steps * stepMs;
    assert.ok(shown.length <= span / 500 + 2 && shown.length >= span / 500 - 1, `${shown.length} displays in ${span} ms of steps`);
    assert.match(shown.at(-1)!.text, /^\[#{24}\] 60\/60 100%/);
  });

  it("draws a progress bar on a terminal stream and nothing on a non-terminal one", async () => {
    const written: string[] = [];
    const fakeStream = (isTTY: boolean) => ({ isTTY, write: (s: string) => void written.push(s) }) as unknown as NodeJS.WriteStream;
    const info = { step: 1, totalSteps: 2, epoch: 0.5, loss: 1, learningRate: 0.1, examplesPerSecond: 10, elapsedSeconds: 1 };
    const silent = createProgressReporter("auto", fakeStream(false));
    await silent.update(info);
    await silent.close();
    assert.deepEqual(written, []);
    const bar = createProgressReporter("auto", fakeStream(true));
    await bar.update(info);
    await bar.update({ ...info, step: 2 }); // within 100 ms: held back, shown by close()
    await bar.close();
    assert.deepEqual(written, [`\r${formatProgressLine(info)}\x1b[K`, `\r${formatProgressLine({ ...info, step: 2 })}\x1b[K`, "\n"]);
  });

  it("formats a progress line", () => {
    const line = formatProgressLine(
      { step: 5, totalSteps: 10, epoch: 0.5, loss: 0.43216, learningRate: 1e-4, examplesPerSecond: 12.34, elapsedSeconds: 65 },
      10,
    );
    assert.equal(line, "[#####-----] 5/10 50% | epoch 0.50 | loss 0.4322 | lr 1.0e-4 | 12.3 ex/s | 1m05s<1m05s");
  });

  it("makes a LayersModel with dropout reproducible: same seed, same losses", async () => {
    const losses = async (seed: number, rate: number) => {
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ units: 16, inputShape: [4], activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
          tf.layers.dropout({ rate }),
          tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      const trainer = new Trainer({
        model: classifierFromLayersModel(model),
        trainData: arrayData(x, y),
        args: { perDeviceBatchSize: 4, maxSteps: 6, seed, learningRate: 0.01, progress: "none" },
      });
      await trainer.train();
      trainer.dispose();
      model.dispose();
      return trainer.stepLosses.slice();
    };
    const globalRandom = Math.random;
    const a = await losses(1, 0.5);
    assert.deepEqual(await losses(1, 0.5), a);
    assert.notDeepEqual(await losses(1, 0), a, "dropout is active in training");
    assert.equal(Math.random, globalRandom, "the seeded Math.random used for dropout is removed again after training");
  });

  it("hands the model a seed from its own RNG before every micro-batch, reproducibly", async () => {
    const seeds: number[][] = [[], []];
    for (const run of [0, 1]) {
      const m = softmaxRegression(init);
      const data: TrainingData<ClassifierBatch> = arrayData(x, y);
      const trainer = new Trainer({
        model: { ...m.model, setRandomSeed: (s) => void seeds[run].push(s) },
        trainData: data,
        args: { perDeviceBatchSize: 5, gradientAccumulationSteps: 2, maxSteps: 3, progress: "none" },
      });
      await trainer.train();
      trainer.dispose();
      m.dispose();
    }
    assert.equal(seeds[0].length, 6);
    assert.deepEqual(seeds[0], seeds[1]);
    assert.equal(new Set(seeds[0]).size, 6);
  });
});
