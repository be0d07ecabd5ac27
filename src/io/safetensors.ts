/**
 * The safetensors format (Hugging Face): u64 little-endian header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then raw
 * little-endian tensor data. Files are treated as untrusted: every length and offset is bounds-checked
 * against the file size before anything is allocated.
 */
import * as fs from "fs";
import { writeFileAtomic } from "./atomic";

/** Element types of the safetensors format with their byte widths. */
export const SAFETENSORS_DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
} as const;

/** A safetensors element type name. */
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BYTES;

/** One tensor as stored: its raw little-endian bytes (a view into the file, not a copy). */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array;
}

/** A parsed safetensors file: tensors by name and the string metadata. */
export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** A tensor to write: its shape and either typed-array values (F32, I32, F64) or raw little-endian bytes of any dtype. */
export interface SafetensorsInput {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array | Float64Array | Uint8Array;
}

/** Largest header accepted (the reference implementation's limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

function fail(source: string, what: string): never {
  throw new Error(`safetensors ${source}: ${what}`);
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_BYTES, value);
}

/** Parses safetensors bytes; `source` (a file name) is named in every error. */
export function parseSafetensors(bytes: Uint8Array, source = "<buffer>"): SafetensorsFile {
  if (bytes.length < 8) fail(source, `file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    fail(source, `header length ${headerLength} exceeds the file size (${bytes.length} bytes) or the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerEnd = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (e) {
    fail(source, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail(source, "header is not a JSON object");
  const dataLength = bytes.length - headerEnd;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  const ranges: Array<[number, number, string]> = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail(source, "__metadata__ is not an object");
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(source, `__metadata__.${k} is not a string`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    if (raw === null || typeof raw !== "object") fail(source, `tensor "${name}": entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (!isDtype(dtype))
      fail(source, `tensor "${name}": unknown dtype ${JSON.stringify(dtype)}; expected one of ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(", ")}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(source, `tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(source, `tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) {
      fail(source, `tensor "${name}": data_offsets [${begin}, ${end}] out of range (data section is ${dataLength} bytes)`);
    }
    let elements = 1;
    for (const d of shape as number[]) {
      elements *= d;
      if (!Number.isSafeInteger(elements)) fail(source, `tensor "${name}": shape ${JSON.stringify(shape)} is too large`);
    }
    const expected = elements * SAFETENSORS_DTYPE_BYTES[dtype];
    if (expected !== end - begin) {
      fail(source, `tensor "${name}": shape ${JSON.stringify(shape)} of ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`);
    }
    ranges.push([begin, end, name]);
    tensors.set(name, { dtype, shape: shape as number[], data: bytes.subarray(headerEnd + begin, headerEnd + end) });
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) fail(source, `tensors "${ranges[i - 1][2]}" and "${ranges[i][2]}" overlap in the data section`);
  }
  return { tensors, metadata };
}

/** Reads and parses a safetensors file. */
export function readSafetensorsFile(file: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`safetensors ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSafetensors(bytes, file);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * Math.pow(2, -14) * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * Math.pow(2, exponent - 15) * (1 + fraction / 1024);
}

/** Converts a floating-point entry (F32, F16, BF16, F64) to a new Float32Array. */
export function toFloat32Array(entry: SafetensorsEntry, name = "tensor"): Float32Array {
  const { data, dtype } = entry;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = data.byteLength / SAFETENSORS_DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  switch (dtype) {
    case "F32":
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case "F64":
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    case "BF16": {
      const bits = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        bits.setUint32(0, view.getUint16(2 * i, true) << 16);
        out[i] = bits.getFloat32(0);
      }
      break;
    }
    default:
      throw new Error(`${name}: dtype ${dtype} is not a floating-point type (expected F32, F16, BF16 or F64)`);
  }
  return out;
}

/** Converts an integer entry (I64, I32, I16, I8, U8, BOOL) to a new Int32Array; I64 values must fit in 32 bits. */
export function toInt32Array(entry: SafetensorsEntry, name = "tensor"): Int32Array {
  const { data, dtype } = entry;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = data.byteLength / SAFETENSORS_DTYPE_BYTES[dtype];
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case "I64": {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) throw new Error(`${name}: I64 value ${v} at index ${i} does not fit in int32`);
        out[i] = Number(v);
        break;
      }
      case "I32":
        out[i] = view.getInt32(4 * i, true);
        break;
      case "I16":
        out[i] = view.getInt16(2 * i, true);
        break;
      case "I8":
        out[i] = view.getInt8(i);
        break;
      case "U8":
      case "BOOL":
        out[i] = view.getUint8(i);
        break;
      default:
        throw new Error(`${name}: dtype ${dtype} is not an integer type`);
    }
  }
  return out;
}

/** Serialises tensors (sorted by name, 8-byte aligned header, as HF writes it) to safetensors bytes. */
export function serializeSafetensors(tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__")
      throw new Error(
        'safetensors: a tensor is named "__metadata__", the key the format reserves for the header\'s metadata (no reader would find the tensor); rename it',
      );
    const { dtype, shape, data } = tensors[name];
    const elements = shape.reduce((a, b) => a * b, 1);
    // A Uint8Array holds raw bytes: `width` of them per element.
    const width = data instanceof Uint8Array ? SAFETENSORS_DTYPE_BYTES[dtype] : 1;
    if (elements * width !== data.length)
      throw new Error(`safetensors: tensor "${name}" has shape ${JSON.stringify(shape)} (${elements} values) but ${data.length / width} values`);
    if (!(data instanceof Uint8Array) && data.BYTES_PER_ELEMENT !== SAFETENSORS_DTYPE_BYTES[dtype])
      throw new Error(`safetensors: tensor "${name}" is ${dtype} but its array has ${data.BYTES_PER_ELEMENT}-byte elements`);
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf-8");
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = tensors[name];
    const bytes = new Uint8Array(data.byteLength);
    const view = new DataView(bytes.buffer);
    // Explicit little-endian writes keep the file portable whatever the host byte order.
    if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(4 * i, v, true));
    else if (data instanceof Float64Array) data.forEach((v, i) => view.setFloat64(8 * i, v, true));
    else if (data instanceof Int32Array) data.forEach((v, i) => view.setInt32(4 * i, v, true));
    else bytes.set(data);
    out.set(bytes, position);
    position += bytes.length;
  }
  return out;
}

/** Serialises `tensors` and writes them to `file` atomically. */
export function writeSafetensorsFile(file: string, tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}
