/** Test helper: PyTorch checkpoints built by hand, opcode by opcode (pickles in a stored zip, as torch.save writes). */
import { storedZip } from "./zipWriter";

/** Pickle bytes from opcodes and their operands (strings are written as latin-1 text, numbers as one byte). */
export function pickle(...parts: Array<string | number | Uint8Array>): Uint8Array {
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : typeof p === "number" ? Buffer.from([p]) : Buffer.from(p))));
}

/** BINUNICODE operand: u32 length + UTF-8 text. */
export function unicode(text: string): Uint8Array {
  const bytes = Buffer.from(text, "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bytes.length);
  return Buffer.concat([Buffer.from("X"), length, bytes]);
}

/** A checkpoint archive `archive/data.pkl` (+ storages) in PyTorch's layout. */
export function checkpoint(dataPkl: Uint8Array, storages: Array<[string, Uint8Array]> = []): Uint8Array {
  return storedZip([
    ["archive/data.pkl", dataPkl],
    ...storages.map(([key, data]) => [`archive/data/${key}`, data] as [string, Uint8Array]),
    ["archive/version", Buffer.from("3\n")],
  ]);
}

/** A one-tensor state dict {`name`: FloatStorage key 0, size [n]} as torch writes it (protocol 2). */
export function oneTensorPickle(n: number, storageType = "torch\nFloatStorage\n", name = "w"): Uint8Array {
  return pickle(
    0x80,
    2,
    "ccollections\nOrderedDict\n",
    ")R",
    "(",
    unicode(name),
    "ctorch._utils\n_rebuild_tensor_v2\n",
    "(",
    "(",
    unicode("storage"),
    "c",
    storageType,
    unicode("0"),
    unicode("cpu"),
    "K",
    n,
    "t",
    "Q",
    "K",
    0,
    "K",
    n,
    0x85,
    "K",
    1,
    0x85,
    0x89,
    "ccollections\nOrderedDict\n",
    ")R",
    "t",
    "R",
    "u",
    ".",
  );
}
