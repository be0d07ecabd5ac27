/**
 * Compute backend selection for tsml.
 *
 * Order: native TensorFlow (`tfjs-node-native`, the optional alias of @tensorflow/tfjs-node) when it loads,
 * else WebAssembly (`@tensorflow/tfjs-backend-wasm`), else the pure-JS cpu backend. `TSML_BACKEND`
 * (`tensorflow` | `wasm` | `cpu`) forces one. The choice and the reason are always reported.
 */
import * as tf from "@tensorflow/tfjs";
import { registerCpuTrainingKernels } from "./cpuKernels";
import { registerWasmTrainingKernels } from "./wasmKernels";

export { BAND_CONTEXT_KERNEL, BAND_SCORES_KERNEL, BAND_TRANSPOSE_KERNEL } from "./bandKernels";
export { GELU_GRAD_KERNEL, GELU_KERNEL, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from "./activationKernels";
export { ADAMW_HOST_STEP_KERNEL, type AdamWHostStepAttrs } from "./optimizerKernels";

/** Backend names tsml knows how to start. */
export type BackendName = "tensorflow" | "wasm" | "cpu";

/** Which backend is in use and why it was chosen. */
export interface BackendInfo {
  name: BackendName;
  reason: string;
  tfjsVersion: string;
  /** Threads the backend computes with (WASM in Node is single-threaded). */
  threads: number;
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

function tryLoadNative(): { ok: boolean; error?: string } {
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

async function choose(): Promise<BackendInfo> {
  const forced = process.env.TSML_BACKEND?.trim();
  const info = (name: BackendName, reason: string): BackendInfo => ({
    name,
    reason,
    tfjsVersion: tf.version.tfjs,
    threads: name === "tensorflow" ? require("os").cpus().length : 1,
  });
  if (forced) {
    if (forced !== "tensorflow" && forced !== "wasm" && forced !== "cpu") {
      throw new Error(`TSML_BACKEND=${JSON.stringify(forced)} is not a backend; expected one of "tensorflow", "wasm", "cpu"`);
    }
    if (forced === "tensorflow") {
      const native = tryLoadNative();
      if (!native.ok) throw new Error(`TSML_BACKEND=tensorflow but tfjs-node-native did not load: ${native.error}`);
    }
    if (!(await start(forced))) throw new Error(`TSML_BACKEND=${forced}: tf.setBackend("${forced}") failed`);
    return info(forced, `forced by TSML_BACKEND=${forced}`);
  }
  const native = tryLoadNative();
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

/** Selects and initialises the compute backend once; later calls return the same choice. */
export function initBackend(): Promise<BackendInfo> {
  if (current) return Promise.resolve(current);
  pending ??= choose().then((info) => (current = info));
  return pending;
}

/** The backend chosen by `initBackend`, or undefined before it finished. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

/** One line for logs and reports, e.g. `backend: wasm (tfjs 4.22.0, 1 thread) — <reason>`. */
export function describeBackend(info: BackendInfo): string {
  return `backend: ${info.name} (tfjs ${info.tfjsVersion}, ${info.threads} thread${info.threads === 1 ? "" : "s"}) — ${info.reason}`;
}
