/**
 * What a tfjs backend really holds, followed allocation by allocation, for the planner's calibration
 * (measure.ts). tf.memory() and tf.profile count a buffer once per tensor that shares it (Identity and Reshape
 * share), and the WASM heap's size grows in steps and never shrinks, so neither says what a training step needs.
 *
 *   - wasm: the bytes in use in the WebAssembly heap, read from the heap allocator itself. tfjs-backend-wasm is
 *     built with emscripten's emmalloc: the heap is a chain of regions, each with its size at both ends, and the
 *     free ones sit in 64 circular lists whose sentinels are a static array. In use = claimed − free. This counts
 *     tensor buffers (each once) and what the backend's C++ allocates for itself (XNNPACK's packed copies of
 *     MatMul operands, operator objects) and the allocator's headers. No public API reports it (the module
 *     exports malloc and free only), so the lists are found by their layout and checked before use; the tracker
 *     samples after every malloc and before every free the backend makes from JavaScript.
 *   - cpu: the bytes of the distinct buffers in the backend's data map. (tfjs-node keeps its buffers in
 *     libtensorflow, out of sight: not supported.)
 */
import * as tf from "@tensorflow/tfjs";

/** Follows one backend's memory from its creation until `stop()`. */
export interface BackendMemoryTracker {
  /** The backend's name. */
  readonly backend: string;
  /** Bytes held now, minus what was held when tracking began. */
  readonly bytes: number;
  /** The most `bytes` has been since tracking began. */
  readonly peakBytes: number;
  /** WASM: bytes the heap allocator has claimed (in use or free; it never gives any back); 0 elsewhere. */
  claimedBytes(): number;
  /** Restores the backend's own functions. */
  stop(): void;
}

/** The parts of tfjs-backend-wasm's emscripten module used here. */
interface WasmModule {
  HEAPU8: Uint8Array;
  asm: { malloc(bytes: number): number; free(offset: number): void };
  _malloc(bytes: number): number;
  _free(offset: number): void;
}

const FREE_BUCKETS = 64;
/** emmalloc's Region: size, prev, next, (size at the end): 16 bytes; a sentinel of each free list is one. */
const REGION_BYTES = 16;
/** The emmalloc lists are static data, below the heap: search the first MiB of memory for them. */
const STATIC_SEARCH_BYTES = 1 << 20;

/** Where emmalloc keeps its state in this module's memory (byte addresses). */
interface EmmallocLayout {
  /** freeRegionBuckets: 64 sentinel Regions. */
  buckets: number;
  /** listOfAllRegions: the first RootRegion {size, next, endPtr} of the chain of claimed blocks. */
  rootList: number;
}

function isEmmallocBuckets(u32: Uint32Array, address: number, heapBytes: number): boolean {
  let empty = 0;
  for (let i = 0; i < FREE_BUCKETS; i++) {
    const sentinel = address + i * REGION_BYTES;
    const prev = u32[(sentinel + 4) >>> 2];
    const next = u32[(sentinel + 8) >>> 2];
    if (prev === sentinel && next === sentinel) {
      empty++;
      continue;
    }
    // A populated list: its first and last regions point back at the sentinel and are marked free at their end.
    if (next % 4 || prev % 4 || next >= heapBytes || prev >= heapBytes || next < address + FREE_BUCKETS * REGION_BYTES) return false;
    if (u32[(next + 4) >>> 2] !== sentinel || u32[(prev + 8) >>> 2] !== sentinel) return false;
    const size = u32[next >>> 2];
    if (size < REGION_BYTES || next + size > heapBytes || u32[(next + size - 4) >>> 2] !== (size | 1)) return false;
  }
  return empty >= FREE_BUCKETS / 2;
}

/** A RootRegion {size, next, endPtr} at `root`, above the static data, whose block ends inside the heap. */
function isRootRegion(u32: Uint32Array, root: number, staticEnd: number, heapBytes: number): boolean {
  if (root < staticEnd || root % 4 || root + REGION_BYTES > heapBytes) return false;
  const next = u32[(root + 4) >>> 2];
  const end = u32[(root + 8) >>> 2];
  return end > root && end <= heapBytes && (next === 0 || (next >= staticEnd && next < heapBytes));
}

/** Finds emmalloc's free lists and chain of blocks in the module's memory; throws when they are not there. */
function findEmmalloc(module: WasmModule): EmmallocLayout {
  const u32 = new Uint32Array(module.HEAPU8.buffer);
  const heapBytes = module.HEAPU8.length;
  const found: EmmallocLayout[] = [];
  for (let address = 1024; address + FREE_BUCKETS * REGION_BYTES < Math.min(STATIC_SEARCH_BYTES, heapBytes); address += 4) {
    if (!isEmmallocBuckets(u32, address, heapBytes)) continue;
    // listOfAllRegions and the bucket bitmask follow the array (emmalloc.c's order of statics); look close by.
    const after = address + FREE_BUCKETS * REGION_BYTES;
    for (const rootList of [after, after + 4, after + 8, after + 16, address - 4, address - 8]) {
      if (isRootRegion(u32, u32[rootList >>> 2], after, heapBytes)) found.push({ buckets: address, rootList });
    }
  }
  if (found.length !== 1) {
    throw new Error(
      `WASM heap accounting: expected tfjs-backend-wasm's heap allocator (emscripten emmalloc) in the module's memory, found ${found.length} candidates; this build of @tensorflow/tfjs-backend-wasm (tfjs ${tf.version.tfjs}) is not supported`,
    );
  }
  return found[0];
}

/** Bytes in use and claimed in emmalloc's heap now. */
function emmallocUsage(module: WasmModule, layout: EmmallocLayout): { inUse: number; claimed: number } {
  const u32 = new Uint32Array(module.HEAPU8.buffer);
  let claimed = 0;
  for (let root = u32[layout.rootList >>> 2]; root !== 0; root = u32[(root + 4) >>> 2]) claimed += u32[(root + 8) >>> 2] - root;
  let free = 0;
  for (let i = 0; i < FREE_BUCKETS; i++) {
    const sentinel = layout.buckets + i * REGION_BYTES;
    for (let region = u32[(sentinel + 8) >>> 2]; region !== sentinel; region = u32[(region + 8) >>> 2]) free += u32[region >>> 2];
  }
  return { inUse: claimed - free, claimed };
}

function trackWasm(module: WasmModule): BackendMemoryTracker {
  const layout = findEmmalloc(module);
  const { malloc, free } = module.asm;
  const baseline = emmallocUsage(module, layout).inUse;
  let bytes = 0;
  let peakBytes = 0;
  const sample = () => {
    bytes = emmallocUsage(module, layout).inUse - baseline;
    peakBytes = Math.max(peakBytes, bytes);
  };
  // The backend calls module._malloc / _free (emscripten's lazy wrappers replace themselves with asm's on first
  // use, so wrap asm's directly).
  module._malloc = (size: number) => {
    const offset = malloc(size);
    sample();
    return offset;
  };
  module._free = (offset: number) => {
    sample();
    free(offset);
  };
  return {
    backend: "wasm",
    get bytes() {
      sample();
      return bytes;
    },
    get peakBytes() {
      sample();
      return peakBytes;
    },
    claimedBytes: () => emmallocUsage(module, layout).claimed,
    stop() {
      module._malloc = malloc;
      module._free = free;
    },
  };
}

/** The data map of tfjs's cpu backend: dataId → { values }. */
interface DataMap {
  set(dataId: object, value: { values?: unknown }): void;
  delete(dataId: object): boolean;
}

function bufferBytes(value: { values?: unknown } | undefined): number {
  const values = value?.values as { byteLength?: number } | undefined;
  return typeof values?.byteLength === "number" ? values.byteLength : 0;
}

function trackDataMap(backendName: string, data: DataMap): BackendMemoryTracker {
  const { set, delete: remove } = data;
  const own = { set: Object.prototype.hasOwnProperty.call(data, "set"), delete: Object.prototype.hasOwnProperty.call(data, "delete") };
  const held = new Map<object, number>();
  let bytes = 0;
  let peakBytes = 0;
  data.set = function (dataId, value) {
    bytes += bufferBytes(value) - (held.get(dataId) ?? 0);
    held.set(dataId, bufferBytes(value));
    peakBytes = Math.max(peakBytes, bytes);
    return set.call(this, dataId, value);
  };
  data.delete = function (dataId) {
    bytes -= held.get(dataId) ?? 0;
    held.delete(dataId);
    return remove.call(this, dataId);
  };
  return {
    backend: backendName,
    get bytes() {
      return bytes;
    },
    get peakBytes() {
      return peakBytes;
    },
    claimedBytes: () => 0,
    stop() {
      if (own.set) data.set = set;
      else delete (data as Partial<DataMap>).set;
      if (own.delete) data.delete = remove;
      else delete (data as Partial<DataMap>).delete;
    },
  };
}

/**
 * Starts following what the active backend holds (see the file comment). Buffers that existed before are not
 * counted, nor is their release. Call `stop()` when done; one tracker at a time.
 */
export function trackBackendMemory(): BackendMemoryTracker {
  const name = tf.getBackend();
  const backend = tf.backend() as unknown as { wasm?: WasmModule; data?: DataMap };
  if (name === "wasm" && backend.wasm) return trackWasm(backend.wasm);
  if (backend.data && typeof backend.data.set === "function" && typeof backend.data.delete === "function") return trackDataMap(name, backend.data);
  throw new Error(`trackBackendMemory: the ${name} backend has neither a WASM heap nor a data map to follow`);
}
