/**
 * tsml's optional native addon (`native/blas.c`, built by `npm install` when a C compiler is there): matrix products on
 * the machine's BLAS — OpenBLAS on Linux, Accelerate on macOS, or the CBLAS named by `TSML_BLAS_LIBRARY` — in place
 * on tfjs's WASM heap. Everything here degrades to "not active, because …, fix: …": the addon missing, the BLAS
 * missing, a symbol missing, or `TSML_NATIVE=0`. Thread counts come from `TSML_THREADS` or `initBackend({ threads })`.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { tsmlPackageRoot } from "../package";

/** The addon's functions (see native/blas.c for layouts and the safety checks every call makes). */
export interface NativeAddon {
  /** Loads the BLAS shared library at `library` and reports what it is. */
  load(library: string): { path: string; config: string; core: string; threads: number };
  /** Sets the BLAS's threads; returns the count it reports. */
  setThreads(threads: number): number;
  /** `count` float32 products C = op(A) op(B) on the WASM heap `buffer` (offsets and strides in floats). */
  sgemm(
    buffer: ArrayBuffer,
    count: number,
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    a: number,
    strideA: number,
    b: number,
    strideB: number,
    c: number,
    strideC: number,
  ): void;
  /** Adds the bias and applies the activation to C in place, on the WASM heap `buffer`. */
  epilogue(
    buffer: ArrayBuffer,
    c: number,
    rows: number,
    cols: number,
    bias: number,
    biasSize: number,
    activation: number,
    prelu: number,
    preluSize: number,
    alpha: number,
  ): void;
  /** native/attention.c: band.c's scores on the addon's thread pool (setThreads sizes it). */
  bandScores(buffer: ArrayBuffer, q: number, k: number, band: number, batch: number, heads: number, n: number, d: number, w: number): void;
  /** native/attention.c: band.c's context on the addon's thread pool. */
  bandContext(buffer: ArrayBuffer, p: number, v: number, out: number, batch: number, heads: number, n: number, d: number, w: number): void;
  /** native/attention.c: band.c's transpose on the addon's thread pool. */
  bandTranspose(buffer: ArrayBuffer, p: number, out: number, bh: number, n: number, w: number): void;
  /** native/dropout.c: x times its dropout mask, on the pool (no mask in memory). */
  dropoutApply(buffer: ArrayBuffer, x: number, out: number, count: number, key: number, rate: number): void;
  /** native/elementwise.c: out = a op b (0 add, 1 subtract, 2 multiply) with broadcasting described by `layout`, on the pool. */
  binary(buffer: ArrayBuffer, op: number, a: number, b: number, out: number, layout: Int32Array): void;
  /** native/layers.c: activations.c's exact GELU on the pool. */
  gelu(buffer: ArrayBuffer, x: number, out: number, n: number): void;
  /** native/layers.c: GELU's gradient on the pool. */
  geluGrad(buffer: ArrayBuffer, x: number, dy: number, out: number, n: number): void;
  /** native/layers.c: LayerNorm of the rows of x (+ residual; -1 for none) on the pool. */
  layerNorm(
    buffer: ArrayBuffer,
    x: number,
    residual: number,
    gamma: number,
    beta: number,
    out: number,
    xHat: number,
    invStd: number,
    rows: number,
    width: number,
    eps: number,
  ): void;
  /** native/adamw.c: AdamW's update of a heap parameter with host moments (updated in place), on the pool. */
  adamwStep(
    buffer: ArrayBuffer,
    param: number,
    grad: number,
    out: number,
    n: number,
    m: Float32Array,
    v: Float32Array,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    eps: number,
    stepSize: number,
    correction: number,
    decay: number,
    decays: boolean,
  ): void;
  /** native/layers.c: the softmax of the rows of [global + globalBias | x + xBias] (globalWidth 0: x alone), each times its keep factor (masks -1: none), on the pool. */
  softmax(
    buffer: ArrayBuffer,
    x: number,
    xBias: number,
    global: number,
    globalBias: number,
    keep: number,
    out: number,
    globalOut: number,
    rows: number,
    width: number,
    globalWidth: number,
    heads: number,
    n: number,
  ): void;
  /** native/layers.c: the softmax's gradient P (DY - Σ DY P) per row of P = [globalP | p], DY = [globalDy | dy], on the pool. */
  softmaxGrad(
    buffer: ArrayBuffer,
    p: number,
    dy: number,
    globalP: number,
    globalDy: number,
    out: number,
    globalOut: number,
    rows: number,
    width: number,
    globalWidth: number,
  ): void;
  /** native/layers.c: LayerNorm's gradient on the pool. */
  layerNormGrad(
    buffer: ArrayBuffer,
    dy: number,
    xHat: number,
    invStd: number,
    gamma: number,
    dx: number,
    dGamma: number,
    dBeta: number,
    rows: number,
    width: number,
  ): void;
}

/** The BLAS in use: where it was loaded from and what it says of itself. */
export interface BlasInfo {
  /** e.g. "OpenBLAS 0.3.21", or the library's file name when it does not say. */
  vendor: string;
  /** The library path as opened. */
  library: string;
  /** The CPU kernel set OpenBLAS chose (e.g. "Zen", "Haswell", "SkylakeX"); "" when not reported. */
  core: string;
}

/** Whether matrix products run natively, and if not, why and how to fix it. */
export type NativeStatus = { active: true; blas: BlasInfo; addon: NativeAddon } | { active: false; reason: string; fix: string };

const REBUILD = "then run `npm run build:native` in a tsml checkout (or `npm rebuild tsml` where tsml is a dependency)";

/** The addon's path in this install. */
export function nativeAddonPath(): string {
  return path.join(tsmlPackageRoot(), "native", "build", "Release", "tsml_native.node");
}

/** BLAS libraries tried in order, unless `TSML_BLAS_LIBRARY` names one. */
function blasCandidates(): string[] {
  const named = process.env.TSML_BLAS_LIBRARY?.trim();
  if (named) return [named];
  if (process.platform === "darwin") return ["/System/Library/Frameworks/Accelerate.framework/Accelerate"];
  return ["libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3"];
}

function blasFix(): string {
  if (process.env.TSML_BLAS_LIBRARY?.trim()) return "set TSML_BLAS_LIBRARY to a CBLAS library (one that exports cblas_sgemm), or unset it";
  if (process.platform === "darwin") return "Accelerate ships with macOS; check that the addon was built for this machine";
  return "install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0)";
}

function vendorOf(loaded: { path: string; config: string }): string {
  const version = /^OpenBLAS\s+\S+/.exec(loaded.config);
  if (version) return version[0];
  if (/Accelerate/.test(loaded.path)) return "Accelerate";
  return path.basename(loaded.path);
}

function loadStatus(): NativeStatus {
  const switchValue = process.env.TSML_NATIVE?.trim();
  if (switchValue !== undefined && switchValue !== "" && switchValue !== "0" && switchValue !== "1") {
    throw new Error(`TSML_NATIVE=${JSON.stringify(switchValue)}: expected 0 (WebAssembly only) or 1 (native BLAS when it loads)`);
  }
  if (switchValue === "0") return { active: false, reason: "disabled by TSML_NATIVE=0", fix: "unset TSML_NATIVE" };
  const file = nativeAddonPath();
  if (!fs.existsSync(file)) {
    return {
      active: false,
      reason: `the native addon was not built (${path.relative(process.cwd(), file) || file} is missing)`,
      fix: `install a C compiler and make (Debian: apt-get install g++ make), ${REBUILD}`,
    };
  }
  let addon: NativeAddon;
  try {
    addon = require(file) as NativeAddon;
  } catch (e) {
    return { active: false, reason: `the native addon did not load (${(e as Error).message.split("\n")[0]})`, fix: `rebuild it for this Node: ${REBUILD}` };
  }
  if (
    typeof addon.bandScores !== "function" ||
    typeof addon.layerNorm !== "function" ||
    typeof addon.dropoutApply !== "function" ||
    typeof addon.adamwStep !== "function" ||
    typeof addon.binary !== "function" ||
    typeof addon.softmax !== "function"
  ) {
    return { active: false, reason: `the native addon is older than this tsml (${file} lacks tsml's own kernels)`, fix: `rebuild it: ${REBUILD}` };
  }
  const failures: string[] = [];
  for (const library of blasCandidates()) {
    try {
      const loaded = addon.load(library);
      return { active: true, addon, blas: { vendor: vendorOf(loaded), library: loaded.path, core: loaded.core } };
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  return { active: false, reason: `no BLAS could be loaded (${failures.join("; ")})`, fix: blasFix() };
}

let status: NativeStatus | undefined;

/** Loads the addon and a BLAS once; later calls return the same status. */
export function nativeStatus(): NativeStatus {
  status ??= loadStatus();
  return status;
}

/** The addon when it is active (tsml's native kernels then run on its thread pool), else undefined. */
export function nativeAddon(): NativeAddon | undefined {
  const current = nativeStatus();
  return current.active ? current.addon : undefined;
}

/** The cores this process may use (`os.availableParallelism`). */
export function coreCount(): number {
  return Math.max(1, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length);
}

/**
 * The thread count to compute with: `requested`, else `TSML_THREADS`, else every core. Anything but a whole number
 * from 1 to the number of cores is an error naming where it came from.
 */
export function resolveThreadCount(requested?: number): number {
  const cores = coreCount();
  const fromEnv = process.env.TSML_THREADS?.trim();
  const [value, source] =
    requested !== undefined
      ? [requested, `initBackend({ threads: ${requested} })`]
      : fromEnv
        ? [Number(fromEnv), `TSML_THREADS=${JSON.stringify(fromEnv)}`]
        : [cores, ""];
  if (!Number.isInteger(value) || value < 1 || value > cores) {
    throw new Error(`${source}: expected a whole number of threads from 1 to ${cores} (the cores of this machine)`);
  }
  return value;
}

/** Sets the BLAS's thread count (where it has an API); returns the count it now uses. */
export function setNativeThreads(threads: number): number {
  const current = nativeStatus();
  if (!current.active) return 1;
  const reported = current.addon.setThreads(threads);
  return reported > 0 ? reported : threads;
}
