/**
 * The critical batch, measured (McCandlish et al. 2018): for each (per-device batch, accumulation) configuration at
 * its best learning rate on dev, the optimizer steps S and examples E each seed took until its training loss, averaged
 * over a window of the same number of examples for every batch, first reached a target (and, where dev was evaluated during training, until dev F1 reached a target), then the fit
 * of S = S_min (1 + B_crit / B) over effective batches B (src/stats/criticalBatch.ts), set beside the B_simple
 * gradient noise scale the runs with accumulation estimated.
 */
import type { RunHistory, RunResult } from "../experiments";
import { boundedTInterval, fitCriticalBatch, fitStepsLaw, formatInterval, logTInterval, type ConfidenceInterval, type CriticalBatchFit } from "../stats";
import { formatNumber, groupBy } from "../util";

/** With a dev F1 target, runs evaluate on dev after every this many training examples (rounded to whole steps). */
export const DEV_TARGET_EVAL_EXAMPLES = 128;

/** One learning rate of a configuration, over its seeds. */
export interface RateSummary {
  learningRate: number;
  devF1: ConfidenceInterval;
  smoothedFinalLoss: ConfidenceInterval;
}

/** One configuration at its best learning rate: the steps and examples to the target over its seeds. */
export interface BatchAtBestRate {
  perDeviceBatchSize: number;
  gradientAccumulationSteps: number;
  effectiveBatchSize: number;
  /** Every learning rate tried, best first is `bestLearningRate`. */
  rates: RateSummary[];
  bestLearningRate: number;
  devF1: ConfidenceInterval;
  /** Training throughput, examples per second, over the seeds at the best rate. */
  examplesPerSecond: ConfidenceInterval;
  /** Geometric means with log-scale t-intervals over the seeds that reached the target (positive quantities). */
  steps: ConfidenceInterval;
  examples: ConfidenceInterval;
  /** Steps to the dev F1 target (when dev was evaluated during training and a target was given). */
  devSteps?: ConfidenceInterval;
  /** Run ids at the best rate that never reached the target loss. */
  notReached: string[];
  runs: number;
}

/** The critical-batch measurement of a study. */
export interface CriticalBatchStudy {
  targetLoss: number;
  /** "given" (grid target) or how the target was chosen. */
  targetSource: string;
  /** Examples each loss value averages (the same for every batch; see `windowedLoss`). */
  windowExamples: number;
  targetDevF1?: number;
  batches: BatchAtBestRate[];
  /** The fit over the runs that reached the target, or null with `fitNote` saying why not. */
  fit: CriticalBatchFit | null;
  fitNote: string;
  /** B_simple over the runs with accumulation (geometric mean [95% CI on the log scale]). */
  noiseScale: ConfidenceInterval;
  /** One sentence: do B_crit and B_simple agree? */
  agreement: string;
}

const fmt = (v: number, digits = 3) => formatNumber(v, digits);

/** One logged step of a run, as log.jsonl has it. */
interface LoggedStep {
  step: number;
  examplesSeen: number;
  loss: number;
}

/**
 * A run's training loss averaged over trailing windows of `windowExamples` examples (the same number of examples for
 * every batch size, so a batch-1 curve is as steady as a batch-64 one), each placed at the step and examples of the
 * window's middle (so the average does not lag). Steps before the first full window have no value.
 */
export function windowedLoss(history: readonly LoggedStep[], windowExamples: number): { steps: number; examples: number; loss: number }[] {
  const out: { steps: number; examples: number; loss: number }[] = [];
  const sizes = history.map((r, i) => r.examplesSeen - (i > 0 ? history[i - 1].examplesSeen : 0));
  let start = 0;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < history.length; i++) {
    if (!Number.isFinite(history[i].loss)) return out;
    sum += history[i].loss * sizes[i];
    count += sizes[i];
    while (start < i && count - sizes[start] >= windowExamples) {
      sum -= history[start].loss * sizes[start];
      count -= sizes[start];
      start++;
    }
    if (count < windowExamples) continue;
    const middleExamples = history[i].examplesSeen - count / 2;
    let m = start;
    while (m < i && history[m].examplesSeen < middleExamples) m++;
    out.push({ steps: history[m].step, examples: history[m].examplesSeen, loss: sum / count });
  }
  return out;
}

/** Where a run's windowed loss (see `windowedLoss`) first reaches `target`: its steps and examples (undefined: never). */
export function stepsToTarget(history: readonly LoggedStep[], target: number, windowExamples: number): { steps: number; examples: number } | undefined {
  const hit = windowedLoss(history, windowExamples).find((r) => r.loss <= target);
  return hit ? { steps: hit.steps, examples: hit.examples } : undefined;
}

/** The best learning rate of a configuration: highest mean dev F1, then lowest smoothed final loss. */
function bestRate(rates: RateSummary[]): RateSummary {
  const score = (r: RateSummary) => (Number.isFinite(r.devF1.mean) ? r.devF1.mean : -Infinity);
  return rates.reduce((best, r) => (score(r) > score(best) || (score(r) === score(best) && r.smoothedFinalLoss.mean < best.smoothedFinalLoss.mean) ? r : best));
}

/**
 * Measures steps and examples to the target per configuration at its best rate and fits S_min, E_min, B_crit.
 * Without a `targetLoss` the target is the highest of the configurations' mean minimum smoothed losses (a loss each
 * reached on average), at most halfway from the mean initial loss to the lowest loss any run reached.
 */
export function measureCriticalBatch(
  results: RunResult[],
  histories: RunHistory[],
  options: { targetLoss?: number; targetDevF1?: number; seed?: number; windowExamples?: number } = {},
): CriticalBatchStudy {
  const historyOf = new Map(histories.map((h) => [h.run, h.history]));
  const windowExamples = options.windowExamples ?? Math.max(16, ...results.map((r) => r.effectiveBatchSize));
  const configs = [...groupBy(results, (r) => `${r.perDeviceBatchSize}|${r.gradientAccumulationSteps}`).values()];
  const picked = configs.map((runs) => {
    const rates = [...groupBy(runs, (r) => String(r.learningRate)).values()].map((group) => ({
      learningRate: group[0].learningRate,
      devF1: boundedTInterval(
        group.map((r) => r.devF1),
        0,
        1,
      ),
      smoothedFinalLoss: logTInterval(group.map((r) => r.smoothedFinalLoss)),
      runs: group,
    }));
    const best = bestRate(rates);
    return { first: runs[0], rates, best, bestRuns: rates.find((r) => r === best)!.runs };
  });
  const curve = (r: RunResult) => historyOf.get(r.runId) ?? [];
  const windowed = new Map(results.map((r) => [r.runId, windowedLoss(curve(r), windowExamples)]));
  const minLoss = (r: RunResult) => Math.min(...windowed.get(r.runId)!.map((h) => h.loss));
  const bestRuns = picked.flatMap((p) => p.bestRuns).filter((r) => windowed.get(r.runId)!.length > 0);
  let targetLoss = options.targetLoss ?? NaN;
  let targetSource = "given in the grid (target.loss)";
  if (options.targetLoss === undefined && bestRuns.length > 0) {
    const initial = bestRuns.reduce((s, r) => s + windowed.get(r.runId)![0].loss, 0) / bestRuns.length;
    const lowest = Math.min(...bestRuns.map(minLoss));
    const reachedByAll = Math.max(
      ...picked
        .filter((p) => p.bestRuns.some((r) => windowed.get(r.runId)!.length > 0))
        .map((p) => p.bestRuns.reduce((s, r) => s + minLoss(r), 0) / p.bestRuns.length),
    );
    const halfway = (initial + lowest) / 2;
    targetLoss = Math.min(reachedByAll, halfway);
    targetSource =
      targetLoss === reachedByAll
        ? `chosen as the highest of the configurations' mean lowest loss (${fmt(reachedByAll)}), a loss each configuration reached on average`
        : `chosen halfway between the mean initial loss ${fmt(initial)} and the lowest loss reached ${fmt(lowest)} (some configuration never got lower than ${fmt(reachedByAll)})`;
  }
  const batches: BatchAtBestRate[] = picked
    .map((p) => {
      const reached = p.bestRuns.map((r) => ({ r, hit: stepsToTarget(curve(r), targetLoss, windowExamples) }));
      const hits = reached.filter((x) => x.hit).map((x) => x.hit!);
      const devSteps =
        options.targetDevF1 === undefined
          ? undefined
          : logTInterval(p.bestRuns.map((r) => curve(r).find((h) => Number(h.eval_f1) >= options.targetDevF1!)?.step ?? NaN));
      return {
        perDeviceBatchSize: p.first.perDeviceBatchSize,
        gradientAccumulationSteps: p.first.gradientAccumulationSteps,
        effectiveBatchSize: p.first.effectiveBatchSize,
        rates: p.rates.map(({ learningRate, devF1, smoothedFinalLoss }) => ({ learningRate, devF1, smoothedFinalLoss })),
        bestLearningRate: p.best.learningRate,
        devF1: p.best.devF1,
        examplesPerSecond: logTInterval(p.bestRuns.map((r) => r.examplesPerSecond)),
        steps: logTInterval(hits.map((h) => h.steps)),
        examples: logTInterval(hits.map((h) => h.examples)),
        ...(devSteps ? { devSteps } : {}),
        notReached: reached.filter((x) => !x.hit).map((x) => x.r.runId),
        runs: p.bestRuns.length,
      };
    })
    .sort((a, b) => a.effectiveBatchSize - b.effectiveBatchSize || a.perDeviceBatchSize - b.perDeviceBatchSize);
  const points = picked.flatMap((p) =>
    p.bestRuns.flatMap((r) => {
      const hit = stepsToTarget(curve(r), targetLoss, windowExamples);
      return hit ? [{ batch: r.effectiveBatchSize, steps: hit.steps }] : [];
    }),
  );
  const distinct = new Set(points.map((p) => p.batch)).size;
  const fit = distinct >= 2 ? fitCriticalBatch(points, { seed: options.seed ?? 0 }) : null;
  const missed = batches.flatMap((b) => b.notReached);
  const fitNote =
    distinct < 2
      ? `no fit was possible: runs of ${distinct} effective batch size(s) reached the target loss ${fmt(targetLoss)} (the fit needs at least 2)`
      : !fit
        ? `no fit was possible: ${whyNoFit(points)} (target loss ${fmt(targetLoss)})`
        : `fitted on ${points.length} runs over effective batches ${fit.batches.join(", ")}` +
          (fit.batches.length === 2
            ? " (two batch sizes determine the two parameters exactly: nothing checks the curve's shape; the interval reflects the seeds' spread only)"
            : "") +
          (missed.length ? `; left out (never reached the target): ${missed.join(", ")}` : "");
  const noiseScale = logTInterval(results.filter((r) => r.gradientAccumulationSteps > 1).map((r) => r.noiseScale));
  return {
    targetLoss,
    targetSource,
    windowExamples,
    targetDevF1: options.targetDevF1,
    batches,
    fit,
    fitNote,
    noiseScale,
    agreement: agreementSentence(fit, noiseScale),
  };
}

/** Why S = α + β/B has no valid fit: α ≤ 0 (steps fall as fast as 1/B or faster) or β ≤ 0 (they do not fall). */
function whyNoFit(points: { batch: number; steps: number }[]): string {
  const law = fitStepsLaw(points);
  if (law && law.beta > 0) {
    return "the steps to the target fall as fast as 1/B or faster over the batches tried (S_min would be <= 0): perfect scaling, so B_crit is above the largest batch that reached the target, or the seeds are too noisy to tell";
  }
  return "the steps to the target do not fall as the batch grows (E_min would be <= 0): B_crit is below the smallest batch tried, or the seeds are too noisy to tell";
}

/** Whether the measured B_crit and the B_simple estimate agree (McCandlish et al. find B_crit ≈ B_simple within ~an order of magnitude). */
function agreementSentence(fit: CriticalBatchFit | null, noise: ConfidenceInterval): string {
  if (!fit) return "B_crit could not be fitted, so it cannot be compared with B_simple.";
  if (!(noise.n > 0 && Number.isFinite(noise.mean))) return "No run with accumulation gave a B_simple estimate to compare B_crit with.";
  const [low, high] = fit.bCritInterval;
  const overlap = Number.isFinite(low) && Number.isFinite(noise.low) ? !(high < noise.low || noise.high < low) : false;
  const ratio = fit.bCrit / noise.mean;
  const within = ratio > 1 / 3 && ratio < 3;
  const verdict = overlap
    ? "their intervals overlap: they agree"
    : within
      ? "they agree within a factor of 3, though their intervals do not overlap"
      : `they disagree: B_crit is ${fmt(ratio > 1 ? ratio : 1 / ratio, 2)}x ${ratio > 1 ? "larger" : "smaller"}`;
  return (
    `Measured B_crit ${fmt(fit.bCrit)}${Number.isFinite(low) ? ` [${fmt(low)}, ${fmt(high)}]` : ""} vs the B_simple estimate ${formatInterval(noise)}: ${verdict}` +
    " (the paper finds B_crit ≈ B_simple for well-tuned runs; B_simple assumes an optimal step size, so it is only a first guess)."
  );
}
