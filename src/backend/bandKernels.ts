/**
 * tsml's sliding-window attention kernels on the WASM backend: `kernels/band.c`, in place on the tfjs backend's own
 * memory, so each kernel reads its inputs and writes its output where tfjs keeps them. With the native addon active
 * (native.ts) the host build of the same source runs them on every core (native/attention.c); otherwise a small
 * WebAssembly module built from it runs them on one. Both give the same bits (band.c's header). These SIMD kernels
 * compute the band directly, without the 3x key copies and skews of a blockwise formulation. Backends without
 * them use the same ops built from stock tfjs ops.
 */
import * as tf from "@tensorflow/tfjs";
import { bandWasmBase64 } from "./kernels/bandWasm";
import { nativeAddon } from "./native";
import { WasmBackendInternals, heapBuffer, heapOffset, wasmModuleExports } from "./wasmModules";

/**
 * Kernel names. Attrs: `oneSided` = w (half the attention window) and `heads`. Queries, keys, values and
 * contexts are `[batch, n, heads * headDim]` (dense-layer outputs, heads not split off); bands are
 * `[batch, heads, n, 2w + 1]`. See kernels/band.c for the exact definitions.
 */
export const BAND_SCORES_KERNEL = "TsmlBandScores";
/** Kernel name of the band context product (see above). */
export const BAND_CONTEXT_KERNEL = "TsmlBandContext";
/** Kernel name of the band transpose (see above). */
export const BAND_TRANSPOSE_KERNEL = "TsmlBandTranspose";

interface BandModuleExports {
  band_scores(q: number, k: number, band: number, scratch: number, batch: number, heads: number, n: number, d: number, w: number): void;
  band_context(p: number, v: number, out: number, batch: number, heads: number, n: number, d: number, w: number): void;
  band_transpose(p: number, out: number, bh: number, n: number, w: number): void;
}

function bandModule(backend: WasmBackendInternals): BandModuleExports {
  return wasmModuleExports<BandModuleExports>(backend, bandWasmBase64);
}

interface BandAttrs {
  oneSided: number;
  heads: number;
}

/** `[batch, n, hidden]` -> [batch, n, headDim], checking that the heads divide the hidden size. */
function sequenceShape(t: tf.TensorInfo, kernel: string, name: string, heads: number): [number, number, number] {
  if (t.dtype !== "float32" || t.shape.length !== 3 || t.shape[2] % heads !== 0) {
    throw new Error(`${kernel}: ${name} must be float32 [batch, n, heads * headDim] with ${heads} heads, got ${t.dtype} [${t.shape}]`);
  }
  return [t.shape[0], t.shape[1], t.shape[2] / heads];
}

const bandScores: tf.KernelConfig = {
  kernelName: BAND_SCORES_KERNEL,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { q, k } = inputs as { q: tf.TensorInfo; k: tf.TensorInfo };
    const { oneSided: w, heads } = attrs as unknown as BandAttrs;
    const [batch, n, d] = sequenceShape(q, BAND_SCORES_KERNEL, "q", heads);
    const be = backend as unknown as WasmBackendInternals;
    const out = be.makeOutput([batch, heads, n, 2 * w + 1], "float32"); // may grow the heap: read the buffer after it
    const addon = nativeAddon();
    if (addon) {
      addon.bandScores(heapBuffer(be), heapOffset(be, q), heapOffset(be, k), heapOffset(be, out), batch, heads, n, d, w);
      return out;
    }
    const scratch = be.wasm._malloc(4 * d * (n + 2 * w + 8));
    try {
      bandModule(be).band_scores(heapOffset(be, q), heapOffset(be, k), heapOffset(be, out), scratch, batch, heads, n, d, w);
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
    const { oneSided: w, heads } = attrs as unknown as BandAttrs;
    const [batch, n, d] = sequenceShape(v, BAND_CONTEXT_KERNEL, "v", heads);
    const be = backend as unknown as WasmBackendInternals;
    const out = be.makeOutput(v.shape.slice(), "float32");
    const addon = nativeAddon();
    if (addon) addon.bandContext(heapBuffer(be), heapOffset(be, p), heapOffset(be, v), heapOffset(be, out), batch, heads, n, d, w);
    else bandModule(be).band_context(heapOffset(be, p), heapOffset(be, v), heapOffset(be, out), batch, heads, n, d, w);
    return out;
  },
};

const bandTranspose: tf.KernelConfig = {
  kernelName: BAND_TRANSPOSE_KERNEL,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { p } = inputs as { p: tf.TensorInfo };
    const { oneSided: w } = attrs as unknown as BandAttrs;
    if (p.dtype !== "float32" || p.shape.length !== 4 || p.shape[3] !== 2 * w + 1) {
      throw new Error(`${BAND_TRANSPOSE_KERNEL}: p must be float32 [batch, heads, n, ${2 * w + 1}], got ${p.dtype} [${p.shape}]`);
    }
    const [batch, heads, n] = p.shape;
    const be = backend as unknown as WasmBackendInternals;
    const out = be.makeOutput(p.shape.slice(), "float32");
    const addon = nativeAddon();
    if (addon) addon.bandTranspose(heapBuffer(be), heapOffset(be, p), heapOffset(be, out), batch * heads, n, w);
    else bandModule(be).band_transpose(heapOffset(be, p), heapOffset(be, out), batch * heads, n, w);
    return out;
  },
};

/** The band kernels, for registration on the wasm backend. */
export const wasmBandKernels: tf.KernelConfig[] = [bandScores, bandContext, bandTranspose];
