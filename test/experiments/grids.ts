/** Grids the runner and queue tests share: tiny synthetic runs that train in about a second each. */
import type { GridSpec } from "../../src/experiments";

/** Task configuration of the tiny synthetic logistic regression. */
export const TINY_SYNTHETIC_TASK = { trainExamples: 96, devExamples: 48, testExamples: 48, features: 6 };

/** Three configurations (batch 8, 2 x 4 accumulation, batch 1) of the tiny synthetic task; add axes as needed. */
export const TINY_SYNTHETIC_GRID: GridSpec = {
  task: "synthetic-logreg",
  taskConfig: TINY_SYNTHETIC_TASK,
  training: { learningRate: 0.05, epochs: 2, loggingSteps: 4, saveSteps: 8 },
  variants: [{ perDeviceBatchSize: 8 }, { perDeviceBatchSize: 2, gradientAccumulationSteps: 4 }, { perDeviceBatchSize: 1 }],
};
