/**
 * Compute backend selection for tsml.
 *
 * Order: native TensorFlow (`tfjs-node-native`, the optional alias of @tensorflow/tfjs-node) when it loads,
 * else WebAssembly (`@tensorflow/tfjs-backend-wasm`), else the pure-JS cpu backend. `TSML_BACKEND`
 * (`tensorflow` | `wasm` | `cpu`) forces one. On WASM, matrix products run on the machine's BLAS when tsml's native
 * addon is built and a BLAS loads (native.ts; `TSML_NATIVE=0` turns it off), with `TSML_THREADS` (default: every
 * core) threads. The choice, the threads and the reasons are always reported.
 */
import * as tf from "@tensorflow/tfjs";
import { registerCpuTrainingKernels } from "./cpuKernels";
import { BlasInfo, coreCount, nativeStatus, resolveThreadCount, setNativeThreads } from "./native";
import { registerWasmTrainingKernels } from "./wasmKernels";

export { BAND_CONTEXT_KERNEL, BAND_SCORES_KERNEL, BAND_TRANSPOSE_KERNEL } from "./bandKernels";
export { GELU_GRAD_KERNEL, GELU_KERNEL, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL, SOFTMAX_GRAD_KERNEL, SOFTMAX_KERNEL } from "./activationKernels";
export { ADAMW_HOST_STEP_KERNEL, type AdamWHostStepAttrs } from "./optimizerKernels";
export { BLAS_MIN_FLOPS } from "./matMulKernels";
export { DROPOUT_KERNEL, applyDropout, fillDropoutMask } from "./dropoutKernels";
export { coreCount, nativeAddonPath, nativeStatus, resolveThreadCount, type BlasInfo, type NativeAddon, type NativeStatus } from "./native";

/** Backend names tsml knows how to start. */
export type BackendName = "tensorflow" | "wasm" | "cpu";

/** Which backend is in use and why it was chosen. */
export interface BackendInfo {
  name: BackendName;
  reason: string;
  tfjsVersion: string;
  /** Threads the backend computes with: the BLAS's on WASM with the native addon, else 1 (WASM in Node is single-threaded). */
  threads: number;
  /** On WASM: the BLAS that runs the matrix products, or why there is none and how to get one. */
  blas: { active: true; info: BlasInfo } | { active: false; reason: string; fix: string } | null;
}

/** Options of `initBackend`. */
export interface BackendOptions {
  /** Threads for the native BLAS (default `TSML_THREADS`, else every core); applied again on every call. */
  threads?: number;
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

function tryLoadTfjsNode(): { ok: boolean; error?: string } {
  try {
    // The alias keeps npm from merging it with danfojs-node's override (see environment.md).
    require("tfjs-node-native");
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message.split("\n")[0] };
  }
}

async function start(name: BackendName): Promise<boolean> {
  if (name === "wasm") {
    require("@tensorflow/tfjs-backend-wasm");
    registerWasmTrainingKernels();
  }
  registerCpuTrainingKernels(); // also when another backend is chosen: tests and benches switch to cpu as a reference
  const ok = await tf.setBackend(name);
  if (ok) await tf.ready();
  return ok;
}

/** What the native path does on this backend: the BLAS and its threads on WASM, nothing elsewhere. */
function nativeOf(name: BackendName, threads: number): Pick<BackendInfo, "threads" | "blas"> {
  if (name === "tensorflow") return { threads: coreCount(), blas: null };
  if (name !== "wasm") return { threads: 1, blas: null };
  const status = nativeStatus();
  if (!status.active) return { threads: 1, blas: { active: false, reason: status.reason, fix: status.fix } };
  return { threads: setNativeThreads(threads), blas: { active: true, info: status.blas } };
}

async function choose(threads: number): Promise<BackendInfo> {
  const forced = process.env.TSML_BACKEND?.trim();
  const info = (name: BackendName, reason: string): BackendInfo => ({ name, reason, tfjsVersion: tf.version.tfjs, ...nativeOf(name, threads) });
  if (forced) {
    if (forced !== "tensorflow" && forced !== "wasm" && forced !== "cpu") {
      throw new Error(`TSML_BACKEND=${JSON.stringify(forced)} is not a backend; expected one of "tensorflow", "wasm", "cpu"`);
    }
    if (forced === "tensorflow") {
      const native = tryLoadTfjsNode();
      if (!native.ok) throw new Error(`TSML_BACKEND=tensorflow but tfjs-node-native did not load: ${native.error}`);
    }
    if (!(await start(forced))) throw new Error(`TSML_BACKEND=${forced}: tf.setBackend("${forced}") failed`);
    return info(forced, `forced by TSML_BACKEND=${forced}`);
  }
  const native = tryLoadTfjsNode();
  if (native.ok && (await start("tensorflow"))) return info("tensorflow", "tfjs-node-native (libtensorflow) loaded");
  const whyNotNative = `tfjs-node-native not available (${native.error ?? "setBackend failed"})`;
  try {
    if (await start("wasm")) return info("wasm", `${whyNotNative}; using WebAssembly`);
  } catch (e) {
    await start("cpu");
    return info("cpu", `${whyNotNative}; wasm failed (${(e as Error).message}); using pure-JS cpu`);
  }
  await start("cpu");
  return info("cpu", `${whyNotNative}; wasm did not initialise; using pure-JS cpu`);
}

/**
 * Selects and initialises the compute backend once; later calls return the same choice (with `threads` applied anew).
 * @example
 * ```ts
 * import { describeBackend, initBackend } from "tsml";
 * console.log(describeBackend(await initBackend({ threads: 2 })));
 * ```
 */
export function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  let threads: number;
  try {
    threads = resolveThreadCount(options.threads);
  } catch (e) {
    return Promise.reject(e);
  }
  if (current) {
    if (options.threads !== undefined && current.blas?.active) current = { ...current, threads: setNativeThreads(threads) };
    return Promise.resolve(current);
  }
  pending ??= choose(threads).then((info) => (current = info));
  return pending;
}

/** The backend chosen by `initBackend`, or undefined before it finished. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

/** The BLAS of a WASM backend in a few words (`OpenBLAS 0.3.21, Zen kernels, from libopenblas.so.0`, or `off: <why>`); null on other backends. */
export function describeBlas(info: BackendInfo): string | null {
  if (!info.blas) return null;
  if (!info.blas.active) return `off: ${info.blas.reason}`;
  const { vendor, core, library } = info.blas.info;
  return `${vendor}${core ? `, ${core} kernels` : ""}, from ${library}`;
}

/**
 * One line for logs and reports, e.g. `backend: wasm + OpenBLAS 0.3.21 for matrix products, native attention (tfjs 4.22.0, 2 threads)
 * — <reason>`, or with `; native BLAS off: <why> (fix: <how>)` when the addon could not run.
 */
export function describeBackend(info: BackendInfo): string {
  const threads = `${info.threads} thread${info.threads === 1 ? "" : "s"}`;
  const blas = info.blas?.active ? ` + ${info.blas.info.vendor} for matrix products, native attention` : "";
  const off = info.blas && !info.blas.active ? `; native BLAS off: ${info.blas.reason} (fix: ${info.blas.fix})` : "";
  return `backend: ${info.name}${blas} (tfjs ${info.tfjsVersion}, ${threads}) — ${info.reason}${off}`;
}
