/**
 * The study's answer in plain language, computed from the measured results only: how the late-training loss
 * fluctuation scales with the effective batch, what the learning rate does to it, how the effective batch
 * compares with the gradient noise scale, whether accumulation equals the big batch, and whether F1 differs.
 */
import { fitSqrtLaw } from "../plots";
import type { RunResult } from "./results";

/** One finding: a short headline and the numbers behind it. */
export interface StudyFinding {
  topic: "fluctuation" | "learningRate" | "noiseScale" | "accumulation" | "metrics" | "answer";
  text: string;
}

const fmt = (value: number, digits = 3) => (Number.isFinite(value) ? Number(value.toPrecision(digits)).toString() : "n/a");
const lr = (value: number) => (value !== 0 && Math.abs(value) < 1e-2 ? value.toExponential() : String(value));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const label = (r: RunResult) => `batch ${r.perDeviceBatchSize} x ${r.gradientAccumulationSteps}`;

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

/** The runs of the batch comparison: those at the learning rate tried with the most effective batch sizes. */
export function batchComparisonRuns(results: RunResult[]): RunResult[] {
  const byLr = [...groupBy(results, (r) => String(r.learningRate)).values()];
  if (byLr.length === 0) return [];
  const breadth = (runs: RunResult[]) => new Set(runs.map((r) => r.effectiveBatchSize)).size;
  return byLr.reduce((best, runs) => (breadth(runs) > breadth(best) ? runs : best));
}

function fluctuationFinding(all: RunResult[]): StudyFinding | undefined {
  const results = batchComparisonRuns(all);
  const byBatch = meanStdByBatch(results);
  if (byBatch.length < 2) return undefined;
  const first = byBatch[0];
  const last = byBatch[byBatch.length - 1];
  const { slope } = fitSqrtLaw(byBatch);
  const predicted = Math.sqrt(last.batch / first.batch);
  return {
    topic: "fluctuation",
    text:
      `At learning rate ${lr(results[0].learningRate)}, the std of the raw step loss late in training is ${fmt(first.value)} at ` +
      `effective batch ${first.batch} and ${fmt(last.value)} at ${last.batch} (${fmt(first.value / last.value, 2)}x ${last.value < first.value ? "smaller" : "LARGER"}; ` +
      `averaging independent examples predicts sqrt(${last.batch}/${first.batch}) = ${fmt(predicted, 2)}x). ` +
      `Log-log slope ${fmt(slope, 2)} (1/sqrt(B) is -0.5).`,
  };
}

function learningRateFinding(results: RunResult[]): StudyFinding | undefined {
  const groups = [...groupBy(results, label).values()].filter((runs) => new Set(runs.map((r) => r.learningRate)).size >= 2);
  if (groups.length === 0) return undefined;
  const parts = groups.map((runs) => {
    const byLr = [...groupBy(runs, (r) => String(r.learningRate)).values()]
      .map((g) => ({ lr: g[0].learningRate, std: mean(g.map((r) => r.lossStd)), f1: mean(g.map((r) => r.devF1)) }))
      .sort((a, b) => b.lr - a.lr);
    return `${label(runs[0])}: ` + byLr.map((g) => `lr ${lr(g.lr)} -> loss std ${fmt(g.std)}, dev F1 ${fmt(g.f1)}`).join("; ");
  });
  const ratios = groups.map((runs) => {
    const stds = runs.map((r) => r.lossStd);
    return Math.max(...stds) / Math.min(...stds);
  });
  const batchRatios = [...groupBy(results, (r) => String(r.learningRate)).values()]
    .filter((runs) => new Set(runs.map((r) => r.effectiveBatchSize)).size >= 2)
    .map((runs) => Math.max(...runs.map((r) => r.lossStd)) / Math.min(...runs.map((r) => r.lossStd)));
  const comparison = batchRatios.length
    ? ` Across learning rates the loss std changes by up to ${fmt(Math.max(...ratios), 2)}x; across batch configurations at one learning rate by up to ${fmt(Math.max(...batchRatios), 2)}x.`
    : "";
  return { topic: "learningRate", text: `Learning rate vs fluctuation. ${parts.join(". ")}.${comparison}` };
}

function noiseScaleFinding(results: RunResult[]): StudyFinding | undefined {
  const estimates = results.filter((r) => Number.isFinite(r.noiseScale) && r.noiseScale > 0);
  if (estimates.length === 0) return undefined;
  const noise = median(estimates.map((r) => r.noiseScale));
  const batches = [...new Set(results.map((r) => r.effectiveBatchSize))].sort((a, b) => a - b);
  const below = batches.filter((b) => b < noise / 2);
  return {
    topic: "noiseScale",
    text:
      `Gradient noise scale (McCandlish et al., estimated from ${estimates.length} run(s) with accumulation): about ${fmt(noise, 2)} examples. ` +
      (below.length
        ? `Effective batches ${below.join(", ")} are far below it, so each step's gradient, and its loss, is dominated by which examples happened to be drawn; ` +
          `a batch near ${fmt(noise, 2)} would average most of that noise away.`
        : `All effective batches tried (${batches.join(", ")}) are near or above it: more accumulation would mostly cost time.`),
  };
}

function accumulationFinding(results: RunResult[]): StudyFinding | undefined {
  for (const acc of results.filter((r) => r.gradientAccumulationSteps > 1)) {
    const same = (r: RunResult) => r !== acc && r.gradientAccumulationSteps === 1 && r.learningRate === acc.learningRate && r.seed === acc.seed;
    const twin = results.find((r) => same(r) && r.perDeviceBatchSize === acc.effectiveBatchSize);
    const small = results.find((r) => same(r) && r.perDeviceBatchSize === acc.perDeviceBatchSize);
    if (!twin || !small) continue;
    const gap = Math.abs(acc.lossStd - twin.lossStd) / twin.lossStd;
    const verdict =
      gap < 1e-4
        ? "the same numbers: the same examples per step give the same update"
        : Math.abs(Math.log(acc.lossStd / twin.lossStd)) < Math.abs(Math.log(acc.lossStd / small.lossStd))
          ? "it behaves like the big batch, not like the small one (data order and dropout differ, so not bit for bit)"
          : "here it did NOT behave like the big batch";
    return {
      topic: "accumulation",
      text:
        `Accumulation vs a real big batch: ${label(acc)} ends with loss std ${fmt(acc.lossStd)} and dev F1 ${fmt(acc.devF1)}; batch ${twin.perDeviceBatchSize} x 1 ` +
        `${fmt(twin.lossStd)} and ${fmt(twin.devF1)}; batch ${small.perDeviceBatchSize} x 1 without accumulation ${fmt(small.lossStd)} and ${fmt(small.devF1)}: ${verdict}. ` +
        `Peak memory of the process: ${fmt(acc.peakMemoryMB)} MB with accumulation, ${fmt(twin.peakMemoryMB)} MB for the real batch of ${twin.perDeviceBatchSize}.`,
    };
  }
  return undefined;
}

function metricsFinding(results: RunResult[]): StudyFinding | undefined {
  const scored = results.filter((r) => Number.isFinite(r.devF1));
  if (scored.length < 2) return undefined;
  const best = scored.reduce((a, b) => (b.devF1 > a.devF1 ? b : a));
  const worst = scored.reduce((a, b) => (b.devF1 < a.devF1 ? b : a));
  const smoothest = results.reduce((a, b) => (b.lossStd < a.lossStd ? b : a));
  const noisiest = results.reduce((a, b) => (b.lossStd > a.lossStd ? b : a));
  return {
    topic: "metrics",
    text:
      `Smoothest run: ${smoothest.runId} (loss std ${fmt(smoothest.lossStd)}); noisiest: ${noisiest.runId} (${fmt(noisiest.lossStd)}). ` +
      (best.devF1 === worst.devF1 ? `Dev F1 is ${fmt(best.devF1)} in every run; ` : `Dev F1 ranges from ${fmt(worst.devF1)} (${worst.runId}) to ${fmt(best.devF1)} (${best.runId}); `) +
      `the smoothed final loss ranges from ${fmt(Math.min(...results.map((r) => r.smoothedFinalLoss)))} to ${fmt(Math.max(...results.map((r) => r.smoothedFinalLoss)))}.`,
  };
}

function meanStdByBatch(results: RunResult[]): { batch: number; value: number }[] {
  return [...groupBy(results.filter((r) => r.lossStd > 0), (r) => String(r.effectiveBatchSize)).values()]
    .map((runs) => ({ batch: runs[0].effectiveBatchSize, value: mean(runs.map((r) => r.lossStd)) }))
    .sort((a, b) => a.batch - b.batch);
}

function answerFinding(results: RunResult[]): StudyFinding {
  const byBatch = meanStdByBatch(batchComparisonRuns(results));
  if (byBatch.length < 2) return { topic: "answer", text: "Answer: not enough effective batch sizes finished to measure how the fluctuation depends on the batch." };
  const first = byBatch[0];
  const last = byBatch[byBatch.length - 1];
  const batchFactor = first.value / last.value;
  const lrFactors = [...groupBy(results, label).values()]
    .filter((runs) => new Set(runs.map((r) => r.learningRate)).size >= 2)
    .map((runs) => Math.max(...runs.map((r) => r.lossStd)) / Math.min(...runs.map((r) => r.lossStd)));
  const f1s = batchComparisonRuns(results).map((r) => r.devF1).filter(Number.isFinite);
  const f1Spread = f1s.length >= 2 ? Math.max(...f1s) - Math.min(...f1s) : NaN;
  if (!(batchFactor > 1.2)) {
    return { topic: "answer", text: `Answer: in this run the loss std did not fall with the effective batch (${fmt(first.value)} at ${first.batch}, ${fmt(last.value)} at ${last.batch}); train longer or on more data before drawing conclusions.` };
  }
  const lrPart = lrFactors.length ? `, while changing the learning rate changed it at most ${fmt(Math.max(...lrFactors), 2)}x` : "";
  const bestF1 = f1s.length ? Math.max(...f1s) : NaN;
  const f1Part = !(bestF1 >= 0.5)
    ? ` Dev F1 is at most ${fmt(bestF1, 2)}: at this size the model has not learned the task, so only the loss numbers mean something here.`
    : f1Spread < 0.005
    ? ` Dev F1 was ${fmt(bestF1)} in every one of these runs: the noisy curve was not a sign of bad training.`
    : Number.isFinite(f1Spread)
    ? f1Spread <= 0.05
      ? ` Dev F1 stayed within ${fmt(f1Spread, 2)} across these runs: the noisy curve was not a sign of bad training.`
      : ` Dev F1 differed by up to ${fmt(f1Spread, 2)} across these runs (with the same number of examples, a bigger effective batch also means fewer updates).`
    : "";
  return {
    topic: "answer",
    text:
      `Answer: the fluctuation is sampling noise of small batches. Going from effective batch ${first.batch} to ${last.batch} cut the late-training loss std ${fmt(batchFactor, 2)}x${lrPart}: ` +
      `each step's loss is measured on only a few examples, and a learning rate does not change which examples those are.${f1Part} ` +
      `Gradient accumulation fixes the curve: it gives the effective batch (and smoothness) of a big batch at the memory cost of a small one. ` +
      `Judge training by the smoothed loss and dev metrics, not by single steps.`,
  };
}

/** The findings of a study, each backed by the numbers in `results`; topics without enough runs are left out. */
export function concludeStudy(results: RunResult[]): StudyFinding[] {
  if (results.length === 0) return [{ topic: "answer", text: "No run finished, so there is nothing to conclude yet." }];
  const findings = [fluctuationFinding(results), learningRateFinding(results), noiseScaleFinding(results), accumulationFinding(results), metricsFinding(results)];
  return [...findings.filter((f): f is StudyFinding => f !== undefined), answerFinding(results)];
}
