/**
 * PyTorch checkpoints (`pytorch_model.bin`, `torch.save(state_dict)`). Two formats:
 * - the zip archive of torch >= 1.6: `<name>/data.pkl` (the pickled state dict), `<name>/data/<key>` (one raw
 *   little-endian storage per key) and `<name>/version`;
 * - the legacy format of older torch (many checkpoints on the Hub date from 2019-2020): five pickles in a row
 *   (magic number, protocol version 1001, system info, the state dict, the sorted storage keys), then each
 *   storage as an int64 element count and its raw bytes.
 * The state dict's pickle is read by the restricted unpickler with exactly the globals a state dict needs
 * (collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter and the typed storage classes);
 * anything else is refused with its name, so loading a checkpoint never runs code. Tensors come back in
 * safetensors' form (dtype name, shape, little-endian bytes), so one mapping serves both file types.
 */
import * as fs from "fs";
import type { SafetensorsDtype, SafetensorsEntry, SafetensorsFile } from "./safetensors";
import { SAFETENSORS_DTYPE_BYTES } from "./safetensors";
import { PickleGlobal, PickleKey, PickleTuple, UnpicklerPolicy, restrictedUnpickle } from "./restrictedUnpickler";
import { readStoredZipEntries } from "./zip";

/** torch's typed storage classes and the element type each holds. */
const STORAGE_DTYPES: Record<string, SafetensorsDtype> = {
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  DoubleStorage: "F64",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};

const ALLOWED_GLOBALS = "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch.<Type>Storage";

/** A storage class named by a persistent id. */
interface StorageClass extends PickleGlobal {
  dtype: SafetensorsDtype;
}

/** A storage named by a persistent id; its bytes are found once the whole pickle has been read. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: SafetensorsDtype,
    readonly numel: number,
  ) {}
}

/** What `_rebuild_tensor_v2` received: a view of a storage, materialised once the storages' bytes are known. */
class PendingTensor {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function intTuple(value: unknown, what: string, fail: (what: string) => never): number[] {
  if (!(value instanceof PickleTuple) || !value.items.every(isNonNegativeInt)) fail(`${what} is not a tuple of non-negative integers`);
  return [...value.items] as number[];
}

/** The elements a tensor views in its storage's bytes `data`, as contiguous row-major bytes. */
function viewTensor(tensor: PendingTensor, data: Uint8Array, fail: (what: string) => never): SafetensorsEntry {
  const { storage, offset, shape, stride } = tensor;
  if (stride.length !== shape.length) fail(`tensor has ${shape.length} sizes but ${stride.length} strides`);
  const width = SAFETENSORS_DTYPE_BYTES[storage.dtype];
  let elements = 1;
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    elements *= shape[d];
    if (shape[d] > 0) last += (shape[d] - 1) * stride[d];
    if (!Number.isSafeInteger(elements) || !Number.isSafeInteger(last)) fail(`tensor of size [${shape}] is too large`);
  }
  if (elements > 0 && last >= storage.numel)
    fail(`tensor of size [${shape}], stride [${stride}] at offset ${offset} reaches element ${last} of storage ${storage.key}, which has ${storage.numel}`);
  let contiguous = true;
  for (let d = shape.length - 1, expected = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) contiguous = false;
    expected *= shape[d];
  }
  if (contiguous || elements === 0) return { dtype: storage.dtype, shape, data: data.subarray(offset * width, (offset + elements) * width) };
  // A strided view (e.g. a transposed tensor saved as such): gather its elements in row-major order.
  const out = new Uint8Array(elements * width);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < elements; i++) {
    let source = offset;
    for (let d = 0; d < shape.length; d++) source += index[d] * stride[d];
    out.set(data.subarray(source * width, (source + 1) * width), i * width);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return { dtype: storage.dtype, shape, data: out };
}

/** Unpickles plain data (no globals, persistent ids or BUILD: the legacy format's header and key list) at `start`. */
function plainData(bytes: Uint8Array, start: number, fail: (what: string) => never): { value: unknown; end: number } {
  const refuse = (): never => fail("a persistent id or BUILD where plain data was expected");
  return restrictedUnpickle(
    bytes,
    { allowedGlobals: "no globals (plain data)", findGlobal: () => undefined, persistentLoad: refuse, build: refuse },
    fail,
    start,
  );
}

/** The unpickling policy of a state dict; `storages` collects every storage its persistent ids name. */
function stateDictPolicy(storages: Map<string, StorageRef>, fail: (what: string) => never): UnpicklerPolicy {
  const orderedDicts = new WeakSet<object>();
  const globals = new Map<string, PickleGlobal>();
  const add = (global: PickleGlobal) => globals.set(`${global.module}.${global.name}`, global);
  add({
    module: "collections",
    name: "OrderedDict",
    call: (args) => {
      if (args.length !== 0) fail(`collections.OrderedDict called with ${args.length} arguments (a state dict passes none)`);
      const dict = new Map<PickleKey, unknown>();
      orderedDicts.add(dict);
      return dict;
    },
  });
  add({
    module: "torch._utils",
    name: "_rebuild_tensor_v2",
    call: (args) => {
      if (args.length < 4) fail(`torch._utils._rebuild_tensor_v2 called with ${args.length} arguments, needs (storage, offset, size, stride, ...)`);
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof StorageRef)) fail("torch._utils._rebuild_tensor_v2: first argument is not a storage");
      if (!isNonNegativeInt(offset)) fail("torch._utils._rebuild_tensor_v2: storage offset is not a non-negative integer");
      return new PendingTensor(storage, offset, intTuple(size, "tensor size", fail), intTuple(stride, "tensor stride", fail));
    },
  });
  add({
    module: "torch._utils",
    name: "_rebuild_parameter",
    call: (args) => {
      if (!(args[0] instanceof PendingTensor)) fail("torch._utils._rebuild_parameter: first argument is not a tensor");
      return args[0];
    },
  });
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) add({ module: "torch", name, dtype } as StorageClass);
  return {
    allowedGlobals: ALLOWED_GLOBALS,
    findGlobal: (module, name) => globals.get(`${module}.${name}`),
    persistentLoad: (pid) => {
      // ("storage", type, key, location, numel), plus view metadata (always None since torch 1.0) in the legacy format.
      const items = pid instanceof PickleTuple ? pid.items : [];
      const [kind, type, key, , numel, view] = items;
      if ((items.length !== 5 && items.length !== 6) || kind !== "storage") fail(`persistent id is not ("storage", type, key, location, size)`);
      if (view !== undefined && view !== null) fail("persistent id describes a storage view (torch < 1.0), which is not supported");
      const dtype = (type as StorageClass | undefined)?.dtype;
      if (dtype === undefined) fail(`persistent id names ${String((type as PickleGlobal)?.name ?? type)}, not a torch storage type`);
      if (typeof key !== "string" || !isNonNegativeInt(numel)) fail("persistent id has a malformed storage key or size");
      const known = storages.get(key);
      if (known) {
        if (known.dtype !== dtype || known.numel !== numel) fail(`storage ${key} is named as both ${known.numel} ${known.dtype} and ${numel} ${dtype}`);
        return known;
      }
      const storage = new StorageRef(key, dtype, numel);
      storages.set(storage.key, storage);
      return storage;
    },
    build: (target, state) => {
      // A state_dict() carries its `_metadata` (module versions) as an attribute; it holds no tensors.
      if (!(typeof target === "object" && target !== null && orderedDicts.has(target)) || !(state instanceof Map)) {
        fail("BUILD is only allowed to set an OrderedDict's attributes");
      }
    },
  };
}

/** The state dict's tensors, each materialised from its storage's bytes. */
function stateDictTensors(root: unknown, storageBytes: Map<string, Uint8Array>, fail: (what: string) => never): Map<string, SafetensorsEntry> {
  if (!(root instanceof Map)) fail("the pickle does not hold a state dict (a mapping of names to tensors)");
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [name, value] of root as Map<PickleKey, unknown>) {
    if (typeof name !== "string") fail(`state dict key ${String(name)} is not a string`);
    if (!(value instanceof PendingTensor)) fail(`state dict entry "${String(name)}" is not a tensor (a nested checkpoint? save model.state_dict() itself)`);
    const tensor = value;
    tensors.set(name, viewTensor(tensor, storageBytes.get(tensor.storage.key)!, fail));
  }
  return tensors;
}

/** The zip format: the state dict from `<name>/data.pkl`, storages from `<name>/data/<key>`. */
function parseZipCheckpoint(bytes: Uint8Array, fail: (what: string) => never): Map<string, SafetensorsEntry> {
  const entries = readStoredZipEntries(bytes, fail);
  const pickles = [...entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) fail(`expected one <name>/data.pkl in the archive, found ${pickles.length}`);
  const prefix = pickles[0].slice(0, -"data.pkl".length);
  const byteOrder = entries.get(`${prefix}byteorder`);
  if (byteOrder && new TextDecoder().decode(byteOrder) !== "little") fail("storages are big-endian; only little-endian checkpoints are supported");
  const storages = new Map<string, StorageRef>();
  const root = restrictedUnpickle(entries.get(pickles[0])!, stateDictPolicy(storages, fail), (what) => fail(`${prefix}data.pkl: ${what}`)).value;
  const storageBytes = new Map<string, Uint8Array>();
  for (const storage of storages.values()) {
    const data = entries.get(`${prefix}data/${storage.key}`);
    if (!data) fail(`storage ${storage.key} is missing: no entry ${prefix}data/${storage.key} in the archive`);
    const needed = storage.numel * SAFETENSORS_DTYPE_BYTES[storage.dtype];
    if (data.length !== needed) fail(`storage ${storage.key} holds ${data.length} bytes but ${storage.numel} ${storage.dtype} elements need ${needed}`);
    storageBytes.set(storage.key, data);
  }
  return stateDictTensors(root, storageBytes, fail);
}

/** torch's magic number opening a legacy checkpoint, and the only protocol version it wrote. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** The legacy format: header pickles, the state dict, the storage keys, then the storages in key order. */
function parseLegacyCheckpoint(bytes: Uint8Array, fail: (what: string) => never): Map<string, SafetensorsEntry> {
  const part =
    (name: string) =>
    (what: string): never =>
      fail(`legacy format, ${name}: ${what}`);
  const magic = plainData(bytes, 0, part("magic number"));
  if (magic.value !== LEGACY_MAGIC) fail("not a PyTorch checkpoint: neither a zip archive nor the legacy format's magic number");
  const protocol = plainData(bytes, magic.end, part("protocol version"));
  if (protocol.value !== LEGACY_PROTOCOL) fail(`legacy format protocol ${String(protocol.value)} is not supported (expected ${LEGACY_PROTOCOL})`);
  const info = plainData(bytes, protocol.end, part("system info"));
  if (!(info.value instanceof Map) || info.value.get("little_endian") !== true)
    fail("legacy format: the file was written on a big-endian machine (or says nothing about byte order)");
  const storages = new Map<string, StorageRef>();
  const root = restrictedUnpickle(bytes, stateDictPolicy(storages, fail), part("state dict"), info.end);
  const keys = plainData(bytes, root.end, part("storage keys"));
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === "string")) fail("legacy format: the storage key list is not a list of strings");
  const storageBytes = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = keys.end;
  for (const key of keys.value) {
    const storage = storages.get(key);
    if (!storage) fail(`legacy format: storage ${key} is listed but no tensor uses it`);
    if (storageBytes.has(key)) fail(`legacy format: storage ${key} is listed twice`);
    if (at + 8 > bytes.length) fail(`legacy format: storage ${key} starts past the end of the file`);
    const count = view.getBigInt64(at, true);
    if (count !== BigInt(storage.numel)) fail(`legacy format: storage ${key} holds ${count} elements, the state dict says ${storage.numel}`);
    const length = storage.numel * SAFETENSORS_DTYPE_BYTES[storage.dtype];
    if (at + 8 + length > bytes.length) fail(`legacy format: storage ${key} (${length} bytes) runs past the end of the file`);
    storageBytes.set(key, bytes.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  for (const key of storages.keys()) if (!storageBytes.has(key)) fail(`legacy format: storage ${key} is used but not in the file`);
  if (at !== bytes.length) fail(`legacy format: ${bytes.length - at} unexpected bytes after the last storage`);
  return stateDictTensors(root.value, storageBytes, fail);
}

/** Parses the bytes of a PyTorch checkpoint holding a state dict; `source` (a file name) is named in every error. */
export function parseTorchCheckpoint(bytes: Uint8Array, source = "<buffer>"): SafetensorsFile {
  const fail = (what: string): never => {
    throw new Error(`torch checkpoint ${source}: ${what}`);
  };
  const legacy = bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
  return { tensors: legacy ? parseLegacyCheckpoint(bytes, fail) : parseZipCheckpoint(bytes, fail), metadata: { format: "pt" } };
}

/** Reads and parses a PyTorch checkpoint file (e.g. `pytorch_model.bin`). */
export function readTorchCheckpointFile(file: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`torch checkpoint ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseTorchCheckpoint(bytes, file);
}
