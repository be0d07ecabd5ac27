/**
 * The Trainer: a training loop for any TrainableModel, readable top to bottom (see `train`).
 *
 * Accumulation normalisation. One optimizer step consumes k = gradientAccumulationSteps micro-batches. Each
 * micro-batch contributes the gradient of its loss SUM over items; the accumulated sum is divided ONCE by the
 * number of items in the whole effective batch. The update therefore equals the one from a single batch of
 * all k*b items, also when micro-batches differ in size (a short last micro-batch, or token-level losses with
 * padding). Averaging per micro-batch and then over k — the bug Hugging Face fixed in 2024 — would weight the
 * items of a short micro-batch more. Clipping, the logged loss and the gradient norm all use this gradient.
 */
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import type { DataFrame } from "danfojs-node";
import { accumulateGradients } from "./accumulate";
import { resolveAutoBatch, type BatchSizeChoice, type BatchSizePlanner, type TrainingArgumentsInput } from "./autoBatch";
import { AdamW } from "./adamw";
import { resolveTrainingArguments, type TrainingArguments } from "./args";
import type { TrainerCallback, TrainerControl } from "./callbacks";
import { loadCheckpoint, removeAbandonedCheckpointWrites, resolveCheckpointDir, saveCheckpoint, type TrainerState } from "./checkpoint";
import { clipByGlobalNorm, globalNorm } from "./clip";
import type { TrainableModel, TrainingData } from "./contract";
import { evalRecordFields, evaluateClassifier, type EvaluationResult } from "./evaluate";
import { historyToFrame, TrainingHistory, type TrainingLogRecord } from "./history";
import { GradientNoiseScale, noiseScaleAdvice } from "./noiseScale";
import { createProgressReporter } from "./progress";
import { SeededRng } from "../random";
import { ensureWritableFolder } from "../io";
import { isProcessAlive, processIdentity } from "../supervision";
import { requirePositiveInteger } from "../util";
import { shuffledSampler } from "./sampler";
import { lrMultiplier, warmupStepsFor } from "./schedule";
import { LossSmoother, windowStats } from "./smoothing";

/** What a Trainer is built from. */
export interface TrainerOptions<B> {
  model: TrainableModel<B>;
  trainData: TrainingData<B>;
  /** Evaluated every `evalSteps` and at the end. */
  evalData?: TrainingData<B>;
  args?: TrainingArgumentsInput;
  callbacks?: TrainerCallback[];
  /** Chooses the micro-batch when args.perDeviceBatchSize is "auto", and completes the noise-scale advice with a plan. */
  batchPlanner?: BatchSizePlanner;
}

/** How a `train()` call ended. */
export interface TrainResult {
  globalStep: number;
  /** Why training stopped before the last step (a callback or early stopping), if it did. */
  stoppedReason?: string;
  history: readonly TrainingLogRecord[];
  lastEval?: EvaluationResult;
  noiseScale: number | undefined;
  advice: string;
}

/** Thrown when a step's loss or gradient is NaN/Inf; the model is left as it was before that step. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly step: number,
    readonly value: number,
    readonly lastFinite: { step: number; loss: number } | undefined,
  ) {
    super(
      `training diverged at step ${step}: loss or gradient norm is ${value}; ` +
        (lastFinite ? `last finite loss ${lastFinite.loss} at step ${lastFinite.step}` : "no finite loss before it") +
        "; this step was not applied and no checkpoint was written for it",
    );
    this.name = "TrainingDivergedError";
  }
}

/** The outcome of one optimizer step. */
interface StepOutcome {
  loss: number;
  gradNorm: number;
  items: number;
  examples: number;
  seconds: number;
}

/**
 * Trains a TrainableModel with AdamW, exact gradient accumulation, logging, evaluation and checkpoints.
 *
 *   const trainer = new Trainer({ model: classifierFromLayersModel(net), trainData, evalData,
 *     args: { perDeviceBatchSize: 1, gradientAccumulationSteps: 8, learningRate: 2e-5, epochs: 3, outputDir: "runs/a" } });
 *   const result = await trainer.train();   // result.advice: what the gradient noise scale suggests
 *   trainer.historyFrame();                  // loss, smoothed loss, rolling std/CV, lr, grad norm, noise scale, eval_*
 */
export class Trainer<B> {
  readonly args: TrainingArguments;
  /** What perDeviceBatchSize "auto" chose (undefined when the batch was given). */
  readonly batchPlan: BatchSizeChoice | undefined;
  readonly history: TrainingHistory;
  /** The newest evaluation result. */
  lastEval: EvaluationResult | undefined;
  private readonly model: TrainableModel<B>;
  private readonly trainData: TrainingData<B>;
  private readonly evalData: TrainingData<B> | undefined;
  private readonly callbacks: TrainerCallback[];
  private readonly variables: tf.Variable[];
  private readonly optimizer: AdamW;
  private readonly rng: SeededRng;
  private readonly noise: GradientNoiseScale;
  private smoother: LossSmoother;
  private state: TrainerState;
  private epochBatches: number[][] | undefined;
  private stopReason: string | undefined;
  private resumed = false;
  private readonly batchPlanner: BatchSizePlanner | undefined;

  constructor(options: TrainerOptions<B>) {
    const auto = resolveAutoBatch(options.args ?? {}, options.batchPlanner);
    this.args = resolveTrainingArguments(auto.args);
    this.batchPlan = auto.choice;
    this.batchPlanner = options.batchPlanner;
    if (auto.choice && this.args.progress !== "none") {
      process.stderr.write(
        `Trainer: perDeviceBatchSize "auto" -> ${this.args.perDeviceBatchSize} x gradientAccumulationSteps ${this.args.gradientAccumulationSteps}. ${auto.choice.explanation}\n`,
      );
    }
    this.model = options.model;
    this.trainData = options.trainData;
    this.evalData = options.evalData;
    this.callbacks = options.callbacks ?? [];
    requirePositiveInteger(this.trainData.size, "Trainer: trainData.size");
    if (this.args.gradientCheckpointing !== undefined) {
      if (!this.model.setGradientCheckpointing) throw new Error("TrainingArguments.gradientCheckpointing: this model has no setGradientCheckpointing");
      this.model.setGradientCheckpointing(this.args.gradientCheckpointing);
    }
    this.variables = this.model.trainableVariables();
    if (this.variables.length === 0) throw new Error("Trainer: the model has no trainable variables");
    const { weightDecay, adamBeta1, adamBeta2, adamEpsilon, noDecayPattern } = this.args;
    this.optimizer = new AdamW(this.variables, {
      beta1: adamBeta1,
      beta2: adamBeta2,
      epsilon: adamEpsilon,
      weightDecay,
      decays: (name) => !noDecayPattern.test(name),
    });
    this.rng = new SeededRng(this.args.seed);
    this.noise = new GradientNoiseScale(this.args.noiseScaleEmaDecay);
    this.smoother = new LossSmoother(this.args.smoothingWeight);
    const logFile = this.args.outputDir ? path.join(this.args.outputDir, "log.jsonl") : undefined;
    if (this.args.outputDir) ensureWritableFolder(this.args.outputDir, "outputDir");
    this.history = new TrainingHistory(logFile);
    this.state = {
      globalStep: 0,
      epoch: 0,
      microBatchInEpoch: 0,
      examplesSeen: 0,
      rngState: this.rng.getState(),
      seed: this.args.seed,
      perDeviceBatchSize: this.args.perDeviceBatchSize,
      gradientAccumulationSteps: this.args.gradientAccumulationSteps,
      noiseScale: this.noise.getState(),
      stepLosses: [],
      history: [],
    };
  }

  /** Optimizer steps done so far. */
  get globalStep(): number {
    return this.state.globalStep;
  }

  /** The raw loss of every optimizer step so far. */
  get stepLosses(): readonly number[] {
    return this.state.stepLosses;
  }

  /** The current gradient-noise-scale estimate B_simple (items), if any. */
  get noiseScale(): number | undefined {
    return this.noise.value;
  }

  /** Names of the variables AdamW decays (the others match `noDecayPattern`). */
  decayedVariableNames(): string[] {
    return this.optimizer.decayedVariableNames();
  }

  /** Advice on gradientAccumulationSteps from the noise scale, ending with the batch plan when a batchPlanner was given. */
  advice(): string {
    const advice = noiseScaleAdvice(this.noise.value, this.args.perDeviceBatchSize, this.args.gradientAccumulationSteps);
    const noise = this.noise.value;
    if (!this.batchPlanner || noise === undefined || !(noise > 0)) return advice;
    return `${advice}; ${this.batchPlanner.advise(noise, this.args.gradientCheckpointing === true, this.args.memoryBudget)}`;
  }

  /** Total optimizer steps: maxSteps, or epochs * ceil(micro-batches per epoch / k). */
  totalSteps(): number {
    if (this.args.maxSteps !== undefined) return this.args.maxSteps;
    const perEpoch = this.sampledEpoch(0).length;
    return this.args.epochs * Math.ceil(perEpoch / this.args.gradientAccumulationSteps);
  }

  /** Trains until the last step (or a stop request); resumes first when `resumeFrom` is set. */
  async train(): Promise<TrainResult> {
    const { args } = this;
    const totalSteps = this.totalSteps();
    const warmupSteps = warmupStepsFor(args.warmupSteps, args.warmupRatio, totalSteps);
    this.startOrResume();
    const progress = createProgressReporter(args.progress);
    const control: TrainerControl = { stop: (reason) => (this.stopReason ??= reason) };
    this.stopReason = undefined;
    let sinceLog = { losses: [] as number[], examples: 0, seconds: 0 };
    const started = performance.now();
    try {
      while (this.state.globalStep < totalSteps && this.stopReason === undefined) {
        // 1. The next effective batch: k micro-batches of example indices (fewer at the end of an epoch).
        const microBatches = this.nextMicroBatches();
        // 2. The learning rate of this update: warmup, then the schedule (Hugging Face's LambdaLR).
        const lr = args.learningRate * lrMultiplier(args.lrSchedule, this.state.globalStep, warmupSteps, totalSteps);
        // 3. Accumulate exact gradients, clip the accumulated gradient, apply AdamW.
        const outcome = this.optimizerStep(microBatches, lr);
        const step = ++this.state.globalStep;
        this.state.examplesSeen += outcome.examples;
        this.state.stepLosses.push(outcome.loss);
        sinceLog.losses.push(outcome.loss);
        sinceLog.examples += outcome.examples;
        sinceLog.seconds += outcome.seconds;
        const stepInfo = { step, epoch: this.fractionalEpoch(), loss: outcome.loss, learningRate: lr, gradNorm: outcome.gradNorm };
        for (const c of this.callbacks) {
          await c.onStepEnd?.({ ...stepInfo, totalSteps, noiseScale: this.noise.value, items: outcome.items, examplesSeen: this.state.examplesSeen }, control);
        }
        // 4. Evaluate, log, checkpoint.
        const isLast = step === totalSteps || this.stopReason !== undefined;
        let evalFields: Record<`eval_${string}`, number> = {};
        if (this.evalData && ((args.evalSteps !== undefined && step % args.evalSteps === 0) || step === totalSteps)) {
          this.lastEval = this.evaluate(this.evalData);
          evalFields = evalRecordFields(this.lastEval);
          for (const c of this.callbacks) await c.onEvalEnd?.(this.lastEval, step, control);
        }
        if (step % args.loggingSteps === 0 || isLast || Object.keys(evalFields).length > 0) {
          await this.log(stepInfo, sinceLog, evalFields);
          sinceLog = { losses: [], examples: 0, seconds: 0 };
        }
        if (args.outputDir && args.saveSteps !== undefined && (step % args.saveSteps === 0 || isLast || this.stopReason !== undefined)) {
          this.saveCheckpoint();
        }
        await progress.update({
          ...stepInfo,
          totalSteps,
          examplesPerSecond: outcome.examples / outcome.seconds,
          elapsedSeconds: (performance.now() - started) / 1000,
        });
        // 5. Let the event loop turn: timers, I/O and signals (a notebook's interrupt) run between steps.
        await yieldToEventLoop();
      }
    } finally {
      await progress.close();
    }
    // Resumed from the checkpoint of the last step: nothing was trained, but the result still has its evaluation.
    if (this.evalData && this.lastEval === undefined && this.state.globalStep === totalSteps) this.lastEval = this.evaluate(this.evalData);
    for (const c of this.callbacks) await c.onTrainEnd?.(this.history.records);
    return {
      globalStep: this.state.globalStep,
      stoppedReason: this.stopReason,
      history: this.history.records,
      lastEval: this.lastEval,
      noiseScale: this.noise.value,
      advice: this.advice(),
    };
  }

  /** One optimizer step on `microBatches` with learning rate `lr`; throws TrainingDivergedError on NaN/Inf. */
  private optimizerStep(microBatches: number[][], lr: number): StepOutcome {
    const t0 = performance.now();
    const acc = accumulateGradients(this.model, this.variables, this.trainData, microBatches, () => {
      const seed = this.rng.nextUint32();
      this.model.setRandomSeed?.(seed);
    });
    const owned: tf.Tensor[] = [...acc.grads, acc.lossSum, ...acc.microSquaredNorms];
    try {
      const norm = globalNorm(acc.grads);
      owned.push(norm);
      const packed = tf.stack([acc.lossSum, norm, ...acc.microSquaredNorms]);
      const values = packed.dataSync();
      packed.dispose();
      const loss = values[0] / acc.count;
      const gradNorm = values[1];
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        const previous = this.state.stepLosses.length;
        const lastFinite = previous > 0 ? { step: this.state.globalStep, loss: this.state.stepLosses[previous - 1] } : undefined;
        throw new TrainingDivergedError(this.state.globalStep + 1, Number.isFinite(loss) ? gradNorm : loss, lastFinite);
      }
      const clipping = this.args.maxGradNorm > 0 && this.args.maxGradNorm < Infinity;
      const update = clipping ? clipByGlobalNorm(acc.grads, this.args.maxGradNorm, norm) : acc.grads;
      if (clipping) tf.dispose(acc.grads); // the unclipped gradient is no longer needed: lower peak memory
      try {
        this.optimizer.apply(update, lr);
      } finally {
        if (clipping) tf.dispose(update);
      }
      this.noise.update({
        microSquaredNorms: Array.from(values.subarray(2)),
        microCounts: acc.microCounts,
        bigSquaredNorm: gradNorm * gradNorm,
      });
      const examples = microBatches.reduce((n, m) => n + m.length, 0);
      return { loss, gradNorm, items: acc.count, examples, seconds: (performance.now() - t0) / 1000 };
    } finally {
      tf.dispose(owned);
    }
  }

  /** Appends a history record (and log.jsonl line) and calls the onLog hooks. */
  private async log(
    step: { step: number; epoch: number; learningRate: number; gradNorm: number },
    since: { losses: number[]; examples: number; seconds: number },
    evalFields: Record<`eval_${string}`, number>,
  ): Promise<void> {
    const loss = since.losses.reduce((a, b) => a + b, 0) / since.losses.length;
    const fluctuation = windowStats(this.state.stepLosses, this.args.fluctuationWindow);
    const finiteOrNull = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
    const record: TrainingLogRecord = {
      step: step.step,
      epoch: step.epoch,
      examplesSeen: this.state.examplesSeen,
      loss,
      smoothedLoss: this.smoother.push(loss),
      lossStd: finiteOrNull(fluctuation.std),
      lossCv: finiteOrNull(fluctuation.cv),
      learningRate: step.learningRate,
      gradNorm: step.gradNorm,
      noiseScale: finiteOrNull(this.noise.value),
      examplesPerSecond: since.examples / since.seconds,
      ...evalFields,
    };
    this.history.append(record);
    for (const c of this.callbacks) await c.onLog?.(record, this.history.records);
  }

  /** Evaluates the model (inference mode) on `data`, in batches of evalBatchSize. */
  evaluate(data: TrainingData<B>, batchSize = this.args.evalBatchSize ?? this.args.perDeviceBatchSize): EvaluationResult {
    return evaluateClassifier(this.model, data, batchSize);
  }

  /** The history as a danfojs-node DataFrame (danfojs is loaded on first use). */
  historyFrame(): DataFrame {
    return historyToFrame(this.history.records);
  }

  /** Writes outputDir/checkpoint-<step> now and returns its path. */
  saveCheckpoint(): string {
    if (!this.args.outputDir) throw new Error("Trainer.saveCheckpoint: outputDir is not set");
    this.state.rngState = this.rng.getState();
    this.state.noiseScale = this.noise.getState();
    this.state.history = this.history.records.slice();
    return saveCheckpoint(this.args.outputDir, this.variables, this.optimizer, this.state, this.args.saveTotalLimit);
  }

  /** Releases the optimizer's tensors (the model's variables belong to the caller). */
  dispose(): void {
    this.optimizer.dispose();
  }

  /** On the first train(): loads `resumeFrom`, or starts a fresh log.jsonl. */
  private startOrResume(): void {
    if (this.resumed || this.state.globalStep > 0) return;
    this.resumed = true;
    if (this.args.outputDir) removeAbandonedCheckpointWrites(this.args.outputDir, (pid) => isProcessAlive(processIdentity(pid)));
    if (!this.args.resumeFrom) {
      this.history.reset();
      return;
    }
    const dir = resolveCheckpointDir(this.args.resumeFrom, this.args.outputDir);
    const { seed, perDeviceBatchSize, gradientAccumulationSteps } = this.args;
    const state = loadCheckpoint(dir, this.variables, this.optimizer, { seed, perDeviceBatchSize, gradientAccumulationSteps });
    this.state = { ...state, perDeviceBatchSize, gradientAccumulationSteps };
    this.rng.setState(state.rngState);
    this.noise.setState(state.noiseScale);
    this.history.restore(state.history);
    this.smoother = new LossSmoother(this.args.smoothingWeight);
    for (const r of state.history) this.smoother.push(r.loss);
    this.epochBatches = undefined;
  }

  /** The micro-batches of `epoch` from the sampler, validated. */
  private sampledEpoch(epoch: number): number[][] {
    const sampler = this.trainData.sampler ?? shuffledSampler(this.trainData.size);
    const batches = sampler.epochBatches(epoch, this.args.seed, this.args.perDeviceBatchSize);
    if (!Array.isArray(batches) || batches.length === 0) throw new Error(`sampler: epoch ${epoch} has no micro-batches`);
    for (const b of batches) {
      if (!Array.isArray(b) || b.length === 0 || b.some((i) => !Number.isInteger(i) || i < 0 || i >= this.trainData.size)) {
        throw new Error(`sampler: epoch ${epoch} has an empty micro-batch or an index outside [0, ${this.trainData.size})`);
      }
    }
    return batches;
  }

  /** Takes up to k micro-batches from the current epoch, moving to the next epoch when it is used up. */
  private nextMicroBatches(): number[][] {
    for (;;) {
      this.epochBatches ??= this.sampledEpoch(this.state.epoch);
      if (this.state.microBatchInEpoch < this.epochBatches.length) break;
      this.state.epoch++;
      this.state.microBatchInEpoch = 0;
      this.epochBatches = undefined;
    }
    const start = this.state.microBatchInEpoch;
    const taken = this.epochBatches.slice(start, start + this.args.gradientAccumulationSteps);
    this.state.microBatchInEpoch += taken.length;
    return taken;
  }

  /** Completed epochs plus the consumed fraction of the current one. */
  private fractionalEpoch(): number {
    const length = this.epochBatches?.length ?? 1;
    return this.state.epoch + this.state.microBatchInEpoch / length;
  }
}

/** Resolves on the next turn of the event loop (awaiting settled promises alone never lets it turn). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
