/**
 * PyTorch checkpoints (`pytorch_model.bin`, `torch.save(state_dict)` since torch 1.6): a zip archive holding
 * `<name>/data.pkl` (the pickled state dict), `<name>/data/<key>` (one raw little-endian storage per key) and
 * `<name>/version`. The pickle is read by the restricted unpickler with exactly the globals a state dict needs
 * (collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter and the typed storage
 * classes); anything else is refused with its name, so loading a checkpoint never runs code. Tensors come back
 * in safetensors' form (dtype name, shape, little-endian bytes), so one mapping serves both formats.
 */
import * as fs from "fs";
import type { SafetensorsDtype, SafetensorsEntry, SafetensorsFile } from "./safetensors";
import { SAFETENSORS_DTYPE_BYTES } from "./safetensors";
import { PickleGlobal, PickleKey, PickleTuple, UnpicklerPolicy, restrictedUnpickle } from "./restrictedUnpickler";
import { readStoredZipEntries } from "./zip";

/** torch's typed storage classes and the element type each holds. */
const STORAGE_DTYPES: Record<string, SafetensorsDtype> = {
  FloatStorage: "F32", HalfStorage: "F16", BFloat16Storage: "BF16", DoubleStorage: "F64", LongStorage: "I64",
  IntStorage: "I32", ShortStorage: "I16", CharStorage: "I8", ByteStorage: "U8", BoolStorage: "BOOL",
};

const ALLOWED_GLOBALS = "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch.<Type>Storage";

/** A storage class named by a persistent id. */
interface StorageClass extends PickleGlobal {
  dtype: SafetensorsDtype;
}

/** A loaded storage: its element type and raw bytes. */
class Storage {
  constructor(readonly dtype: SafetensorsDtype, readonly data: Uint8Array) {}
}

/** A rebuilt tensor (what `_rebuild_tensor_v2` returns). */
class Tensor {
  constructor(readonly entry: SafetensorsEntry) {}
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function intTuple(value: unknown, what: string, fail: (what: string) => never): number[] {
  if (!(value instanceof PickleTuple) || !value.items.every(isNonNegativeInt)) fail(`${what} is not a tuple of non-negative integers`);
  return [...(value as PickleTuple).items] as number[];
}

/** The elements of `storage` that a tensor (offset, size, stride) views, as contiguous row-major bytes. */
function viewTensor(storage: Storage, offset: number, shape: number[], stride: number[], fail: (what: string) => never): SafetensorsEntry {
  if (stride.length !== shape.length) fail(`tensor has ${shape.length} sizes but ${stride.length} strides`);
  const width = SAFETENSORS_DTYPE_BYTES[storage.dtype];
  const capacity = storage.data.length / width;
  let elements = 1;
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    elements *= shape[d];
    if (shape[d] > 0) last += (shape[d] - 1) * stride[d];
    if (!Number.isSafeInteger(elements) || !Number.isSafeInteger(last)) fail(`tensor of size [${shape}] is too large`);
  }
  if (elements > 0 && last >= capacity) fail(`tensor of size [${shape}], stride [${stride}] at offset ${offset} reaches element ${last} of a ${capacity}-element storage`);
  let contiguous = true;
  for (let d = shape.length - 1, expected = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) contiguous = false;
    expected *= shape[d];
  }
  if (contiguous || elements === 0) {
    return { dtype: storage.dtype, shape, data: storage.data.subarray(offset * width, (offset + elements) * width) };
  }
  // A strided view (e.g. a transposed tensor saved as such): gather its elements in row-major order.
  const out = new Uint8Array(elements * width);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < elements; i++) {
    let source = offset;
    for (let d = 0; d < shape.length; d++) source += index[d] * stride[d];
    out.set(storage.data.subarray(source * width, (source + 1) * width), i * width);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return { dtype: storage.dtype, shape, data: out };
}

/** The unpickling policy of a state dict whose storages live in `entries` under `prefix/data/`. */
function stateDictPolicy(entries: Map<string, Uint8Array>, prefix: string, fail: (what: string) => never): UnpicklerPolicy {
  const storages = new Map<string, Storage>();
  const orderedDicts = new WeakSet<object>();
  const globals = new Map<string, PickleGlobal>();
  const add = (global: PickleGlobal) => globals.set(`${global.module}.${global.name}`, global);
  add({
    module: "collections", name: "OrderedDict",
    call: (args) => {
      if (args.length !== 0) fail(`collections.OrderedDict called with ${args.length} arguments (a state dict passes none)`);
      const dict = new Map<PickleKey, unknown>();
      orderedDicts.add(dict);
      return dict;
    },
  });
  const rebuildTensor = (args: readonly unknown[]): Tensor => {
    if (args.length < 4) fail(`torch._utils._rebuild_tensor_v2 called with ${args.length} arguments, needs (storage, offset, size, stride, ...)`);
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof Storage)) fail("torch._utils._rebuild_tensor_v2: first argument is not a storage");
    if (!isNonNegativeInt(offset)) fail("torch._utils._rebuild_tensor_v2: storage offset is not a non-negative integer");
    return new Tensor(viewTensor(storage as Storage, offset as number, intTuple(size, "tensor size", fail), intTuple(stride, "tensor stride", fail), fail));
  };
  add({ module: "torch._utils", name: "_rebuild_tensor_v2", call: rebuildTensor });
  add({
    module: "torch._utils", name: "_rebuild_parameter",
    call: (args) => {
      if (!(args[0] instanceof Tensor)) fail("torch._utils._rebuild_parameter: first argument is not a tensor");
      return args[0];
    },
  });
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) add({ module: "torch", name, dtype } as StorageClass);
  return {
    allowedGlobals: ALLOWED_GLOBALS,
    findGlobal: (module, name) => globals.get(`${module}.${name}`),
    persistentLoad: (pid) => {
      const items = pid instanceof PickleTuple ? pid.items : [];
      const [kind, type, key, , numel] = items;
      if (items.length !== 5 || kind !== "storage") fail(`persistent id is not ("storage", type, key, location, size)`);
      const dtype = (type as StorageClass | undefined)?.dtype;
      if (dtype === undefined) fail(`persistent id names ${String((type as PickleGlobal)?.name ?? type)}, not a torch storage type`);
      if (typeof key !== "string" || !isNonNegativeInt(numel)) fail("persistent id has a malformed storage key or size");
      const cached = storages.get(key as string);
      if (cached) {
        if (cached.dtype !== dtype) fail(`storage ${key} is used as both ${cached.dtype} and ${dtype}`);
        return cached;
      }
      const data = entries.get(`${prefix}data/${key}`);
      if (!data) fail(`storage ${key} is missing: no entry ${prefix}data/${key} in the archive`);
      const bytes = (numel as number) * SAFETENSORS_DTYPE_BYTES[dtype!];
      if (data!.length !== bytes) fail(`storage ${key} holds ${data!.length} bytes but ${numel} ${dtype} elements need ${bytes}`);
      const storage = new Storage(dtype!, data!);
      storages.set(key as string, storage);
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

/** Parses the bytes of a PyTorch zip checkpoint holding a state dict; `source` (a file name) is named in every error. */
export function parseTorchCheckpoint(bytes: Uint8Array, source = "<buffer>"): SafetensorsFile {
  const fail = (what: string): never => {
    throw new Error(`torch checkpoint ${source}: ${what}`);
  };
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    fail("this is a legacy (pre-1.6, non-zip) torch.save file; re-save it with a current torch or convert it to safetensors");
  }
  const entries = readStoredZipEntries(bytes, fail);
  const pickles = [...entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) fail(`expected one <name>/data.pkl in the archive, found ${pickles.length}`);
  const prefix = pickles[0].slice(0, -"data.pkl".length);
  const byteOrder = entries.get(`${prefix}byteorder`);
  if (byteOrder && new TextDecoder().decode(byteOrder) !== "little") fail("storages are big-endian; only little-endian checkpoints are supported");
  const root = restrictedUnpickle(entries.get(pickles[0])!, stateDictPolicy(entries, prefix, fail), (what) => fail(`${prefix}data.pkl: ${what}`));
  if (!(root instanceof Map)) fail("data.pkl does not hold a state dict (a mapping of names to tensors)");
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [name, value] of root as Map<PickleKey, unknown>) {
    if (typeof name !== "string") fail(`state dict key ${String(name)} is not a string`);
    if (!(value instanceof Tensor)) fail(`state dict entry "${String(name)}" is not a tensor (a nested checkpoint? save model.state_dict() itself)`);
    tensors.set(name as string, (value as Tensor).entry);
  }
  return { tensors, metadata: { format: "pt" } };
}

/** Reads and parses a PyTorch zip checkpoint file (e.g. `pytorch_model.bin`). */
export function readTorchCheckpointFile(file: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`torch checkpoint ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseTorchCheckpoint(bytes, file);
}
