import { strict as assert } from "assert";
import { classificationMetrics, confusionMatrix } from "../../src/train";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

describe("train/metrics", () => {
  it("binary: confusion matrix, accuracy, precision, recall, F1 by hand", () => {
    const labels = [1, 1, 1, 0, 0, 0, 0, 1];
    const preds = [1, 0, 1, 0, 1, 0, 0, 1];
    // true 0: predicted 0 three times, 1 once; true 1: predicted 0 once, 1 three times
    assert.deepEqual(confusionMatrix(labels, preds, 2), [
      [3, 1],
      [1, 3],
    ]);
    const m = classificationMetrics(labels, preds, 2);
    close(m.accuracy, 6 / 8);
    close(m.precision, 3 / 4); // TP 3, FP 1
    close(m.recall, 3 / 4); // TP 3, FN 1
    close(m.f1, 3 / 4);
  });

  it("binary with unequal precision and recall", () => {
    const labels = [1, 1, 1, 1, 0, 0];
    const preds = [1, 0, 0, 0, 1, 0];
    // TP 1, FN 3, FP 1, TN 1 -> precision 1/2, recall 1/4, F1 = 2 * 1/8 / (3/4) = 1/3
    const m = classificationMetrics(labels, preds, 2);
    assert.deepEqual(m.confusionMatrix, [
      [1, 1],
      [3, 1],
    ]);
    close(m.precision, 0.5);
    close(m.recall, 0.25);
    close(m.f1, 1 / 3);
    close(m.accuracy, 2 / 6);
  });

  it("three classes: macro averages and a class never predicted (zero division -> 0)", () => {
    const labels = [0, 0, 1, 1, 2, 2];
    const preds = [0, 1, 1, 1, 0, 0];
    const m = classificationMetrics(labels, preds, 3);
    assert.deepEqual(m.confusionMatrix, [
      [1, 1, 0],
      [0, 2, 0],
      [2, 0, 0],
    ]);
    // class 0: P 1/3, R 1/2, F1 0.4; class 1: P 2/3, R 1, F1 0.8; class 2: P 0 (never predicted), R 0, F1 0
    close(m.perClass[0].f1, 0.4);
    close(m.perClass[1].f1, 0.8);
    assert.equal(m.perClass[2].precision, 0);
    close(m.macroPrecision, (1 / 3 + 2 / 3 + 0) / 3);
    close(m.macroRecall, (0.5 + 1 + 0) / 3);
    close(m.macroF1, 0.4);
    close(m.f1, m.macroF1);
    close(m.accuracy, 0.5);
  });

  it("rejects mismatched lengths and out-of-range classes", () => {
    assert.throws(() => confusionMatrix([0, 1], [0], 2), /2 labels but 1 predictions/);
    assert.throws(() => confusionMatrix([0, 3], [0, 1], 2), /label 3 at 1 is not in \[0, 2\)/);
  });
});
