/**
 * Loading tsml's own WebAssembly kernel modules (src/backend/kernels/*.c) next to tfjs-backend-wasm. Each
 * module imports the backend's memory, so its functions take tensors' heap offsets and work in place.
 */
import type * as tf from "@tensorflow/tfjs";
import type { WasmBackendInternals } from "./tfjsInternals";

/** The slice of the WebAssembly JS API used here (the project compiles without the DOM library). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};

export type { WasmBackendInternals } from "./tfjsInternals";

const compiled = new Map<string, object>();
const instances = new WeakMap<object, Map<string, object>>();

/** The exports of the module `base64` instantiated on `backend`'s memory (compiled once, one instance per memory). */
export function wasmModuleExports<T>(backend: WasmBackendInternals, base64: string): T {
  const memory = backend.wasm.asm.memory;
  let byModule = instances.get(memory);
  if (!byModule) instances.set(memory, (byModule = new Map<string, object>()));
  let exports = byModule.get(base64);
  if (!exports) {
    let module = compiled.get(base64);
    if (!module) compiled.set(base64, (module = new WebAssembly.Module(Buffer.from(base64, "base64"))));
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    byModule.set(base64, exports);
  }
  return exports as T;
}

/** The backend's heap as an ArrayBuffer (read it after any allocation: a growing heap replaces the buffer). */
export function heapBuffer(backend: WasmBackendInternals): ArrayBuffer {
  return (backend.wasm.asm.memory as { buffer: ArrayBuffer }).buffer;
}

/** The heap offset of a tensor's data. */
export function heapOffset(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}
