import { strict as assert } from "assert";
import { lrMultiplier, resolveTrainingArguments, warmupStepsFor } from "../../src/train";

describe("train/args and schedule", () => {
  it("fills defaults", () => {
    const a = resolveTrainingArguments({ learningRate: 1e-3 });
    assert.equal(a.learningRate, 1e-3);
    assert.equal(a.perDeviceBatchSize, 8);
    assert.equal(a.gradientAccumulationSteps, 1);
    assert.equal(a.lrSchedule, "linear");
  });

  it("rejects invalid values with a message naming the field", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ perDeviceBatchSize: 0 }, /perDeviceBatchSize must be a positive integer, got 0/],
      [{ gradientAccumulationSteps: -2 }, /gradientAccumulationSteps must be a positive integer, got -2/],
      [{ perDeviceBatchSize: 2.5 }, /perDeviceBatchSize must be a positive integer/],
      [{ learningRate: NaN }, /learningRate must be a finite number >= 0, got NaN/],
      [{ learningRate: Infinity }, /learningRate must be a finite number/],
      [{ weightDecay: -0.1 }, /weightDecay must be/],
      [{ lrSchedule: "exponential" }, /lrSchedule must be one of constant, linear, cosine, got "exponential"/],
      [{ warmupRatio: 1.5 }, /warmupRatio must be a number in \[0, 1\]/],
      [{ warmupSteps: 3, warmupRatio: 0.1 }, /warmupSteps or warmupRatio, not both/],
      [{ maxGradNorm: NaN }, /maxGradNorm must be/],
      [{ adamBeta2: 1 }, /adamBeta2 must be a number in \[0, 1\)/],
      [{ adamEpsilon: 0 }, /adamEpsilon must be a finite number > 0/],
      [{ epochs: 0 }, /epochs must be a positive integer/],
      [{ maxSteps: 0 }, /maxSteps must be a positive integer/],
      [{ loggingSteps: 0 }, /loggingSteps must be a positive integer/],
      [{ seed: 1.5 }, /seed must be an integer/],
      [{ learningRat: 1 }, /unknown field "learningRat"/],
      [{ resumeFrom: "last" }, /resumeFrom "last" needs outputDir/],
    ];
    for (const [partial, message] of cases) {
      assert.throws(() => resolveTrainingArguments(partial), message, JSON.stringify(partial));
    }
  });

  it("linear warmup then linear decay, as Hugging Face's get_linear_schedule_with_warmup", () => {
    // warmup 3 of 10: step s < 3 -> s/3; else (10 - s) / 7
    const expected = [0, 1 / 3, 2 / 3, 1, 6 / 7, 5 / 7, 4 / 7, 3 / 7, 2 / 7, 1 / 7, 0];
    expected.forEach((e, s) => assert.ok(Math.abs(lrMultiplier("linear", s, 3, 10) - e) < 1e-15, `step ${s}`));
  });

  it("cosine decays by a half cosine after warmup; constant stays at 1", () => {
    // warmup 2 of 6: progress = (s - 2) / 4, multiplier 0.5 (1 + cos(pi progress))
    assert.equal(lrMultiplier("cosine", 1, 2, 6), 0.5);
    assert.equal(lrMultiplier("cosine", 2, 2, 6), 1);
    assert.ok(Math.abs(lrMultiplier("cosine", 4, 2, 6) - 0.5) < 1e-15);
    assert.ok(Math.abs(lrMultiplier("cosine", 3, 2, 6) - (1 + Math.SQRT1_2) / 2) < 1e-15);
    assert.ok(Math.abs(lrMultiplier("cosine", 6, 2, 6)) < 1e-15);
    assert.equal(lrMultiplier("constant", 1, 4, 10), 0.25);
    assert.equal(lrMultiplier("constant", 7, 4, 10), 1);
  });

  it("warmupRatio rounds up like Hugging Face", () => {
    assert.equal(warmupStepsFor(undefined, 0.1, 25), 3);
    assert.equal(warmupStepsFor(5, undefined, 25), 5);
    assert.equal(warmupStepsFor(undefined, undefined, 25), 0);
  });
});
