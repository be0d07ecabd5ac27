/** Live charts: displayed once, updated in place, throttled by time and by measured render cost. */
import * as assert from "assert";
import { KernelDisplayHook, MimeBundle } from "../../src/display";
import { liveChart, lossCurveChart, PlotRecord, RenderThrottle, VEGA_LITE_MIME } from "../../src/plots";
import { initBackend } from "../../src/backend";
import { Trainer, type TrainerCallback, type TrainingLogRecord } from "../../src/train";
import { arrayData, randomClassification, randomInit, softmaxRegression } from "../train/tinyModels";
import { testHistory } from "./support";

describe("plots: RenderThrottle", () => {
  it("keeps render time within the overhead share of elapsed time and the time floor", () => {
    const throttle = new RenderThrottle(100, 0.02);
    assert.ok(throttle.due(0), "the first render is due at once");
    throttle.rendered(0, 10); // spent 10 ms; the next render is expected to cost 10 ms too
    assert.ok(!throttle.due(999)); // (10 + 10) / 999 > 2%
    assert.ok(throttle.due(1000)); // (10 + 10) / 1000 = 2%
    throttle.rendered(1000, 1030); // costlier than expected: spent 40 ms, next expected 30 ms
    assert.ok(!throttle.due(3499) && throttle.due(3500)); // (40 + 30) / 3500 = 2%
    throttle.rendered(3500, 3500); // a free render: only the time floor applies
    assert.ok(!throttle.due(3599) && throttle.due(3600));
    assert.throws(() => new RenderThrottle(0, 1), /maxOverhead must be in \(0, 1\)/);
  });
});

describe("plots: liveChart", () => {
  const published: { kind: "display" | "update"; bundle: MimeBundle; id?: string }[] = [];
  const hook: KernelDisplayHook = {
    display: (bundle, id) => void published.push({ kind: "display", bundle, id }),
    update: (bundle, id) => void published.push({ kind: "update", bundle, id }),
    clear: () => undefined,
  };
  const global = globalThis as { __tsmlKernel?: KernelDisplayHook };
  beforeEach(() => {
    published.length = 0;
    global.__tsmlKernel = hook;
  });
  afterEach(() => delete global.__tsmlKernel);

  it("displays once, then updates the same display in place when the throttle allows", async () => {
    let clock = 0;
    const live = liveChart((h) => lossCurveChart(h), { minIntervalMs: 1000, svgUpdates: true, now: () => clock });
    const history = testHistory(50);
    for (const record of history) {
      await live.onLog(record);
      clock += 100; // 100 ms per step, renders cost 0 ms on this clock: one render per 1000 ms
    }
    assert.strictEqual(live.stats.logs, 50);
    assert.strictEqual(live.stats.renders, 5); // steps 1, 11, 21, 31, 41
    assert.strictEqual(published[0].kind, "display");
    assert.ok(published.slice(1).every((p) => p.kind === "update" && p.id === published[0].id));
    const last = published[published.length - 1].bundle[VEGA_LITE_MIME] as { data: { values: unknown[] } };
    assert.strictEqual(last.data.values.length, 41);
    await live.finish();
    const final = published[published.length - 1].bundle;
    assert.strictEqual((final[VEGA_LITE_MIME] as { data: { values: unknown[] } }).data.values.length, 50);
    assert.match(final["image/svg+xml"] as string, /^<svg/);
    assert.ok(
      published.slice(0, -1).every((p) => "image/svg+xml" in p.bundle),
      "svgUpdates: true renders SVG on updates",
    );
  });

  it("uses the trainer's own history, honours everySteps and leaves SVG out of updates with svgUpdates: false", async () => {
    let clock = 0;
    const live = liveChart((h) => lossCurveChart(h), { everySteps: 4, minIntervalMs: 0, svgUpdates: false, now: () => clock });
    const history: PlotRecord[] = [];
    for (const record of testHistory(12)) {
      history.push(record);
      await live.onLog(record, history);
      clock += 1;
    }
    assert.strictEqual(live.records.length, 0, "records come from the trainer's history");
    assert.strictEqual(live.stats.renders, 3);
    assert.ok(published.every((p) => !("image/svg+xml" in p.bundle) && VEGA_LITE_MIME in p.bundle));
  });

  it("shows a no-data chart before the first record", async () => {
    const live = liveChart((h) => lossCurveChart(h));
    await live.show();
    assert.strictEqual(published.length, 1);
    assert.match(JSON.stringify(published[0].bundle[VEGA_LITE_MIME]), /no data/);
    assert.ok(live.displayId);
  });

  it("skips renders while the measured cost allows no more than the overhead budget", async () => {
    let clock = 0;
    const slowBuilder = (h: readonly object[]) => {
      clock += 50; // each render costs 50 ms of (fake) time
      return lossCurveChart(h);
    };
    const live = liveChart(slowBuilder, { minIntervalMs: 0, now: () => clock });
    for (const record of testHistory(100)) {
      await live.onLog(record);
      clock += 100;
    }
    const wall = clock;
    // Every render after the first starts only while (spent + predicted cost) <= 2% of elapsed time.
    assert.ok(live.stats.renderMs <= 0.02 * wall + 50, `rendering took ${live.stats.renderMs} ms of ${wall} ms`);
    assert.ok(live.stats.renders >= 2, "it still re-renders during training");
  });

  it("plugs into the Trainer as a callback and charts TrainingLogRecord histories", async () => {
    const records: TrainingLogRecord[] = testHistory(30).map((h) => ({
      ...h,
      epoch: h.step / 30,
      smoothedLoss: h.loss,
      lossStd: null,
      lossCv: null,
      learningRate: 1e-3,
      gradNorm: 1,
      noiseScale: null,
      examplesPerSecond: 100,
    }));
    const callback: TrainerCallback = liveChart((h) => lossCurveChart(h), { minIntervalMs: 0 });
    for (let i = 0; i < records.length; i++) await callback.onLog?.(records[i], records.slice(0, i + 1));
    assert.ok(published.length >= 1);
    assert.strictEqual((lossCurveChart(records).spec.data as { values: unknown[] }).values.length, 30);
  });

  it("is updated in place by a real Trainer and ends with the full history and an SVG", async () => {
    await initBackend();
    const { x, y } = randomClassification(48, 4, 2, 5);
    const tiny = softmaxRegression(randomInit(4, 2, 6));
    // A fake clock advanced by the steps (renders cost nothing on it): the updates do not depend on the machine's load.
    let clock = 0;
    const live = liveChart((h) => lossCurveChart(h), { minIntervalMs: 0, maxOverhead: 0.99, now: () => clock });
    const trainer = new Trainer({
      model: tiny.model,
      trainData: arrayData(x, y),
      args: { perDeviceBatchSize: 4, gradientAccumulationSteps: 2, maxSteps: 12, learningRate: 0.05, loggingSteps: 1, progress: "none" },
      callbacks: [{ onStepEnd: () => void (clock += 100) }, live],
    });
    await trainer.train();
    trainer.dispose();
    tiny.dispose();
    assert.strictEqual(published[0].kind, "display");
    assert.ok(
      published.slice(1).every((p) => p.kind === "update" && p.id === published[0].id),
      "one display, updated in place",
    );
    const final = published[published.length - 1].bundle;
    assert.strictEqual(
      (final[VEGA_LITE_MIME] as { data: { values: Array<{ x: number }> } }).data.values.map((v) => v.x).pop(),
      12,
      "the last point is step 12",
    );
    assert.match(final["image/svg+xml"] as string, /^<svg/, "onTrainEnd draws the final chart with its SVG");
    assert.ok(published.length >= 3, "updates during training");
    assert.ok(
      published.every((p) => /^<svg/.test(String(p.bundle["image/svg+xml"]))),
      "by default every update carries the SVG fallback",
    );
  });
});
