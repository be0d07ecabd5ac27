/** The training dashboard as a Trainer callback (outside a kernel: widgets keep their state locally). */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { Trainer } from "../../src/train";
import { trainingDashboard } from "../../src/widgets";
import { tempDir } from "../helpers";
import { arrayData, randomClassification, randomInit, softmaxRegression } from "../train/tinyModels";

const { x, y } = randomClassification(40, 4, 2, 31);
const VEGA_LITE = "application/vnd.vegalite.v5+json";

/** The smoothing parameter of the chart the dashboard shows now. */
function chartSmoothing(outputs: Record<string, unknown>[]): number {
  assert.equal(outputs.length, 1, "the chart output holds one display");
  const spec = (outputs[0].data as Record<string, { params: { name: string; value: number }[] }>)[VEGA_LITE];
  return spec.params.find((p) => p.name === "smoothing")!.value;
}

describe("widgets/dashboard", function () {
  this.timeout(60000);
  before(async () => {
    await initBackend();
  });

  it("Stop ends training after the running step: stoppedReason says so, the history and checkpoint of that step are kept", async () => {
    const dir = tempDir();
    const m = softmaxRegression(randomInit(4, 2, 32));
    const dashboard = trainingDashboard({ chart: { minIntervalMs: 0 } });
    const tensorCounts: number[] = [];
    const trainer = new Trainer({
      model: m.model,
      trainData: arrayData(x, y),
      args: { perDeviceBatchSize: 4, maxSteps: 20, loggingSteps: 5, saveSteps: 5, outputDir: dir, progress: "none", learningRate: 0.05 },
      callbacks: [dashboard, { onStepEnd: (info) => void (tensorCounts.push(tf.memory().numTensors), info.step === 3 && dashboard.stop()) }],
    });
    const before = tf.memory().numTensors;
    try {
      const result = await trainer.train();
      // Pressed during step 3's callbacks: the dashboard sees it at step 4's end and training ends there.
      assert.equal(result.globalStep, 4);
      assert.match(result.stoppedReason!, /stopped from the dashboard's Stop button after step 4/);
      assert.deepEqual(
        trainer.history.records.map((r) => r.step),
        [4],
        "the stopping step is logged",
      );
      assert.equal(fs.readFileSync(path.join(dir, "last-checkpoint"), "utf8").trim(), "checkpoint-4", "the stopping step is checkpointed");
      assert.deepEqual([dashboard.progress.value, dashboard.progress.max], [4, 20]);
      assert.match(dashboard.status.value, /^step 4\/20 · loss [0-9.]+ · [0-9.]+ examples\/s · stopped$/);
      assert.deepEqual([dashboard.stopButton.disabled, dashboard.stopButton.description], [true, "Stopped"]);
      assert.equal(tensorCounts.length, 4);
      assert.ok(
        tensorCounts.every((n) => n === tensorCounts[0]),
        `tensor counts per step: ${tensorCounts.join(",")}`,
      );
      assert.equal(tf.memory().numTensors, before, "the dashboard's training path leaks no tensor");
    } finally {
      trainer.dispose();
      m.dispose();
    }
  });

  it("shows the live loss chart (Vega-Lite and SVG) and re-smooths it in place when the slider moves", async () => {
    const m = softmaxRegression(randomInit(4, 2, 33));
    const dashboard = trainingDashboard({ smoothing: 0.6 });
    const trainer = new Trainer({
      model: m.model,
      trainData: arrayData(x, y),
      args: { perDeviceBatchSize: 4, maxSteps: 6, progress: "none" },
      callbacks: [dashboard],
    });
    try {
      await trainer.train();
      const outputs = dashboard.chart.outputs;
      assert.equal(chartSmoothing(outputs), 0.6);
      assert.match(String(outputs[0].data && (outputs[0].data as Record<string, unknown>)["image/svg+xml"]), /^<svg/);
      const rows = (outputs[0].data as Record<string, { data: { values: unknown[] } }>)[VEGA_LITE].data.values;
      assert.equal(rows.length, trainer.history.records.length);
      dashboard.smoothing.value = 0.9;
      await new Promise((resolve) => setImmediate(resolve));
      await waitUntil(() => chartSmoothing(dashboard.chart.outputs) === 0.9);
      assert.equal(dashboard.stopButton.description, "Done");
    } finally {
      trainer.dispose();
      m.dispose();
    }
  });
});

/** Polls `condition` until it holds (the re-render runs asynchronously after the slider's change). */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition());
}
