/**
 * Every read of tfjs's internals in tsml, in one place: the engine's tape (for `frugalGradients`), the WASM backend's
 * heap and tensor table (for tsml's WASM kernels), and the engine's table of variable names (Longformer parameters).
 * None of these is tfjs's public API: they are typed here from tfjs-core and tfjs-backend-wasm 4.22.0, the version
 * package.json pins (`TFJS_INTERNALS_VERSION`; test/backend/tfjsInternals.test.ts fails when tfjs is another one).
 *
 * Before moving the pin, run the tests that guard these reads bit for bit:
 * - test/train/gradients.test.ts: frugalGradients gives tf.variableGrads' loss and gradients bit for bit, frees as it goes;
 * - test/backend/kernels.test.ts: tsml's WASM kernels (heap offsets, makeOutput) equal tfjs's cpu backend;
 * - test/backend/matMul.test.ts and test/backend/native.test.ts: the same product twice gives the same bits;
 * - test/models/longformer/determinism.test.ts: same seed, config, backend and threads give the same bits;
 * - test/models/longformer/golden.test.ts: Longformer equals Hugging Face's outputs and gradients.
 */
import * as tf from "@tensorflow/tfjs";

/** The tfjs version whose internals are typed here (package.json pins @tensorflow/tfjs and tfjs-backend-wasm to it). */
export const TFJS_INTERNALS_VERSION = "4.22.0";

/** A node of tfjs's tape (engine internals of tfjs-core 4.x). */
export interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

/** The parts of tfjs's engine used to record a tape. */
export interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

/** tfjs's engine, typed with the internals `frugalGradients` uses. */
export function engineInternals(): EngineInternals {
  return tf.engine() as unknown as EngineInternals;
}

/** The parts of tfjs-backend-wasm's BackendWasm that tsml's kernels use. */
export interface WasmBackendInternals {
  wasm: { asm: { memory: object }; _malloc(bytes: number): number; _free(offset: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** True when a tf.Variable named `name` exists in the engine (variable names are global to it). */
export function isVariableNameTaken(name: string): boolean {
  return tf.engine().registeredVariables[name] !== undefined;
}
