/**
 * The batch-size / gradient-accumulation study: tsml's founding question, answered by a grid of runs.
 * Batch 8 without accumulation, 8 x 4 and 8 x 8 accumulation, and the small-batch runs (batch 1, batch 1 x 8),
 * at learning rates like the question's; then results.csv, charts, report.html and a measured conclusion.
 */
import * as fs from "fs";
import * as path from "path";
import type { DataFrame } from "danfojs-node";
import {
  collectProvenance,
  readGridDevPredictions,
  readGridHistories,
  runGrid,
  RUN_FILES,
  type GridRunOptions,
  type GridRunSummary,
  type GridSpec,
  type JsonValue,
  type Provenance,
  type RunResult,
  type RunTraining,
} from "../experiments";
import { maskQueueArguments, maskRedisUrl, queueExecutor } from "../queue";
import { ensureWritableFolder, requirePathComponent } from "../io";
import { concludeStudy, summarizeConfigurations, type ConfigurationSummary, type StudyFinding } from "./conclusion";
import { DEV_TARGET_EVAL_EXAMPLES, measureCriticalBatch, type CriticalBatchStudy } from "./criticalBatch";
import { writeStudyReport, type StudyReportFiles } from "./report";
import { requirePositiveInteger } from "../util";

/** The question the study answers. */
export const STUDY_QUESTION =
  "I fine-tune a Longformer for document binary classification with batch 1 per GPU x 8 GPUs; accuracy and F1 are fine, " +
  "but the training loss fluctuates wildly, and learning rates 1e-4, 1e-5 and 1e-6 change nothing. Why, and does gradient accumulation fix it?";

/** How big a study is: "default" (~5 min on 2 cores), "quick" (under 3 min) or "small" (seconds; notebooks in CI). */
export type StudySize = "default" | "quick" | "small";

/** The study sizes, in the order `--size` lists them. */
export const STUDY_SIZES: readonly StudySize[] = ["small", "quick", "default"];

/**
 * What every configuration trains for, the same for all so comparisons are fair: equal `epochs` or `examples`
 * (equal examples: a bigger batch takes fewer optimizer steps), or equal optimizer `steps` (a bigger batch sees more
 * examples). Exactly one of the three.
 */
export type StudyBudget = { epochs: number } | { examples: number } | { steps: number };

/** The user's documents: a training file and optional dev / test files (CSV, TSV, JSONL or a folder per class). */
export interface StudyData {
  train: string;
  dev?: string;
  test?: string;
  /** Column of the document text (default "text"). */
  textColumn?: string;
  /** Column of the label (default "label"). */
  labelColumn?: string;
}

/**
 * The grid of a study (the `--grid FILE` keys): every per-device batch with every accumulation, each at every
 * learning rate (re-tuned per effective batch: at least 3 rates is what lets the report compare batches at their
 * best rate), on `devices` simulated devices (a micro-batch of perDeviceBatch x devices examples, as data-parallel
 * training averages them), with `seeds` seeds, one `budget`, and the `target` the critical-batch measurement uses.
 */
export interface StudyGridOptions {
  perDeviceBatch?: number[];
  accumulation?: number[];
  /** Explicit (perDeviceBatch, accumulation) pairs instead of every combination. */
  configurations?: { perDeviceBatch: number; accumulation: number }[];
  devices?: number;
  learningRates?: number[];
  seeds?: number;
  budget?: StudyBudget;
  /** Training loss (averaged over a window of examples) and dev F1 to reach; default: a loss every best-rate configuration reached. */
  target?: { loss?: number; devF1?: number };
}

/** Options of `runStudy` (all optional). */
export interface StudyOptions {
  size?: StudySize;
  /** Registered task to study. Default "spam-longformer"; "text-longformer" when `data` is given. */
  task?: string;
  /** Own documents instead of SpamAssassin. */
  data?: StudyData;
  /** Tokens per document (default: the preset's, 128 for SpamAssassin). */
  maxLength?: number;
  /** A Hugging Face Longformer checkpoint directory (config.json, model.safetensors, tokenizer) to fine-tune. */
  modelDir?: string;
  /** The grid; unset fields come from the preset of `size`. */
  grid?: StudyGridOptions;
  /** Seeds per configuration (0 .. seeds-1; default 3, "quick": 2, "small": 1): every figure gets a 95% interval over them. */
  seeds?: number;
  /** Parent folder of run directories. Default "runs". */
  runsDir?: string;
  /** Parent folder of reports. Default "reports". */
  reportsDir?: string;
  /** Name of the grid and the report folder. Default "study" (or "study-quick" / "study-small"). */
  name?: string;
  workers?: number;
  /** Run the trials on this Redis queue (served by `tsml worker`s) instead of local workers; see `GridRunOptions.queue`. */
  queue?: string;
  /** Called with every worker event (progress display). */
  onEvent?: GridRunOptions["onEvent"];
  /** One-line messages (preparation, report). */
  log?: (line: string) => void;
  /** The command line to record; defaults to this process's argv. */
  commandLine?: string[];
}

/** What a finished study produced. */
export interface StudyOutcome {
  grid: GridRunSummary;
  results: RunResult[];
  frame: DataFrame;
  findings: StudyFinding[];
  /** Each configuration over its seeds: means with 95% intervals. */
  configurations: ConfigurationSummary[];
  /** Steps and examples to the target per effective batch, and the S_min / E_min / B_crit fit. */
  criticalBatch: CriticalBatchStudy;
  report: StudyReportFiles;
  reportDir: string;
}

interface StudyPreset {
  taskConfig: Record<StudySize, Record<string, JsonValue>>;
  /** Shared training arguments (logging, checkpoints). */
  training: Record<StudySize, RunTraining>;
  grid: Record<StudySize, Required<Pick<StudyGridOptions, "learningRates" | "seeds" | "budget">> & StudyGridOptions>;
}

/**
 * Data and model sizes of the spam study (default and quick): masked-LM pretraining on a pool of 2,048 e-mails
 * (cached), then fine-tuning on 512 of them. Pretraining is what lets the large effective batches learn at all in
 * this budget.
 */
const SPAM_SIZES: Record<string, JsonValue> = {
  trainExamples: 512,
  pretrainExamples: 2048,
  devExamples: 256,
  testExamples: 256,
  maxLength: 128,
  vocabSize: 2000,
  attentionWindow: 32,
  hiddenSize: 64,
  layers: 1,
  pretrainEpochs: 3,
  pretrainLearningRate: 3e-3,
};

/** The model sizes used for own data (no SpamAssassin subset sizes). */
const OWN_DATA_SIZES: Record<StudySize, Record<string, JsonValue>> = {
  default: { maxLength: 128, vocabSize: 2000, attentionWindow: 32, hiddenSize: 64, layers: 1, pretrainEpochs: 3, pretrainLearningRate: 3e-3 },
  quick: { maxLength: 128, vocabSize: 2000, attentionWindow: 32, hiddenSize: 64, layers: 1, pretrainEpochs: 2, pretrainLearningRate: 3e-3 },
  small: { maxLength: 64, vocabSize: 400, attentionWindow: 16, hiddenSize: 32, layers: 1, pretrainEpochs: 1, pretrainLearningRate: 3e-3 },
};

/**
 * The spam study's grid: per-device batch {1, 8} x accumulation {1, 8} (effective batches 1, 8 — reached both ways —
 * and 64), each at three learning rates 3x apart around the rate a tiny encoder fine-tuned for a few hundred steps
 * needs (1e-3: 10x a big pretrained Longformer's 1e-4; at 1e-5 the small model does not leave its initial loss),
 * with 3 seeds and an equal budget of 2 epochs (1,024 examples) per run: 36 runs. Cost, from CPU seconds measured
 * per fine-tuning run at these sizes (one thread): ~0.66 ms per example at micro-batch 8, ~5.6 ms at batch 1, ~6.9 ms
 * at 1 x 8, plus ~2.5 s per run (model build, dev/test evaluation, worker start): ~220 CPU-s of fine-tuning, against
 * ~210 for the earlier grid of 7 configurations x 5 seeds x 3 epochs; the cached masked-LM pretraining is unchanged.
 */
/** The configurations of every preset's small (CI) size: both ways to an effective batch of 8, and 1, 32, 64. */
const SMALL_CONFIGURATIONS = [
  { perDeviceBatch: 8, accumulation: 1 },
  { perDeviceBatch: 8, accumulation: 4 },
  { perDeviceBatch: 8, accumulation: 8 },
  { perDeviceBatch: 1, accumulation: 1 },
  { perDeviceBatch: 1, accumulation: 8 },
];

const SPAM_GRID: StudyPreset["grid"] = {
  default: { perDeviceBatch: [1, 8], accumulation: [1, 8], learningRates: [3e-4, 1e-3, 3e-3], seeds: 3, budget: { epochs: 2 } },
  quick: { perDeviceBatch: [1, 8], accumulation: [1, 8], learningRates: [3e-4, 1e-3, 3e-3], seeds: 2, budget: { epochs: 1 } },
  small: {
    configurations: SMALL_CONFIGURATIONS,
    learningRates: [1e-3],
    seeds: 1,
    budget: { epochs: 1 },
  },
};

const PRESETS: Record<string, StudyPreset> = {
  "spam-longformer": {
    taskConfig: {
      default: { ...SPAM_SIZES },
      quick: { ...SPAM_SIZES },
      small: {
        trainExamples: 16,
        devExamples: 8,
        testExamples: 8,
        maxLength: 128,
        attentionWindow: 32,
        hiddenSize: 32,
        layers: 1,
        vocabSize: 400,
        pretrainEpochs: 1,
        pretrainLearningRate: 3e-3,
      },
    },
    training: {
      default: { loggingSteps: 1, saveSteps: 64 },
      quick: { loggingSteps: 1, saveSteps: 64 },
      small: { loggingSteps: 1, saveSteps: 4 },
    },
    grid: SPAM_GRID,
  },
  "text-longformer": {
    taskConfig: OWN_DATA_SIZES,
    training: {
      default: { loggingSteps: 1, saveSteps: 64 },
      quick: { loggingSteps: 1, saveSteps: 64 },
      small: { loggingSteps: 1, saveSteps: 4 },
    },
    grid: {
      default: SPAM_GRID.default,
      quick: SPAM_GRID.quick,
      small: { perDeviceBatch: [1, 4], accumulation: [1, 4], learningRates: [1e-3, 3e-3, 1e-2], seeds: 2, budget: { epochs: 1 } },
    },
  },
  "synthetic-logreg": {
    taskConfig: {
      default: { trainExamples: 2048, devExamples: 512, testExamples: 512 },
      quick: { trainExamples: 512, devExamples: 256, testExamples: 256 },
      small: { trainExamples: 128, devExamples: 64, testExamples: 64 },
    },
    training: {
      default: { loggingSteps: 1, saveSteps: 50 },
      quick: { loggingSteps: 1, saveSteps: 50 },
      // Frequent (tiny) checkpoints: the small study is the one CI kills and resumes.
      small: { loggingSteps: 1, saveSteps: 8 },
    },
    grid: {
      default: { perDeviceBatch: [1, 8], accumulation: [1, 8], learningRates: [0.005, 0.05, 0.5], seeds: 3, budget: { epochs: 2 } },
      quick: { perDeviceBatch: [1, 8], accumulation: [1, 8], learningRates: [0.005, 0.05, 0.5], seeds: 2, budget: { epochs: 2 } },
      small: {
        configurations: SMALL_CONFIGURATIONS,
        learningRates: [0.05],
        seeds: 1,
        budget: { epochs: 1 },
      },
    },
  },
};

/** Names of the tasks that have a study preset. */
export function studyTasks(): string[] {
  return Object.keys(PRESETS);
}

/** The grid options of a study: the preset of its size with the caller's fields on top (seeds: `options.seeds` first). */
export function studyGridOptions(
  options: Pick<StudyOptions, "size" | "task" | "data" | "grid" | "seeds"> = {},
): Required<Pick<StudyGridOptions, "learningRates" | "seeds" | "budget" | "devices">> & StudyGridOptions {
  const task = options.task ?? (options.data ? "text-longformer" : "spam-longformer");
  const preset = PRESETS[task];
  if (!preset) throw new Error(`no study preset for task "${task}"; tasks with a preset: ${studyTasks().join(", ")}`);
  const size = options.size ?? "default";
  if (!STUDY_SIZES.includes(size)) throw new Error(`study size must be "small", "quick" or "default" (--size), got ${JSON.stringify(size)}`);
  const base = preset.grid[size];
  const given = options.grid ?? {};
  // Flags for batches or accumulation replace the preset's explicit pairs.
  const pairsFromPreset = given.perDeviceBatch || given.accumulation || given.configurations ? {} : { configurations: base.configurations };
  const grid = { devices: 1, ...base, configurations: undefined, ...pairsFromPreset, ...given };
  if (options.seeds !== undefined) grid.seeds = options.seeds;
  return grid;
}

/** The (per-device batch, accumulation) pairs of a grid. */
function gridPairs(grid: StudyGridOptions): { perDeviceBatch: number; accumulation: number }[] {
  if (grid.configurations) return grid.configurations;
  const batches = grid.perDeviceBatch ?? [8];
  const accumulation = grid.accumulation ?? [1];
  return batches.flatMap((perDeviceBatch) => accumulation.map((a) => ({ perDeviceBatch, accumulation: a })));
}

/** The training arguments of a budget: epochs, or maxSteps (equal steps, or examples / effective batch). */
function budgetArguments(budget: StudyBudget, effectiveBatch: number): RunTraining {
  if ("steps" in budget) return { maxSteps: budget.steps };
  if ("examples" in budget) return { maxSteps: Math.max(1, Math.ceil(budget.examples / effectiveBatch)) };
  return { epochs: budget.epochs };
}

/** "equal examples (2 epochs each)", "equal optimizer steps (100 each)": what a study's runs share. */
export function budgetText(budget: StudyBudget): string {
  if ("steps" in budget) return `equal optimizer steps (${budget.steps} each; a bigger batch sees more examples)`;
  if ("examples" in budget) return `equal examples (${budget.examples} each; a bigger batch takes fewer optimizer steps)`;
  return `equal examples (${budget.epochs} epoch(s) each; a bigger batch takes fewer optimizer steps)`;
}

/**
 * The study's grid: every (per-device batch x devices, accumulation) pair at every learning rate, with the seeds
 * as an axis, all at the same budget. Validates every number, naming the field.
 */
export function studyGrid(options: Pick<StudyOptions, "size" | "task" | "data" | "maxLength" | "modelDir" | "seeds" | "grid"> = {}): GridSpec {
  const task = options.task ?? (options.data ? "text-longformer" : "spam-longformer");
  const size = options.size ?? "default";
  const grid = studyGridOptions(options);
  const preset = PRESETS[task];
  const pairs = gridPairs(grid);
  if (pairs.length === 0) throw new Error("the study grid has no configuration (perDeviceBatch and accumulation must not be empty)");
  for (const p of pairs) {
    requirePositiveInteger(p.perDeviceBatch, "study grid: perDeviceBatch");
    requirePositiveInteger(p.accumulation, "study grid: accumulation");
  }
  requirePositiveInteger(grid.devices, "study grid: devices");
  requirePositiveInteger(grid.seeds, "study seeds");
  if (grid.learningRates.length === 0 || grid.learningRates.some((lr) => !(typeof lr === "number" && lr > 0 && Number.isFinite(lr)))) {
    throw new Error(`study grid: learningRates must be positive numbers, got ${JSON.stringify(grid.learningRates)}`);
  }
  const budget = grid.budget as Record<string, unknown>;
  const budgetKeys = Object.keys(budget ?? {});
  if (budgetKeys.length !== 1 || !["epochs", "examples", "steps"].includes(budgetKeys[0])) {
    throw new Error(`study grid: budget must be exactly one of {"epochs": N}, {"examples": N}, {"steps": N}, got ${JSON.stringify(grid.budget)}`);
  }
  requirePositiveInteger(budget[budgetKeys[0]], `study grid: budget.${budgetKeys[0]}`);
  const dataConfig: Record<string, JsonValue> = options.data
    ? {
        trainFile: path.resolve(options.data.train),
        ...(options.data.dev ? { devFile: path.resolve(options.data.dev) } : {}),
        ...(options.data.test ? { testFile: path.resolve(options.data.test) } : {}),
        textColumn: options.data.textColumn ?? "text",
        labelColumn: options.data.labelColumn ?? "label",
      }
    : {};
  if (options.maxLength !== undefined) requirePositiveInteger(options.maxLength, "--max-length");
  const taskConfig = {
    ...preset.taskConfig[size],
    ...dataConfig,
    ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
    ...(options.modelDir ? { modelDir: path.resolve(options.modelDir) } : {}),
  };
  // A budget shared by all runs is a training argument; equal examples in steps differ per effective batch.
  const perBatch = "examples" in grid.budget;
  // A dev F1 target needs dev evaluations during training: one every DEV_TARGET_EVAL_EXAMPLES examples, whatever the batch.
  const evalEvery = (effectiveBatch: number): RunTraining =>
    grid.target?.devF1 !== undefined ? { evalSteps: Math.max(1, Math.round(DEV_TARGET_EVAL_EXAMPLES / effectiveBatch)) } : {};
  const variants: RunTraining[] = pairs.flatMap((p) =>
    grid.learningRates.map((learningRate) => ({
      perDeviceBatchSize: p.perDeviceBatch * grid.devices,
      gradientAccumulationSteps: p.accumulation,
      learningRate,
      ...(perBatch ? budgetArguments(grid.budget, p.perDeviceBatch * grid.devices * p.accumulation) : {}),
      ...evalEvery(p.perDeviceBatch * grid.devices * p.accumulation),
    })),
  );
  const training = { ...preset.training[size], ...(perBatch ? {} : budgetArguments(grid.budget, 1)) };
  return { task, taskConfig, training, variants, axes: { seed: Array.from({ length: grid.seeds }, (_, i) => i) } };
}

/** One sentence stating the sizes of a study grid: data, model, pretraining, fine-tuning, configurations and seeds. */
export function studySizes(spec: GridSpec): string {
  const t = spec.taskConfig ?? {};
  const seeds = spec.axes?.seed?.length ?? 1;
  const configurations = spec.variants?.length ?? 1;
  const parts: string[] = [];
  if (spec.task === "spam-longformer") {
    const pretrain = t.pretrainExamples ?? t.trainExamples ?? 256;
    parts.push(
      `SpamAssassin: ${t.trainExamples ?? 256} labelled training e-mails, ${t.devExamples ?? 96} dev, ${t.testExamples ?? 96} test, truncated to ${t.maxLength ?? 512} tokens (BPE vocabulary ${t.vocabSize ?? 2000})`,
      t.modelDir
        ? `model: ${t.modelDir}`
        : `model: Longformer with ${t.layers ?? 1} layer(s), hidden ${t.hiddenSize ?? 64}, attention window ${t.attentionWindow ?? 64}`,
    );
    if (!t.modelDir && Number(t.pretrainEpochs ?? 0) > 0) {
      parts.push(
        `masked-LM pretraining on ${pretrain} e-mails for ${t.pretrainEpochs} epoch(s) (batch ${t.pretrainBatchSize ?? 8}, lr ${t.pretrainLearningRate ?? 1e-3}), then fine-tuning with a fresh classification head`,
      );
    }
  } else if (spec.task === "text-longformer") {
    parts.push(
      `your documents: ${t.trainFile}${t.devFile ? `, dev ${t.devFile}` : ", dev: 10% held out"}${t.testFile ? `, test ${t.testFile}` : ", test: 10% held out"} (text column "${t.textColumn}", label column "${t.labelColumn}"), truncated to ${t.maxLength} tokens`,
      t.modelDir
        ? `model: ${t.modelDir}`
        : `model: Longformer with ${t.layers ?? 1} layer(s), hidden ${t.hiddenSize ?? 64}, masked-LM pretrained on the training documents for ${t.pretrainEpochs ?? 0} epoch(s)`,
    );
  } else {
    parts.push(`task ${spec.task}: ${JSON.stringify(t)}`);
  }
  const budget =
    spec.training.maxSteps !== undefined
      ? `${spec.training.maxSteps} optimizer steps`
      : spec.training.epochs !== undefined
        ? `${spec.training.epochs} epoch(s)`
        : "equal examples (maxSteps per batch)";
  parts.push(`fine-tuning for ${budget}; ${configurations} configurations x ${seeds} seed(s) = ${configurations * seeds} runs`);
  return `Sizes: ${parts.join("; ")}.`;
}

/** The backend the workers computed on, from the first finished run's config.json (null when none finished). */
function workerBackend(grid: GridRunSummary): Provenance["backend"] {
  const run = grid.runs.find((r) => r.status !== "failed" && fs.existsSync(path.join(r.runDir, RUN_FILES.config)));
  if (!run) return null;
  const config = JSON.parse(fs.readFileSync(path.join(run.runDir, RUN_FILES.config), "utf8")) as { provenance?: Provenance };
  return config.provenance?.backend ?? null;
}

/** Shell command that reruns a study with these options (the grid as flags). */
export function studyCommand(options: StudyOptions): string {
  const g = options.grid ?? {};
  const list = (xs: number[] | undefined) => xs?.join(",");
  const budget = g.budget ? Object.entries(g.budget)[0] : undefined;
  const flags: [string, string | number | undefined][] = [
    ["--size", options.size && options.size !== "default" ? options.size : undefined],
    ["--task", options.task && options.task !== "spam-longformer" && options.task !== "text-longformer" ? options.task : undefined],
    ["--train", options.data?.train],
    ["--dev", options.data?.dev],
    ["--test", options.data?.test],
    ["--text-column", options.data?.textColumn],
    ["--label-column", options.data?.labelColumn],
    ["--model", options.modelDir],
    ["--max-length", options.maxLength],
    ["--batch", list(g.perDeviceBatch)],
    ["--accumulation", list(g.accumulation)],
    ["--devices", g.devices],
    ["--lr", list(g.learningRates)],
    [budget ? `--${budget[0]}` : "", budget?.[1]],
    ["--target-loss", g.target?.loss],
    ["--target-dev-f1", g.target?.devF1],
    ["--seeds", options.seeds ?? g.seeds],
    ["--runs-dir", options.runsDir],
    ["--reports-dir", options.reportsDir],
    ["--name", options.name],
    ["--workers", options.workers],
    ["--queue", options.queue ? maskRedisUrl(options.queue) : undefined],
  ];
  return ["npx tsml study", ...flags.filter(([flag, v]) => flag && v !== undefined).map(([flag, v]) => `${flag} ${v}`)].join(" ");
}

/** Runs (or resumes) the study grid, then writes reports/<name>/{report.html, results.csv, charts/}. */
export async function runStudy(options: StudyOptions = {}): Promise<StudyOutcome> {
  const size = options.size ?? "default";
  const name = requirePathComponent(options.name ?? (size === "default" ? "study" : `study-${size}`), "study name (--name)");
  const log = options.log ?? (() => {});
  const spec = studyGrid(options);
  // The report folder is checked before any run trains, not found unwritable after all of them did.
  const reportDir = ensureWritableFolder(path.resolve(options.reportsDir ?? "reports", name), "reports folder");
  const grid = await runGrid(spec, {
    runsDir: options.runsDir ?? "runs",
    name,
    workers: options.workers,
    executor: options.queue === undefined ? undefined : queueExecutor(options.queue),
    onEvent: options.onEvent,
    commandLine: options.commandLine,
    log,
  });
  const results = grid.results;
  const predictions = readGridDevPredictions(grid.gridDir);
  const histories = readGridHistories(grid.gridDir);
  const gridOptions = studyGridOptions(options);
  const criticalBatch = measureCriticalBatch(results, histories, { targetLoss: gridOptions.target?.loss, targetDevF1: gridOptions.target?.devF1 });
  const budget = budgetText(gridOptions.budget);
  const findings = concludeStudy(results, predictions, { critical: criticalBatch, budget });
  const configurations = summarizeConfigurations(results, predictions);
  log(`writing the report to ${reportDir}`);
  const report = await writeStudyReport(reportDir, {
    title: `Why does my training loss fluctuate? (${spec.task}, ${size} study)`,
    question: STUDY_QUESTION,
    spec,
    results,
    histories,
    findings,
    configurations,
    criticalBatch,
    budget,
    sizes: studySizes(spec),
    provenance: { ...collectProvenance(undefined, maskQueueArguments(options.commandLine ?? process.argv, options.queue)), backend: workerBackend(grid) },
    failures: grid.runs.filter((r) => r.status === "failed").map((r) => ({ id: r.id, error: r.error ?? "failed" })),
    wallTimeSeconds: grid.wallTimeSeconds,
    rerunCommand: studyCommand({ ...options, size }),
  });
  return { grid, results, frame: grid.frame, findings, configurations, criticalBatch, report, reportDir };
}
