/**
 * tsml's sliding-window attention kernels on the WASM backend: `kernels/band.c`, compiled to a small
 * WebAssembly module that imports the tfjs backend's own memory, so each kernel reads its inputs and writes its
 * output where tfjs keeps them. tfjs's batched matMul on WASM runs a scalar loop at about 1 GFLOP/s (only 2-D,
 * untransposed products reach XNNPACK); these SIMD kernels compute the band directly, without the 3x key copies
 * and skews of a blockwise formulation. Backends without them use the same ops built from stock tfjs ops.
 */
import * as tf from "@tensorflow/tfjs";
import { bandWasmBase64 } from "./kernels/bandWasm";

/** The slice of the WebAssembly JS API used here (the project compiles without the DOM library). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};
/** A WebAssembly.Memory, only passed through. */
type WasmMemory = object;

/** Kernel names (attrs: `oneSided` = w, half the attention window). */
export const BAND_SCORES_KERNEL = "TsmlBandScores";
export const BAND_CONTEXT_KERNEL = "TsmlBandContext";
export const BAND_TRANSPOSE_KERNEL = "TsmlBandTranspose";

interface BandModuleExports {
  band_scores(q: number, k: number, band: number, scratch: number, bh: number, n: number, d: number, w: number): void;
  band_context(p: number, v: number, out: number, bh: number, n: number, d: number, w: number): void;
  band_transpose(p: number, out: number, bh: number, n: number, w: number): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackendInternals {
  wasm: { asm: { memory: WasmMemory }; _malloc(bytes: number): number; _free(offset: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

const instances = new WeakMap<WasmMemory, BandModuleExports>();
let compiled: object | undefined;

function bandModule(backend: WasmBackendInternals): BandModuleExports {
  const memory = backend.wasm.asm.memory;
  let exports = instances.get(memory);
  if (!exports) {
    compiled ??= new WebAssembly.Module(Buffer.from(bandWasmBase64, "base64"));
    exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as BandModuleExports;
    instances.set(memory, exports);
  }
  return exports;
}

function offsetOf(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

function requireFloat3d(t: tf.TensorInfo, kernel: string, name: string): [number, number, number] {
  if (t.dtype !== "float32" || t.shape.length !== 3) throw new Error(`${kernel}: ${name} must be a float32 rank-3 tensor, got ${t.dtype} [${t.shape}]`);
  return t.shape as [number, number, number];
}

const bandScores: tf.KernelConfig = {
  kernelName: BAND_SCORES_KERNEL,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { q, k } = inputs as { q: tf.TensorInfo; k: tf.TensorInfo };
    const w = (attrs as unknown as { oneSided: number }).oneSided;
    const [bh, n, d] = requireFloat3d(q, BAND_SCORES_KERNEL, "q");
    const be = backend as unknown as WasmBackendInternals;
    const out = be.makeOutput([bh, n, 2 * w + 1], "float32");
    const scratch = be.wasm._malloc(4 * d * (n + 2 * w + 8));
    try {
      bandModule(be).band_scores(offsetOf(be, q), offsetOf(be, k), offsetOf(be, out), scratch, bh, n, d, w);
    } finally {
      be.wasm._free(scratch);
    }
    return out;
  },
};

const bandContext: tf.KernelConfig = {
  kernelName: BAND_CONTEXT_KERNEL,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { p, v } = inputs as { p: tf.TensorInfo; v: tf.TensorInfo };
    const w = (attrs as unknown as { oneSided: number }).oneSided;
    const [bh, n, d] = requireFloat3d(v, BAND_CONTEXT_KERNEL, "v");
    const be = backend as unknown as WasmBackendInternals;
    const out = be.makeOutput([bh, n, d], "float32");
    bandModule(be).band_context(offsetOf(be, p), offsetOf(be, v), offsetOf(be, out), bh, n, d, w);
    return out;
  },
};

const bandTranspose: tf.KernelConfig = {
  kernelName: BAND_TRANSPOSE_KERNEL,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { p } = inputs as { p: tf.TensorInfo };
    const w = (attrs as unknown as { oneSided: number }).oneSided;
    const [bh, n] = requireFloat3d(p, BAND_TRANSPOSE_KERNEL, "p");
    const be = backend as unknown as WasmBackendInternals;
    const out = be.makeOutput([bh, n, 2 * w + 1], "float32");
    bandModule(be).band_transpose(offsetOf(be, p), offsetOf(be, out), bh, n, w);
    return out;
  },
};

/** The band kernels, for registration on the wasm backend. */
export const wasmBandKernels: tf.KernelConfig[] = [bandScores, bandContext, bandTranspose];
