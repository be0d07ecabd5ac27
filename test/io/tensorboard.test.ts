/**
 * TensorBoard event files: CRC-32C against published test vectors, byte equality with an event file written by
 * TensorBoard's own code (test/fixtures/tensorboard), CRC checks on read, the Trainer callback, and — when a
 * Python with the `tensorboard` package is available (TSML_TENSORBOARD_PYTHON, else python3) — TensorBoard's
 * own EventAccumulator reading what tsml wrote.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { initBackend } from "../../src/backend";
import { crc32c, encodeTFRecord, readTFRecords, readTensorBoardEvents, TensorBoardEventWriter } from "../../src/io";
import { Trainer, tensorBoardCallback } from "../../src/train";
import { fixturePath, tempDir } from "../helpers";
import { arrayData, randomClassification, randomInit, softmaxRegression } from "../train/tinyModels";

/** The events of test/fixtures/tensorboard/golden.tfevents (see its README). */
const GOLDEN: { wallTime: number; step: number; scalars: [string, number][] | null }[] = [
  { wallTime: 1700000000.25, step: 0, scalars: null },
  {
    wallTime: 1700000001.5,
    step: 1,
    scalars: [
      ["train/loss", 0.6931471805599453],
      ["train/learning_rate", 1e-4],
    ],
  },
  {
    wallTime: 1700000002.75,
    step: 2,
    scalars: [
      ["train/loss", 0.5],
      ["train/grad_norm", 3.25],
      ["eval/f1", 0.875],
    ],
  },
  {
    wallTime: 1700000003.0,
    step: 3000000000,
    scalars: [
      ["train/noise_scale", 1234.5678],
      ["train/smoothed_loss", -0.0],
    ],
  },
  {
    wallTime: 1700000004.125,
    step: 7,
    scalars: [
      ["train/loss", 0.0],
      ["eval/accuracy", 1.0],
    ],
  },
];

/** A clock returning the given times in turn. */
function clock(times: number[]): () => number {
  let i = 0;
  return () => times[i++];
}

describe("TensorBoard event files", () => {
  it("CRC-32C matches the published check value and RFC 3720 (B.4) vectors", () => {
    assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });

  it("writes the same bytes as TensorBoard's own writer for the same events", () => {
    const dir = tempDir();
    try {
      const writer = new TensorBoardEventWriter(dir, { now: clock(GOLDEN.map((e) => e.wallTime)) });
      for (const event of GOLDEN.slice(1)) writer.addScalars(event.step, Object.fromEntries(event.scalars!));
      writer.close();
      assert.match(path.basename(writer.file), /^events\.out\.tfevents\.1700000000\./);
      assert.deepEqual(fs.readFileSync(writer.file), fs.readFileSync(fixturePath("tensorboard", "golden.tfevents")));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads TensorBoard's file back: versions, int64 steps, float32 values", () => {
    const events = readTensorBoardEvents(fixturePath("tensorboard", "golden.tfevents"));
    assert.equal(events.length, GOLDEN.length);
    events.forEach((event, i) => {
      assert.equal(event.wallTime, GOLDEN[i].wallTime);
      assert.equal(event.step, GOLDEN[i].step);
      if (GOLDEN[i].scalars === null) {
        assert.equal(event.fileVersion, "brain.Event:2");
        assert.equal(event.scalars.length, 0);
      } else {
        assert.deepEqual(
          event.scalars,
          GOLDEN[i].scalars.map(([tag, value]) => ({ tag, value: Math.fround(value) })),
        );
      }
    });
  });

  it("detects a flipped byte (CRC) and tolerates a torn last record", () => {
    const dir = tempDir();
    try {
      const golden = fs.readFileSync(fixturePath("tensorboard", "golden.tfevents"));
      const corrupt = Buffer.from(golden);
      corrupt[20] ^= 0x01; // inside the first record's payload (bytes 12..35)
      fs.writeFileSync(path.join(dir, "corrupt"), corrupt);
      assert.throws(() => readTensorBoardEvents(path.join(dir, "corrupt")), /corrupt: TFRecord at byte 0: data CRC mismatch/);
      fs.writeFileSync(path.join(dir, "torn"), golden.subarray(0, golden.length - 3));
      const torn = readTFRecords(path.join(dir, "torn"));
      assert.equal(torn.truncated, true);
      assert.equal(torn.records.length, GOLDEN.length - 1);
      const one = encodeTFRecord(new Uint8Array([1, 2, 3]));
      assert.equal(one.length, 8 + 4 + 3 + 4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the Trainer callback writes one event per history record with every scalar", async () => {
    await initBackend();
    const dir = tempDir();
    const { x, y } = randomClassification(24, 3, 2, 5);
    const m = softmaxRegression(randomInit(3, 2, 6));
    const trainer = new Trainer({
      model: m.model,
      trainData: arrayData(x, y),
      evalData: arrayData(x, y),
      args: { perDeviceBatchSize: 4, gradientAccumulationSteps: 2, maxSteps: 6, loggingSteps: 2, evalSteps: 3, learningRate: 0.05, progress: "none" },
      callbacks: [tensorBoardCallback(path.join(dir, "tensorboard"))],
    });
    try {
      await trainer.train();
      const files = fs.readdirSync(path.join(dir, "tensorboard"));
      assert.equal(files.length, 1);
      assert.match(files[0], /^events\.out\.tfevents\.\d+\./);
      const events = readTensorBoardEvents(path.join(dir, "tensorboard", files[0]));
      const records = trainer.history.records;
      assert.equal(events.length, 1 + records.length);
      assert.equal(events[0].fileVersion, "brain.Event:2");
      records.forEach((record, i) => {
        const event = events[i + 1];
        assert.equal(event.step, record.step);
        const byTag = new Map(event.scalars.map((s) => [s.tag, s.value]));
        assert.equal(byTag.get("train/loss"), Math.fround(record.loss));
        assert.equal(byTag.get("train/smoothed_loss"), Math.fround(record.smoothedLoss));
        assert.equal(byTag.get("train/learning_rate"), Math.fround(record.learningRate));
        assert.equal(byTag.get("train/grad_norm"), Math.fround(record.gradNorm));
        assert.equal(byTag.get("train/noise_scale"), record.noiseScale === null ? undefined : Math.fround(record.noiseScale));
        assert.equal(byTag.get("eval/f1"), record.eval_f1 === undefined ? undefined : Math.fround(record.eval_f1));
      });
      assert.ok(
        records.some((r) => r.eval_f1 !== undefined),
        "an evaluation was logged",
      );
    } finally {
      trainer.dispose();
      m.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("TensorBoard's own EventAccumulator reads tsml's files (only where Python has the tensorboard package)", function () {
    const python = process.env.TSML_TENSORBOARD_PYTHON ?? "python3";
    if (spawnSync(python, ["-c", "import tensorboard"], { stdio: "ignore" }).status !== 0) {
      this.skip();
      return;
    }
    const dir = tempDir();
    try {
      const writer = new TensorBoardEventWriter(path.join(dir, "run-a"));
      const expected: Record<string, [number, number][]> = { "train/loss": [], "eval/f1": [] };
      for (let step = 1; step <= 20; step++) {
        const loss = 1 / step;
        writer.addScalars(step, { "train/loss": loss, "eval/f1": step % 5 === 0 ? step / 20 : null });
        expected["train/loss"].push([step, Math.fround(loss)]);
        if (step % 5 === 0) expected["eval/f1"].push([step, Math.fround(step / 20)]);
      }
      writer.close();
      const script = [
        "import json, sys",
        "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator",
        "acc = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0})",
        "acc.Reload()",
        "print(json.dumps({t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()['scalars']}))",
      ].join("\n");
      const out = spawnSync(python, ["-c", script, path.join(dir, "run-a")], { encoding: "utf8" });
      assert.equal(out.status, 0, out.stderr);
      assert.deepEqual(JSON.parse(out.stdout.trim().split("\n").pop()!), expected);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
