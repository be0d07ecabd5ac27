/** Classification metrics from labels and predicted classes: accuracy, precision, recall, F1, confusion matrix. */

/** Precision, recall, F1 and support of one class. */
export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** All metrics of one evaluation. `precision`/`recall`/`f1` are binary (positive class) for 2 classes, else macro. */
export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  perClass: ClassScores[];
  /** confusionMatrix[trueClass][predictedClass] = count. */
  confusionMatrix: number[][];
  count: number;
}

/** Counts of (true class, predicted class) pairs; rows are true classes. */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, numClasses: number): number[][] {
  if (labels.length !== predictions.length) {
    throw new Error(`confusionMatrix: ${labels.length} labels but ${predictions.length} predictions`);
  }
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const p = predictions[i];
    if (!(Number.isInteger(t) && t >= 0 && t < numClasses)) throw new Error(`confusionMatrix: label ${t} at ${i} is not in [0, ${numClasses})`);
    if (!(Number.isInteger(p) && p >= 0 && p < numClasses)) throw new Error(`confusionMatrix: prediction ${p} at ${i} is not in [0, ${numClasses})`);
    matrix[t][p]++;
  }
  return matrix;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Metrics from a confusion matrix; zero divisions give 0 (scikit-learn's zero_division=0). */
export function metricsFromConfusion(matrix: number[][], positiveClass = 1): ClassificationMetrics {
  const k = matrix.length;
  const count = matrix.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  const correct = matrix.reduce((s, row, i) => s + row[i], 0);
  const perClass = matrix.map((row, c) => {
    const tp = row[c];
    const predicted = matrix.reduce((s, r) => s + r[c], 0);
    const support = row.reduce((a, b) => a + b, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    return { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const mean = (f: (s: ClassScores) => number) => perClass.reduce((a, s) => a + f(s), 0) / k;
  const macroPrecision = mean((s) => s.precision);
  const macroRecall = mean((s) => s.recall);
  const macroF1 = mean((s) => s.f1);
  const headline = k === 2 ? perClass[positiveClass] : { precision: macroPrecision, recall: macroRecall, f1: macroF1 };
  return {
    accuracy: ratio(correct, count),
    precision: headline.precision,
    recall: headline.recall,
    f1: headline.f1,
    macroPrecision,
    macroRecall,
    macroF1,
    perClass,
    confusionMatrix: matrix,
    count,
  };
}

/** Metrics from labels and predicted class ids. */
export function classificationMetrics(labels: ArrayLike<number>, predictions: ArrayLike<number>, numClasses: number, positiveClass = 1): ClassificationMetrics {
  return metricsFromConfusion(confusionMatrix(labels, predictions, numClasses), positiveClass);
}
