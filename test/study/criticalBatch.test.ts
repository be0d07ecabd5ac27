import { strict as assert } from "assert";
import type { RunHistory, RunResult } from "../../src/experiments";
import { concludeStudy, measureCriticalBatch, stepsToTarget, windowedLoss } from "../../src/study";

/** A log.jsonl record with a given loss; examples follow from the batch. */
const record = (step: number, batch: number, loss: number) => ({ step, examplesSeen: step * batch, loss, smoothedLoss: loss, eval_f1: 1 - loss });

describe("study/criticalBatch: steps and examples to a target loss", () => {
  it("averages the loss over windows of equal examples, placed at the window's middle", () => {
    const history = [4, 2, 6, 0].map((loss, i) => record(i + 1, 2, loss));
    // Windows of 4 examples = 2 steps of batch 2: means 3, 4, 3, at the first step of each pair (its middle).
    assert.deepEqual(windowedLoss(history, 4), [
      { steps: 1, examples: 2, loss: 3 },
      { steps: 2, examples: 4, loss: 4 },
      { steps: 3, examples: 6, loss: 3 },
    ]);
    assert.deepEqual(stepsToTarget(history, 3, 4), { steps: 1, examples: 2 });
    assert.equal(stepsToTarget(history, 2, 4), undefined);
  });

  /** Runs whose loss falls as 1 / (1 + examples / 40): batch b reaches loss L after ~ (1/L - 1) * 40 / b steps. */
  function study(batches: number[], rates: number[], seeds: number): { results: RunResult[]; histories: RunHistory[] } {
    const results: RunResult[] = [];
    const histories: RunHistory[] = [];
    for (const b of batches)
      for (const lr of rates)
        for (let seed = 0; seed < seeds; seed++) {
          const runId = `b${b}-lr${lr}-s${seed}`;
          const speed = lr === 1e-3 ? 1 : 0.5; // the middle rate is best
          const history = Array.from({ length: Math.ceil(400 / b) }, (_, i) => record(i + 1, b, 1 / (1 + (speed * (i + 1) * b * (1 + seed * 0.01)) / 40)));
          histories.push({
            run: runId,
            config: { runId, perDeviceBatchSize: b, gradientAccumulationSteps: 1, effectiveBatchSize: b, learningRate: lr, seed },
            history: history as never,
          });
          results.push({
            runId,
            task: "t",
            perDeviceBatchSize: b,
            gradientAccumulationSteps: 1,
            effectiveBatchSize: b,
            learningRate: lr,
            seed,
            steps: history.length,
            devAccuracy: 0.8,
            devF1: lr === 1e-3 ? 0.9 : 0.7,
            testAccuracy: 0.8,
            testF1: 0.8,
            lossStd: 0.1,
            lossCv: 0.1,
            smoothedFinalLoss: 0.2,
            noiseScale: NaN,
            examplesPerSecond: 10,
            tokensPerSecond: 10,
            wallTimeSeconds: 1,
            peakMemoryMB: 1,
          });
        }
    return { results, histories };
  }

  it("picks each batch's best rate on dev and measures every seed there", () => {
    const { results, histories } = study([1, 8, 64], [3e-4, 1e-3, 3e-3], 3);
    const measured = measureCriticalBatch(results, histories, { targetLoss: 0.5, targetDevF1: 0.5, windowExamples: 8 });
    assert.equal(measured.batches.length, 3);
    // Dev F1 = 1 - loss here: 0.5 is first reached where 1 / (1 + n b (1 + 0.01 s) / 40) <= 0.5, i.e. n = ceil(40 / (b (1 + 0.01 s))).
    const b8 = measured.batches.find((b) => b.effectiveBatchSize === 8)!;
    const expected = [0, 1, 2].map((seed) => Math.ceil(40 / (8 * (1 + seed * 0.01)) - 1e-9));
    assert.ok(Math.abs(b8.devSteps!.mean - Math.exp(expected.map(Math.log).reduce((a, b) => a + b) / 3)) < 1e-9, `${b8.devSteps!.mean} vs ${expected}`);
    for (const b of measured.batches) {
      assert.equal(b.bestLearningRate, 1e-3);
      assert.equal(b.rates.length, 3);
      assert.equal(b.steps.n, 3, "every seed reached the target");
      assert.deepEqual(b.notReached, []);
    }
  });

  it("an unreachable target: says which runs never reached it and that no fit was possible", () => {
    const { results, histories } = study([1, 8], [1e-3], 2);
    const measured = measureCriticalBatch(results, histories, { targetLoss: 0.01, windowExamples: 8 });
    assert.equal(measured.fit, null);
    assert.deepEqual(
      measured.batches.flatMap((b) => b.notReached),
      results.map((r) => r.runId),
    );
    assert.match(measured.fitNote, /no fit was possible: runs of 0 effective batch size\(s\) reached the target loss 0\.01/);
    assert.match(measured.agreement, /B_crit could not be fitted/);
  });

  it("fits only the runs that reached the target and names the others", () => {
    const { results, histories } = study([1, 8, 64], [1e-3], 2);
    // Batch 64 needs (1/0.3 - 1) * 40 ≈ 93 examples (2 steps) to reach 0.3; seed 1 stopped after 1 step (loss 0.38).
    const short = histories.find((h) => h.run === "b64-lr0.001-s1")!;
    short.history = short.history.slice(0, 1);
    const measured = measureCriticalBatch(results, histories, { targetLoss: 0.3, windowExamples: 8 });
    assert.ok(measured.fit, measured.fitNote);
    assert.deepEqual(
      measured.batches.flatMap((b) => b.notReached),
      ["b64-lr0.001-s1"],
    );
    assert.match(measured.fitNote, /fitted on 5 runs over effective batches 1, 8, 64; left out \(never reached the target\): b64-lr0.001-s1/);
  });

  it("when no configuration beats a constant prediction, the answer says so and claims nothing about accuracy or B_crit", () => {
    const { results, histories } = study([1, 8], [3e-4, 1e-3, 3e-3], 2);
    // Dev labels 1, 1, 1, 0: always predicting 1 gives F1 2·0.75 / 1.75 ≈ 0.857; every run's dev F1 is set below it.
    const labels = [1, 1, 1, 0];
    for (const r of results) r.devF1 = 0.5;
    const predictions = new Map(results.map((r) => [r.runId, { labels, predictions: [1, 0, 1, 1] }]));
    const critical = measureCriticalBatch(results, histories, { targetLoss: 0.5, windowExamples: 8 });
    const findings = concludeStudy(results, predictions, { critical });
    const answer = findings.find((f) => f.topic === "answer")!.text;
    assert.match(answer, /No configuration beat predicting one class for every dev example \(dev F1 0\.857\)/);
    assert.doesNotMatch(answer, /does not cost accuracy|critical batch is/);
    assert.match(findings.find((f) => f.topic === "recommendation")!.text, /Caution: no configuration of this study learned the task/);
    // With a run that beats it, the caution goes.
    for (const r of results) r.devF1 = 0.95;
    const learned = concludeStudy(results, predictions, { critical: measureCriticalBatch(results, histories, { targetLoss: 0.5, windowExamples: 8 }) });
    assert.doesNotMatch(learned.find((f) => f.topic === "recommendation")!.text, /Caution/);
  });
});
