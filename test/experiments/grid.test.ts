import { strict as assert } from "assert";
import { expandGrid, RunTraining } from "../../src/experiments";

describe("experiments: grid expansion", () => {
  it("combines every variant with every point of the axes, overriding the base arguments", () => {
    const variants: RunTraining[] = [
      { perDeviceBatchSize: 8 },
      { perDeviceBatchSize: 8, gradientAccumulationSteps: 4 },
      { perDeviceBatchSize: 1, gradientAccumulationSteps: 8 },
    ];
    const learningRates = [1e-4, 1e-5];
    const seeds = [0, 1];
    const runs = expandGrid({
      task: "synthetic-logreg",
      taskConfig: { features: 4 },
      training: { learningRate: 0.1, epochs: 2, gradientAccumulationSteps: 1 },
      variants,
      axes: { learningRate: learningRates, seed: seeds },
    });
    const expected = variants.flatMap((v) =>
      learningRates.flatMap((lr) => seeds.map((seed) => ({ epochs: 2, gradientAccumulationSteps: 1, ...v, learningRate: lr, seed }))),
    );
    assert.equal(runs.length, expected.length);
    runs.forEach((run, i) => {
      assert.deepEqual(run.training, { ...expected[i], seed: expected[i].seed }, `run ${i}`);
      assert.equal(run.task, "synthetic-logreg");
      assert.deepEqual(run.taskConfig, { features: 4 });
    });
    assert.equal(new Set(runs.map((r) => r.id)).size, runs.length, "ids are unique");
    assert.equal(runs[0].id, "b8-a1-lr1e-4-s0");
    assert.equal(runs[4].id, "b8-a4-lr1e-4-s0");
    assert.equal(runs[runs.length - 1].id, "b1-a8-lr1e-5-s1");
  });

  it("without variants or axes gives one run with seed 0 and readable ids for any other argument", () => {
    const [only] = expandGrid({ task: "t", training: { learningRate: 0.5 } });
    assert.deepEqual(only.training, { seed: 0, learningRate: 0.5 });
    assert.equal(only.id, "s0");
    const ids = expandGrid({ task: "t", training: {}, axes: { lrSchedule: ["linear", "cosine"] } }).map((r) => r.id);
    assert.deepEqual(ids, ["s0-lrSchedule=linear", "s0-lrSchedule=cosine"]);
  });

  it("rejects empty axes, duplicate runs and a missing task with errors that name them", () => {
    assert.throws(() => expandGrid({ task: "t", training: {}, axes: { seed: [] } }), /axis "seed" must be a non-empty array/);
    assert.throws(() => expandGrid({ task: "t", training: {}, axes: { seed: [1, 1] } }), /two identical runs "s1"/);
    assert.throws(() => expandGrid({ task: "", training: {} }), /grid.task must name a registered task/);
  });
});
