/**
 * The study's answer in plain language, computed from the measured results only. Runs are grouped into
 * configurations (batch, accumulation, learning rate) over seeds; every figure is a mean with a 95% t-interval
 * over seeds (dev F1 also with a bootstrap interval over dev examples), and a difference is claimed only where
 * the intervals separate — otherwise the text says "no detectable difference".
 */
import type { RunResult } from "../experiments";
import { LongformerConfig } from "../models/longformer";
import { estimateTrainingMemory, formatBytes, planBatch } from "../plan";
import { bootstrapInterval, boundedTInterval, fitSqrtLaw, formatInterval, intervalsSeparate, logTInterval, type ConfidenceInterval } from "../stats";
import { classificationMetrics } from "../train";
import { formatNumber, groupBy } from "../util";
import { DEV_TARGET_EVAL_EXAMPLES, type CriticalBatchStudy } from "./criticalBatch";

/** One finding: a short headline and the numbers behind it. */
export interface StudyFinding {
  topic: "answer" | "recommendation" | "budget" | "bestRate" | "criticalBatch" | "fluctuation" | "learningRate" | "noiseScale" | "accumulation" | "metrics";
  text: string;
}

/** Label and prediction of every dev example of a run, by run id (for the bootstrap over dev examples). */
export type DevPredictions = Map<string, { labels: number[]; predictions: number[] }>;

/**
 * One configuration over its seeds, every figure with a 95% interval: loss std and smoothed final loss (positive) as
 * geometric means with log-scale t-intervals, dev F1 as a mean with a t-interval clipped to [0, 1].
 */
export interface ConfigurationSummary {
  /** e.g. "batch 8 x 4, lr 1e-4". */
  label: string;
  perDeviceBatchSize: number;
  gradientAccumulationSteps: number;
  effectiveBatchSize: number;
  learningRate: number;
  runs: RunResult[];
  lossStd: ConfidenceInterval;
  devF1: ConfidenceInterval;
  smoothedFinalLoss: ConfidenceInterval;
  /** Geometric mean with a t-interval on the log scale (the estimate is positive and heavy-tailed). */
  noiseScale: ConfidenceInterval;
  /** Mean dev F1 over seeds with a percentile bootstrap interval over dev examples (when predictions are known). */
  devF1Bootstrap?: ConfidenceInterval;
}

const fmt = (value: number, digits = 3) => formatNumber(value, digits);
const lr = (value: number) => formatNumber(value, 3, 1e-2);
const ci = (value: ConfidenceInterval) => formatInterval(value);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const batchLabel = (c: { perDeviceBatchSize: number; gradientAccumulationSteps: number }) => `batch ${c.perDeviceBatchSize} x ${c.gradientAccumulationSteps}`;

/** The runs of the batch comparison: those at the learning rate tried with the most effective batch sizes. */
export function batchComparisonRuns(results: RunResult[]): RunResult[] {
  const byLr = [...groupBy(results, (r) => String(r.learningRate)).values()];
  if (byLr.length === 0) return [];
  const breadth = (runs: RunResult[]) => new Set(runs.map((r) => r.effectiveBatchSize)).size;
  return byLr.reduce((best, runs) => (breadth(runs) > breadth(best) ? runs : best));
}

/** Mean dev F1 over the runs with a seeded percentile bootstrap over dev examples (runs share the dev set). */
function devF1Bootstrap(runs: RunResult[], predictions: DevPredictions, seed: number): ConfidenceInterval | undefined {
  const known = runs.map((r) => predictions.get(r.runId)).filter((p): p is { labels: number[]; predictions: number[] } => p !== undefined);
  if (known.length === 0 || known.length !== runs.length) return undefined;
  const n = known[0].labels.length;
  if (n === 0 || known.some((p) => p.labels.length !== n || p.predictions.length !== n)) return undefined;
  const classes = Math.max(2, ...known.flatMap((p) => [...p.labels, ...p.predictions].map((l) => l + 1)));
  const f1 = (indices: readonly number[]) =>
    known.reduce(
      (sum, p) =>
        sum +
        classificationMetrics(
          indices.map((i) => p.labels[i]),
          indices.map((i) => p.predictions[i]),
          classes,
        ).f1,
      0,
    ) / known.length;
  return bootstrapInterval(n, f1, { seed, resamples: 1000 });
}

/**
 * Groups runs into configurations (batch, accumulation, learning rate), in first-seen order, each with the
 * mean and 95% t-interval over its seeds of loss std, dev F1, smoothed final loss and noise scale.
 */
export function summarizeConfigurations(results: RunResult[], predictions: DevPredictions = new Map()): ConfigurationSummary[] {
  const groups = groupBy(results, (r) => `${r.perDeviceBatchSize}|${r.gradientAccumulationSteps}|${r.learningRate}`);
  return [...groups.values()].map((runs, k) => {
    const first = runs[0];
    const summary: ConfigurationSummary = {
      label: `${batchLabel(first)}, lr ${lr(first.learningRate)}`,
      perDeviceBatchSize: first.perDeviceBatchSize,
      gradientAccumulationSteps: first.gradientAccumulationSteps,
      effectiveBatchSize: first.effectiveBatchSize,
      learningRate: first.learningRate,
      runs,
      // Positive quantities: geometric mean with a log-scale interval (never below 0); F1 clipped to [0, 1].
      lossStd: logTInterval(runs.map((r) => r.lossStd)),
      devF1: boundedTInterval(
        runs.map((r) => r.devF1),
        0,
        1,
      ),
      smoothedFinalLoss: logTInterval(runs.map((r) => r.smoothedFinalLoss)),
      noiseScale: logTInterval(runs.map((r) => r.noiseScale)),
    };
    const boot = devF1Bootstrap(runs, predictions, k);
    if (boot) summary.devF1Bootstrap = boot;
    return summary;
  });
}

/** "k x smaller (intervals separate)" or "no detectable difference (intervals overlap)" for a vs b. */
function compare(a: ConfidenceInterval, b: ConfidenceInterval, what: string): string {
  if (!intervalsSeparate(a, b)) return `no detectable difference in ${what} (95% intervals overlap)`;
  const ratio = a.mean / b.mean;
  if (!(Number.isFinite(ratio) && ratio > 0)) return `${what} ${a.mean > b.mean ? "higher" : "lower"}: ${fmt(a.mean)} vs ${fmt(b.mean)} (intervals separate)`;
  return ratio >= 1 ? `${what} ${fmt(ratio, 2)}x larger (intervals separate)` : `${what} ${fmt(1 / ratio, 2)}x smaller (intervals separate)`;
}

/** The configurations of the batch comparison, ordered by effective batch. */
function batchComparison(configs: ConfigurationSummary[], results: RunResult[]): ConfigurationSummary[] {
  const rate = batchComparisonRuns(results)[0]?.learningRate;
  return configs
    .filter((c) => c.learningRate === rate && Number.isFinite(c.lossStd.mean))
    .sort((a, b) => a.effectiveBatchSize - b.effectiveBatchSize || a.perDeviceBatchSize - b.perDeviceBatchSize);
}

/** Per effective batch at the comparison learning rate: the configuration with the most seeds (plain batches first). */
function perEffectiveBatch(configs: ConfigurationSummary[]): ConfigurationSummary[] {
  return [...groupBy(configs, (c) => String(c.effectiveBatchSize)).values()].map((group) =>
    group.reduce((best, c) => (c.gradientAccumulationSteps < best.gradientAccumulationSteps ? c : best)),
  );
}

function fluctuationFinding(configs: ConfigurationSummary[], results: RunResult[]): StudyFinding | undefined {
  const byBatch = perEffectiveBatch(batchComparison(configs, results));
  if (byBatch.length < 2) return undefined;
  const first = byBatch[0];
  const last = byBatch[byBatch.length - 1];
  const { slope } = fitSqrtLaw(byBatch.filter((c) => c.lossStd.mean > 0).map((c) => ({ batch: c.effectiveBatchSize, value: c.lossStd.mean })));
  const seeds = Math.min(...byBatch.map((c) => c.lossStd.n));
  return {
    topic: "fluctuation",
    text:
      `At learning rate ${lr(first.learningRate)}, the std of the raw step loss late in training (mean [95% CI] over ${seeds} seed(s)) is ` +
      byBatch.map((c) => `${ci(c.lossStd)} at effective batch ${c.effectiveBatchSize}`).join(", ") +
      `. Batch ${last.effectiveBatchSize} vs ${first.effectiveBatchSize}: ${compare(last.lossStd, first.lossStd, "loss std")}; ` +
      `averaging independent examples predicts sqrt(${last.effectiveBatchSize}/${first.effectiveBatchSize}) = ${fmt(Math.sqrt(last.effectiveBatchSize / first.effectiveBatchSize), 2)}x smaller. ` +
      `Log-log slope of the means ${fmt(slope, 2)} (1/sqrt(B) is -0.5).`,
  };
}

function learningRateFinding(configs: ConfigurationSummary[]): StudyFinding | undefined {
  const groups = [...groupBy(configs, (c) => batchLabel(c)).values()].filter((group) => group.length >= 2);
  if (groups.length === 0) return undefined;
  const parts = groups.map((group) => {
    const sorted = [...group].sort((a, b) => b.learningRate - a.learningRate);
    const pairs = sorted.flatMap((a, i) => sorted.slice(i + 1).map((b) => [a, b] as const));
    const stdDiffers = pairs.filter(([a, b]) => intervalsSeparate(a.lossStd, b.lossStd));
    const f1Differs = pairs.filter(([a, b]) => intervalsSeparate(a.devF1, b.devF1));
    const verdict =
      (stdDiffers.length === 0
        ? "no detectable difference in loss std between these learning rates"
        : `loss std differs between ${stdDiffers.map(([a, b]) => `lr ${lr(a.learningRate)} and ${lr(b.learningRate)}`).join(", ")}`) +
      "; " +
      (f1Differs.length === 0
        ? "no detectable difference in dev F1"
        : `dev F1 differs between ${f1Differs.map(([a, b]) => `lr ${lr(a.learningRate)} and ${lr(b.learningRate)}`).join(", ")}`);
    return (
      `${batchLabel(sorted[0])}: ` +
      sorted.map((c) => `lr ${lr(c.learningRate)} -> loss std ${ci(c.lossStd)}, dev F1 ${ci(c.devF1)}`).join("; ") +
      ` (${verdict})`
    );
  });
  return { topic: "learningRate", text: `Learning rate vs fluctuation. ${parts.join(". ")}.` };
}

function noiseScaleFinding(configs: ConfigurationSummary[]): StudyFinding | undefined {
  const estimated = configs.filter((c) => Number.isFinite(c.noiseScale.mean) && c.noiseScale.mean > 0);
  if (estimated.length === 0) return undefined;
  const noise = median(estimated.map((c) => c.noiseScale.mean));
  const batches = [...new Set(configs.map((c) => c.effectiveBatchSize))].sort((a, b) => a - b);
  const below = batches.filter((b) => b < noise / 2);
  return {
    topic: "noiseScale",
    text:
      `Gradient noise scale (McCandlish et al., estimated in the runs with accumulation; geometric mean [95% CI on the log scale] over seeds): ` +
      estimated
        .map((c) => `${c.label}: ${ci(c.noiseScale)}${c.noiseScale.n < c.runs.length ? ` (${c.noiseScale.n} of ${c.runs.length} seeds gave an estimate)` : ""}`)
        .join("; ") +
      `; about ${fmt(noise, 2)} examples. ` +
      (below.length
        ? `Effective batches ${below.join(", ")} are far below it, so each step's gradient, and its loss, is dominated by which examples happened to be drawn; ` +
          `a batch near ${fmt(noise, 2)} would average most of that noise away.`
        : `All effective batches tried (${batches.join(", ")}) are near or above it: more accumulation would mostly cost time.`),
  };
}

function accumulationFinding(configs: ConfigurationSummary[]): StudyFinding | undefined {
  for (const acc of configs.filter((c) => c.gradientAccumulationSteps > 1)) {
    const same = (c: ConfigurationSummary) => c !== acc && c.gradientAccumulationSteps === 1 && c.learningRate === acc.learningRate;
    const twin = configs.find((c) => same(c) && c.perDeviceBatchSize === acc.effectiveBatchSize);
    const small = configs.find((c) => same(c) && c.perDeviceBatchSize === acc.perDeviceBatchSize);
    if (!twin || !small) continue;
    const likeTwin = !intervalsSeparate(acc.lossStd, twin.lossStd);
    const likeSmall = !intervalsSeparate(acc.lossStd, small.lossStd);
    const verdict =
      likeTwin && !likeSmall
        ? "it behaves like the big batch, not like the small one (intervals overlap with the big batch and separate from the small one)"
        : !likeTwin && likeSmall
          ? "here it did NOT behave like the big batch (its interval separates from the big batch's and overlaps the small one's)"
          : likeTwin && likeSmall
            ? "no detectable difference from either with these seeds (all intervals overlap)"
            : "its interval separates from both";
    const mem = (c: ConfigurationSummary) => fmt(Math.max(...c.runs.map((r) => r.peakMemoryMB)));
    return {
      topic: "accumulation",
      text:
        `Accumulation vs a real big batch (loss std and dev F1, mean [95% CI] over seeds): ${batchLabel(acc)} ${ci(acc.lossStd)} and ${ci(acc.devF1)}; ` +
        `batch ${twin.perDeviceBatchSize} x 1 ${ci(twin.lossStd)} and ${ci(twin.devF1)}; batch ${small.perDeviceBatchSize} x 1 without accumulation ${ci(small.lossStd)} and ${ci(small.devF1)}: ${verdict}. ` +
        `Measured peak memory of the small-model worker processes: ${mem(acc)} MB with accumulation, ${mem(twin)} MB for the real batch of ${twin.perDeviceBatchSize} ` +
        `(at this toy size the process's fixed overhead dominates; what accumulation saves at the real size is the planner's prediction in the recommendation).`,
    };
  }
  return undefined;
}

function metricsFinding(configs: ConfigurationSummary[]): StudyFinding | undefined {
  const scored = configs.filter((c) => Number.isFinite(c.devF1.mean));
  if (scored.length < 2) return undefined;
  const best = scored.reduce((a, b) => (b.devF1.mean > a.devF1.mean ? b : a));
  const worst = scored.reduce((a, b) => (b.devF1.mean < a.devF1.mean ? b : a));
  const f1Text = scored
    .map(
      (c) =>
        `${c.label} ${ci(c.devF1)}${c.devF1Bootstrap ? ` (bootstrap over dev examples [${fmt(c.devF1Bootstrap.low)}, ${fmt(c.devF1Bootstrap.high)}])` : ""}`,
    )
    .join("; ");
  const differs = intervalsSeparate(best.devF1, worst.devF1);
  const smooth = configs.filter((c) => Number.isFinite(c.smoothedFinalLoss.mean));
  const lowLoss = smooth.reduce((a, b) => (b.smoothedFinalLoss.mean < a.smoothedFinalLoss.mean ? b : a));
  const highLoss = smooth.reduce((a, b) => (b.smoothedFinalLoss.mean > a.smoothedFinalLoss.mean ? b : a));
  return {
    topic: "metrics",
    text:
      `Dev F1 (mean [95% CI] over seeds): ${f1Text}. ` +
      (differs
        ? `Best ${best.label} vs worst ${worst.label}: ${compare(best.devF1, worst.devF1, "dev F1")}. `
        : `No detectable difference in dev F1 between configurations (the best and worst intervals overlap). `) +
      `Smoothed final loss from ${ci(lowLoss.smoothedFinalLoss)} (${lowLoss.label}) to ${ci(highLoss.smoothedFinalLoss)} (${highLoss.label})` +
      (intervalsSeparate(lowLoss.smoothedFinalLoss, highLoss.smoothedFinalLoss) ? " (intervals separate)." : ": no detectable difference (intervals overlap)."),
  };
}

/** The best dev F1 a constant prediction reaches (always the same class), from the dev labels of any run. */
function constantBaselineF1(predictions: DevPredictions): number | undefined {
  const labels = [...predictions.values()][0]?.labels;
  if (!labels || labels.length === 0) return undefined;
  const classes = Math.max(2, ...labels.map((l) => l + 1));
  return Math.max(
    ...Array.from(
      { length: classes },
      (_, c) =>
        classificationMetrics(
          labels,
          labels.map(() => c),
          classes,
        ).f1,
    ),
  );
}

/** "Is it a problem?": dev F1 per effective batch at its best rate, accumulation at the best rates, and B_crit. */
function problemHalf(critical: CriticalBatchStudy | undefined, predictions: DevPredictions): string {
  if (!critical || critical.batches.length === 0) return "";
  const baseline = constantBaselineF1(predictions);
  const learned = critical.batches.filter(
    (b) => baseline === undefined || b.devF1.low > baseline + 0.01 || (!Number.isFinite(b.devF1.low) && b.devF1.mean > baseline + 0.01),
  );
  const baselineText =
    baseline === undefined
      ? ""
      : learned.length === 0
        ? ` No configuration beat predicting one class for every dev example (dev F1 ${fmt(baseline)}): at this size and budget the model has not learned the task, so the accuracy half cannot be answered here (a larger --size, more data or another model).`
        : learned.length < critical.batches.length
          ? ` Only ${learned.map((b) => batchLabel(b)).join(", ")} beat predicting one class for every dev example (dev F1 ${fmt(baseline)}) detectably.`
          : "";
  const at = critical.batches.map((b) => `${b.perDeviceBatchSize} x ${b.gradientAccumulationSteps} ${ci(b.devF1)} (lr ${lr(b.bestLearningRate)})`).join(", ");
  const tuned = critical.batches.some((b) => b.rates.length >= 3);
  const accumulated = critical.batches.find(
    (b) =>
      b.gradientAccumulationSteps > 1 &&
      critical.batches.some((o) => o !== b && o.gradientAccumulationSteps === 1 && o.effectiveBatchSize === b.effectiveBatchSize),
  );
  const plain = accumulated && critical.batches.find((o) => o.gradientAccumulationSteps === 1 && o.effectiveBatchSize === accumulated.effectiveBatchSize);
  const accumulation =
    accumulated && plain
      ? ` Accumulation at each one's best rate: ${batchLabel(accumulated)} reached dev F1 ${ci(accumulated.devF1)} vs ${ci(plain.devF1)} for ${batchLabel(plain)}, ` +
        (intervalsSeparate(accumulated.devF1, plain.devF1) ? "a detectable difference." : "no detectable difference: accumulation does not cost accuracy.")
      : "";
  const fit = critical.fit;
  const crit = fit
    ? ` The measured critical batch is B_crit ≈ ${fmt(fit.bCrit)}${range(fit.bCritInterval)} examples: a batch well below it costs optimizer steps (time), not accuracy per example; one above it wastes examples.`
    : ` The critical batch could not be measured (${critical.fitNote}).`;
  // Without a model that learned, neither the accuracy comparison nor B_crit (at a target barely below the start) answers anything.
  const notLearned = baseline !== undefined && learned.length === 0;
  return ` Is it a problem? At each batch's best learning rate${tuned ? " (3 or more tried per batch)" : " (one rate: not re-tuned per batch)"}, dev F1 was ${at}.${baselineText}${notLearned ? "" : accumulation + crit}`;
}

function answerFinding(configs: ConfigurationSummary[], results: RunResult[], predictions: DevPredictions, critical?: CriticalBatchStudy): StudyFinding {
  const problem = problemHalf(critical, predictions);
  const comparison = batchComparison(configs, results);
  const byBatch = perEffectiveBatch(comparison);
  if (byBatch.length < 2)
    return {
      topic: "answer",
      text:
        "Why does the loss fluctuate? Not settled by this study: not enough effective batch sizes finished to measure how the fluctuation depends on the batch." +
        problem,
    };
  const first = byBatch[0];
  const last = byBatch[byBatch.length - 1];
  const seeds = Math.min(...byBatch.map((c) => c.lossStd.n));
  const fell = intervalsSeparate(first.lossStd, last.lossStd) && last.lossStd.mean < first.lossStd.mean;
  if (!fell) {
    return {
      topic: "answer",
      text:
        `Why does the loss fluctuate? Not settled by this study: with ${seeds} seed(s), the loss std at effective batch ${last.effectiveBatchSize} (${ci(last.lossStd)}) is not detectably below that at ${first.effectiveBatchSize} (${ci(first.lossStd)}); ` +
        `train longer, on more data or with more seeds (--seeds) before drawing conclusions.` +
        problem,
    };
  }
  const lrGroups = [...groupBy(configs, (c) => batchLabel(c)).values()].filter((group) => group.length >= 2);
  const lrSeparates = lrGroups.some((group) => group.some((a, i) => group.slice(i + 1).some((b) => intervalsSeparate(a.lossStd, b.lossStd))));
  const lrPart = lrGroups.length
    ? lrSeparates
      ? ", while changing the learning rate changed it detectably too (see the learning-rate finding)"
      : ", while changing the learning rate made no detectable difference"
    : "";
  const f1s = comparison.filter((c) => Number.isFinite(c.devF1.mean));
  const bestF1 = f1s.length ? Math.max(...f1s.map((c) => c.devF1.mean)) : NaN;
  const f1Differs = f1s.some((a, i) => f1s.slice(i + 1).some((b) => intervalsSeparate(a.devF1, b.devF1)));
  const worstF1 = f1s.length ? Math.min(...f1s.map((c) => c.devF1.mean)) : NaN;
  const f1Part = !(bestF1 >= 0.5)
    ? ` Dev F1 is at most ${fmt(bestF1, 2)}: at this size the model has not learned the task, so only the loss numbers mean something here.`
    : !(worstF1 >= 0.5)
      ? ` Dev F1 is below 0.5 in some of these configurations (means from ${fmt(worstF1, 2)} to ${fmt(bestF1, 2)}${f1Differs ? "" : ", no detectable difference with these seeds"}): ` +
        `at this size and budget the model does not learn the task reliably, so only the loss numbers mean something here.`
      : f1Differs
        ? ` Dev F1 differed detectably between some of these configurations (with the same number of examples, a bigger effective batch also means fewer updates).`
        : ` Dev F1 showed no detectable difference between these configurations: the noisy curve was not a sign of bad training.`;
  return {
    topic: "answer",
    text:
      `Why does the loss fluctuate? Sampling noise of small batches. Going from effective batch ${first.effectiveBatchSize} to ${last.effectiveBatchSize} cut the late-training loss std ` +
      `from ${ci(first.lossStd)} to ${ci(last.lossStd)} (95% intervals over ${seeds} seeds separate)${lrPart}: ` +
      `each step's loss is measured on only a few examples, and a learning rate does not change which examples those are.${f1Part} ` +
      `Gradient accumulation fixes the curve: it gives the effective batch (and smoothness) of a big batch at the memory cost of a small one. ` +
      `Judge training by the smoothed loss and dev metrics, not by single steps.` +
      problem,
  };
}

/** The question's setup: allenai/longformer-base-4096 (its published config) at 4096 tokens on 8 GPUs of 12 GB. */
export const QUESTION_SETUP = { model: "allenai/longformer-base-4096", sequenceLength: 4096, devices: 8, memoryBytes: 12 * 1024 ** 3 };

/** longformer-base-4096's architecture (config.json on the Hub), for planning without a download. */
function longformerBase4096(): LongformerConfig {
  return new LongformerConfig({
    vocab_size: 50265,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    max_position_embeddings: 4098,
    attention_window: 512,
    pad_token_id: 1,
    num_labels: 2,
  });
}

/** Per-device batch x devices x accumulation for the question's setup, from the planner and the measured B_crit (or B_simple). */
export function recommendationFinding(critical: CriticalBatchStudy | undefined, predictions: DevPredictions = new Map()): StudyFinding | undefined {
  const bCrit = critical?.fit?.bCrit;
  const bSimple = critical?.noiseScale.mean;
  const target = bCrit !== undefined && Number.isFinite(bCrit) ? bCrit : bSimple !== undefined && Number.isFinite(bSimple) ? bSimple : undefined;
  if (target === undefined) return undefined;
  const { devices, sequenceLength, memoryBytes, model } = QUESTION_SETUP;
  const batch = Math.max(devices, Math.round(target));
  const config = longformerBase4096();
  const plans = [false, true].map((checkpointing) =>
    planBatch({ config, sequenceLength, memoryBytes, devices, targetEffectiveBatch: batch, checkpointing, backend: "tensorflow" }),
  );
  const best = plans.find((p) => p.fits && p.perDeviceBatchSize > 1) ?? plans.find((p) => p.fits) ?? plans[0];
  const source =
    bCrit !== undefined && Number.isFinite(bCrit)
      ? `the measured B_crit ≈ ${fmt(bCrit)}`
      : `the B_simple estimate ≈ ${fmt(bSimple!)} (B_crit could not be fitted)`;
  const baseline = constantBaselineF1(predictions);
  const caveat =
    baseline !== undefined && critical && critical.batches.every((b) => !(b.devF1.mean > baseline + 0.01))
      ? " Caution: no configuration of this study learned the task (none beat a constant prediction on dev), so this batch is a placeholder until a study on a model that learns measures it."
      : "";
  const memory = plans
    .map(
      (p) =>
        `${p.checkpointing ? "with" : "without"} gradient checkpointing: ${p.fits ? `${p.largestFittingBatch} per device fit${p.largestFittingBatch === 1 ? "s" : ""} (${formatBytes(p.estimate.totalBytes)} predicted at batch ${p.perDeviceBatchSize})` : "not even 1 example fits"}`,
    )
    .join("; ");
  const peak = (batchSize: number, accumulationSteps: number, checkpointing: boolean) =>
    formatBytes(estimateTrainingMemory({ config, sequenceLength, batchSize, accumulationSteps, checkpointing, backend: "tensorflow" }).totalBytes);
  const pairs = [
    [8, 1],
    [1, 8],
  ]
    .map(([b, k]) => `${b} x ${k}: ${peak(b, k, false)} (${peak(b, k, true)} with checkpointing)`)
    .join("; ");
  return {
    topic: "recommendation",
    text:
      `Recommendation for ${model} at ${sequenceLength} tokens on ${devices} GPUs of ${formatBytes(memoryBytes)}: aim for an effective batch near ${source} of this study's model and data ` +
      `(re-measure on yours: B_crit grows as the loss falls), i.e. ${best.perDeviceBatchSize} per device x ${devices} devices x ${best.gradientAccumulationSteps} accumulation = ${best.effectiveBatchSize}` +
      `${best.checkpointing ? " with gradient checkpointing" : ""}, and re-tune the learning rate at that batch. Planner (tsml plan, not calibrated for GPUs): ${memory}. ` +
      `Predicted peak per device for an effective batch of 8 per device: ${pairs} — accumulation is what makes a batch of 8 fit where 8 at once does not (the measured peaks of this study's small model are in the accumulation finding).` +
      caveat,
  };
}

/** The budget every comparison shares, stated once. */
function budgetFinding(budget: string | undefined): StudyFinding | undefined {
  return budget ? { topic: "budget", text: `Budget: every run had ${budget}; every comparison below is at that budget.` } : undefined;
}

/** The best learning rate per configuration (highest mean dev F1 over seeds), with every rate tried. */
function bestRateFinding(critical: CriticalBatchStudy | undefined): StudyFinding | undefined {
  if (!critical || !critical.batches.some((b) => b.rates.length > 1)) return undefined;
  const parts = critical.batches.map(
    (b) => `${batchLabel(b)}: best lr ${lr(b.bestLearningRate)} (${b.rates.map((r) => `${lr(r.learningRate)} -> ${ci(r.devF1)}`).join(", ")})`,
  );
  const rates = (b: CriticalBatchStudy["batches"][number]) => b.rates.map((r) => r.learningRate);
  const edge = critical.batches.filter(
    (b) => b.rates.length >= 3 && (b.bestLearningRate === Math.max(...rates(b)) || b.bestLearningRate === Math.min(...rates(b))),
  );
  const edgeText = edge.length
    ? ` For ${edge.map((b) => batchLabel(b)).join(", ")} the best rate is at the edge of the rates tried: the optimum may lie beyond it (extend --lr).`
    : "";
  return { topic: "bestRate", text: `Learning rate re-tuned per effective batch (dev F1, mean [95% CI] over seeds): ${parts.join("; ")}.${edgeText}` };
}

/** ", dev F1 0.8 after S ..." for a configuration measured against a dev target. */
const devTarget = (b: CriticalBatchStudy["batches"][number]) =>
  b.devSteps === undefined
    ? ""
    : b.devSteps.n > 0
      ? `; dev F1 target after S ${ci(b.devSteps)} (${b.devSteps.n} of ${b.runs} seeds reached it)`
      : "; dev F1 target never reached";

/** " [low, high]", or "" when the interval is unknown. */
const range = ([low, high]: [number, number]) => (Number.isFinite(low) && Number.isFinite(high) ? ` [${fmt(low)}, ${fmt(high)}]` : "");

/** Steps and examples to the target per batch, and the fit. */
function criticalBatchFinding(critical: CriticalBatchStudy | undefined): StudyFinding | undefined {
  if (!critical || critical.batches.length === 0) return undefined;
  const rows = critical.batches.map((b) =>
    b.steps.n > 0
      ? `${batchLabel(b)}: S ${ci(b.steps)}, E ${ci(b.examples)}${b.notReached.length ? ` (${b.notReached.length} of ${b.runs} seeds never reached it)` : ""}${devTarget(b)}`
      : `${batchLabel(b)}: never reached it`,
  );
  const fit = critical.fit;
  const fitText = fit
    ? `Fit S = S_min (1 + B_crit/B): S_min ${fmt(fit.sMin)}${range(fit.sMinInterval)} steps, E_min ${fmt(fit.eMin)}${range(fit.eMinInterval)} examples, B_crit ${fmt(fit.bCrit)}${range(fit.bCritInterval)} (${Number.isFinite(fit.bCritInterval[0]) ? "95% bootstrap over seeds" : "no interval: one seed per batch"}; ${critical.fitNote}).`
    : `${critical.fitNote.charAt(0).toUpperCase()}${critical.fitNote.slice(1)}.`;
  return {
    topic: "criticalBatch",
    text: `Steps S and examples E to the target training loss ${fmt(critical.targetLoss)}${critical.targetDevF1 !== undefined ? ` (and S to dev F1 ${fmt(critical.targetDevF1)}, dev evaluated every ~${DEV_TARGET_EVAL_EXAMPLES} examples)` : ""} (the loss averaged over windows of ${critical.windowExamples} examples, the same for every batch; target ${critical.targetSource}), geometric mean [95% CI] over seeds at each batch's best rate: ${rows.join("; ")}. ${fitText} ${critical.agreement}`,
  };
}

/** What the findings are drawn from beyond the result rows: the critical-batch measurement and the shared budget. */
export interface StudyEvidence {
  critical?: CriticalBatchStudy;
  /** e.g. "equal examples (2 epoch(s) each; ...)". */
  budget?: string;
}

/**
 * The findings of a study, answer first (why the loss fluctuates / whether it is a problem), then the
 * recommendation, the budget and the evidence; topics without enough runs are left out.
 */
export function concludeStudy(results: RunResult[], predictions: DevPredictions = new Map(), evidence: StudyEvidence = {}): StudyFinding[] {
  if (results.length === 0) return [{ topic: "answer", text: "No run finished, so there is nothing to conclude yet." }];
  const configs = summarizeConfigurations(results, predictions);
  const { critical, budget } = evidence;
  const findings = [
    answerFinding(configs, results, predictions, critical),
    recommendationFinding(critical, predictions),
    budgetFinding(budget),
    bestRateFinding(critical),
    criticalBatchFinding(critical),
    fluctuationFinding(configs, results),
    learningRateFinding(configs),
    noiseScaleFinding(configs),
    accumulationFinding(configs),
    metricsFinding(configs),
  ];
  return findings.filter((f): f is StudyFinding => f !== undefined);
}
