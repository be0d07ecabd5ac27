/**
 * Checkpoints: `outputDir/checkpoint-<step>/` holding model.safetensors (weights), optimizer.safetensors (Adam
 * moments and step) and trainer_state.json (data order, RNG, noise-scale averages, history), plus the pointer
 * file `outputDir/last-checkpoint`. Every file is written atomically, into a temporary directory that is renamed
 * into place only when complete, so a crash never leaves a half-written checkpoint behind.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { type SafetensorsFile, createFolder, readSafetensorsFile, toFloat32Array, writeFileAtomic, writeJsonAtomic, writeSafetensorsFile } from "../io";
import type { AdamW } from "./adamw";
import type { TrainingLogRecord } from "./history";
import type { NoiseScaleState } from "./noiseScale";

/** Everything besides tensors needed to continue a run exactly where it stopped. */
export interface TrainerState {
  globalStep: number;
  /** Epoch in progress and how many of its micro-batches were consumed. */
  epoch: number;
  microBatchInEpoch: number;
  examplesSeen: number;
  rngState: number;
  seed: number;
  /** The batch arguments the run was trained with (absent in checkpoints written before they were recorded). */
  perDeviceBatchSize?: number;
  gradientAccumulationSteps?: number;
  noiseScale: NoiseScaleState;
  /** Raw loss of every optimizer step so far. */
  stepLosses: number[];
  history: TrainingLogRecord[];
}

/** File name of the pointer to the newest checkpoint. */
export const LAST_CHECKPOINT_FILE = "last-checkpoint";
const MODEL_FILE = "model.safetensors";
const OPTIMIZER_FILE = "optimizer.safetensors";
const STATE_FILE = "trainer_state.json";

/** Checkpoint directories under `outputDir`, oldest first. */
export function listCheckpoints(outputDir: string): { step: number; dir: string }[] {
  if (!fs.existsSync(outputDir)) return [];
  return fs
    .readdirSync(outputDir)
    .map((name) => ({ name, match: /^checkpoint-(\d+)$/.exec(name) }))
    .filter((e) => e.match !== null)
    .map((e) => ({ step: Number(e.match![1]), dir: path.join(outputDir, e.name) }))
    .sort((a, b) => a.step - b.step);
}

function float32Entries(prefix: string, names: string[], shapes: number[][], arrays: Float32Array[]) {
  return Object.fromEntries(names.map((n, i) => [`${prefix}${n}`, { dtype: "F32" as const, shape: shapes[i], data: arrays[i] }]));
}

/** Writes checkpoint-<step>, updates last-checkpoint, and keeps only the newest `keepLast` checkpoints. */
export function saveCheckpoint(outputDir: string, variables: tf.Variable[], optimizer: AdamW, state: TrainerState, keepLast?: number): string {
  const names = variables.map((v) => v.name);
  if (new Set(names).size !== names.length) throw new Error(`saveCheckpoint: variable names are not unique: ${names.join(", ")}`);
  const shapes = variables.map((v) => v.shape);
  const finalName = `checkpoint-${state.globalStep}`;
  const finalDir = path.join(outputDir, finalName);
  const tempDir = path.join(outputDir, `.${finalName}.${process.pid}.tmp`);
  fs.rmSync(tempDir, { recursive: true, force: true });
  try {
    createFolder(tempDir, "checkpoint folder");
    const weights = variables.map((v) => new Float32Array(v.dataSync()));
    writeSafetensorsFile(path.join(tempDir, MODEL_FILE), float32Entries("", names, shapes, weights), {
      format: "tsml-trainer",
      variables: JSON.stringify(names),
    });
    const adam = optimizer.getState();
    writeSafetensorsFile(
      path.join(tempDir, OPTIMIZER_FILE),
      { ...float32Entries("exp_avg/", names, shapes, adam.firstMoments), ...float32Entries("exp_avg_sq/", names, shapes, adam.secondMoments) },
      { step: String(adam.step), variables: JSON.stringify(names) },
    );
    writeJsonAtomic(path.join(tempDir, STATE_FILE), state);
  } catch (e) {
    // E.g. a full disk: the partial checkpoint goes, the previous one (and last-checkpoint) stays as it was.
    fs.rmSync(tempDir, { recursive: true, force: true });
    const kept = readLastCheckpoint(outputDir);
    throw new Error(
      `checkpoint of step ${state.globalStep} not saved: ${(e as Error).message}; ${kept ? `${kept.dir} is still the last checkpoint` : "no earlier checkpoint exists"}`,
    );
  }
  fs.rmSync(finalDir, { recursive: true, force: true });
  fs.renameSync(tempDir, finalDir);
  writeFileAtomic(path.join(outputDir, LAST_CHECKPOINT_FILE), finalName + "\n");
  if (keepLast !== undefined) {
    const all = listCheckpoints(outputDir).filter((c) => c.dir !== finalDir);
    for (const old of all.slice(0, Math.max(0, all.length - (keepLast - 1)))) fs.rmSync(old.dir, { recursive: true, force: true });
  }
  return finalDir;
}

/**
 * The newest checkpoint named by `outputDir/last-checkpoint` (its folder and step), or null when there is no pointer
 * file. A pointer that is empty or names no checkpoint folder is an error naming the pointer file.
 */
export function readLastCheckpoint(outputDir: string): { dir: string; step: number } | null {
  const pointer = path.join(outputDir, LAST_CHECKPOINT_FILE);
  if (!fs.existsSync(pointer)) return null;
  const name = fs.readFileSync(pointer, "utf8").trim();
  const existing = listCheckpoints(outputDir).map((c) => path.basename(c.dir));
  const found = existing.length ? `; checkpoint folders present: ${existing.join(", ")}` : "; no checkpoint folder is present";
  if (name === "") throw new Error(`${pointer}: the pointer file is empty; it should name the newest checkpoint folder (e.g. checkpoint-8)${found}`);
  const match = /^checkpoint-(\d+)$/.exec(name);
  if (!match) throw new Error(`${pointer}: ${JSON.stringify(name.slice(0, 80))} is not a checkpoint folder name (checkpoint-<step>)${found}`);
  return { dir: path.join(outputDir, name), step: Number(match[1]) };
}

/** The checkpoint directory named by `resumeFrom`: a directory, or "last" (read from outputDir/last-checkpoint). */
export function resolveCheckpointDir(resumeFrom: string, outputDir?: string): string {
  if (resumeFrom !== "last") return resumeFrom;
  if (!outputDir) throw new Error('resumeFrom "last" needs outputDir');
  const last = readLastCheckpoint(outputDir);
  if (!last) throw new Error(`resumeFrom "last": ${path.join(outputDir, LAST_CHECKPOINT_FILE)} does not exist (no checkpoint saved yet)`);
  return last.dir;
}

/**
 * Removes what writes into `outputDir` left behind when their process died mid-write: the temporary folders of
 * checkpoints (`.checkpoint-<step>.<pid>.tmp`) and the temporary files of atomic writes (`.<file>.<pid>.<ms>.tmp`,
 * src/io/atomic.ts: last-checkpoint, the run's JSON files); those of live processes are left alone. Returns what it
 * removed.
 */
export function removeAbandonedCheckpointWrites(outputDir: string, isAlive: (pid: number) => boolean): string[] {
  if (!fs.existsSync(outputDir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(outputDir)) {
    const match = /^\.checkpoint-\d+\.(\d+)\.tmp$/.exec(name) ?? /^\..+\.(\d+)\.\d{10,}\.tmp$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    fs.rmSync(path.join(outputDir, name), { recursive: true, force: true });
    removed.push(path.join(outputDir, name));
  }
  return removed;
}

/** The arguments a checkpoint must have been trained with to be resumed: seed, batch size, accumulation. */
export type CheckpointExpectations = Partial<Pick<TrainerState, "seed" | "perDeviceBatchSize" | "gradientAccumulationSteps">>;

function readVariableArrays(parsed: SafetensorsFile, file: string, prefix: string, variables: tf.Variable[]): Float32Array[] {
  const { tensors, metadata } = parsed;
  const names = JSON.parse(metadata.variables ?? "null") as unknown;
  if (!Array.isArray(names) || names.length !== variables.length) {
    throw new Error(`${file}: holds ${Array.isArray(names) ? names.length : "no list of"} variables, the model has ${variables.length}`);
  }
  // Matched by position: tfjs suffixes the names of a second instance of the same model ("dense_Dense2/...").
  return names.map((name, i) => {
    const entry = tensors.get(`${prefix}${name}`);
    if (!entry) throw new Error(`${file}: tensor "${prefix}${name}" is missing`);
    const expected = variables[i].shape;
    if (entry.shape.length !== expected.length || entry.shape.some((d, j) => d !== expected[j])) {
      throw new Error(`${file}: "${name}" has shape [${entry.shape}], variable ${variables[i].name} has [${expected}]`);
    }
    const values = toFloat32Array(entry, `${file}:${prefix}${name}`);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new Error(
        `${file}: "${prefix}${name}" holds ${values[bad]} at index ${bad}; the checkpoint is damaged (training saves only finite values), resume from an older one`,
      );
    return values;
  });
}

/** Reads trainer_state.json, naming the file when it is not valid JSON (e.g. truncated). */
function readTrainerState(file: string): TrainerState {
  let state: unknown;
  try {
    state = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(
      `${file}: not valid JSON (${(e as Error).message}); the checkpoint is damaged, delete its folder to resume from an older one or from the start`,
    );
  }
  if (typeof state !== "object" || state === null || !Number.isInteger((state as TrainerState).globalStep)) {
    throw new Error(`${file}: expected a trainer state object with an integer "globalStep"`);
  }
  return state as TrainerState;
}

/**
 * Loads weights into `variables`, moments into `optimizer`, and returns the trainer state. Everything is read
 * and checked (files, shapes, and that the checkpoint was trained with the `expected` seed, batch size and
 * accumulation) before anything is assigned.
 */
export function loadCheckpoint(dir: string, variables: tf.Variable[], optimizer: AdamW, expected: CheckpointExpectations = {}): TrainerState {
  if (!fs.existsSync(dir))
    throw new Error(`checkpoint ${dir}: no such folder (resumeFrom names a checkpoint folder such as <outputDir>/checkpoint-8, or "last")`);
  for (const f of [MODEL_FILE, OPTIMIZER_FILE, STATE_FILE]) {
    if (!fs.existsSync(path.join(dir, f))) throw new Error(`checkpoint ${dir}: ${f} is missing`);
  }
  const state = readTrainerState(path.join(dir, STATE_FILE));
  const named = /^checkpoint-(\d+)$/.exec(path.basename(dir));
  if (named && Number(named[1]) !== state.globalStep) {
    throw new Error(
      `checkpoint ${dir}: ${STATE_FILE} says step ${state.globalStep}, the folder name says step ${named[1]}; the checkpoint is not consistent, delete it to resume from an older one`,
    );
  }
  for (const key of ["seed", "perDeviceBatchSize", "gradientAccumulationSteps"] as const) {
    const want = expected[key];
    if (want !== undefined && state[key] !== undefined && state[key] !== want) {
      throw new Error(
        `checkpoint ${dir}: trained with ${key} ${state[key]}, the arguments say ${key} ${want}; resume with the same ${key} or use another output folder`,
      );
    }
  }
  const modelFile = path.join(dir, MODEL_FILE);
  const weights = readVariableArrays(readSafetensorsFile(modelFile), modelFile, "", variables);
  const optimizerFile = path.join(dir, OPTIMIZER_FILE);
  const optimizerTensors = readSafetensorsFile(optimizerFile);
  const step = Number(optimizerTensors.metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new Error(`${optimizerFile}: metadata "step" is not a step count`);
  const firstMoments = readVariableArrays(optimizerTensors, optimizerFile, "exp_avg/", variables);
  const secondMoments = readVariableArrays(optimizerTensors, optimizerFile, "exp_avg_sq/", variables);
  optimizer.setState({ step, firstMoments, secondMoments });
  tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(weights[i], v.shape, "float32"))));
  return state;
}
