/**
 * Reading the uncompressed ("stored") zip archives that PyTorch writes (`torch.save`'s default format since
 * 1.6), ZIP64 included. Every entry is returned as a view into the archive bytes, after checking its
 * headers, bounds and CRC-32; compressed or encrypted entries are refused. The archive is untrusted input:
 * nothing is allocated or read from a length field before it has been checked against the archive size.
 *
 * Hand-written rather than taken from npm: fflate's `unzipSync` copies every entry and silently truncates an
 * entry whose size runs past the end of the file, and reads an untrusted entry count without checking it
 * against the central directory; yauzl is asynchronous and stream-based (a copy again). Stored entries need
 * only the central directory and local headers, read here with explicit bounds checks.
 */
import * as zlib from "zlib";

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const MAX_COMMENT = 0xffff;
const U32_SENTINEL = 0xffffffff;
const U16_SENTINEL = 0xffff;

/** Reads little-endian integers from `bytes`, failing with `fail` instead of a RangeError when out of bounds. */
class BoundedView {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly fail: (what: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  check(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.bytes.length) {
      this.fail(`${what} at offset ${offset} (${length} bytes) lies outside the ${this.bytes.length}-byte archive`);
    }
  }

  u16(offset: number, what: string): number {
    this.check(offset, 2, what);
    return this.view.getUint16(offset, true);
  }

  u32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.view.getUint32(offset, true);
  }

  u64(offset: number, what: string): number {
    this.check(offset, 8, what);
    const value = this.view.getBigUint64(offset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${value} is too large`);
    return Number(value);
  }
}

/** Finds the end-of-central-directory record, which ends the file apart from an optional comment. */
function findEndOfCentralDirectory(reader: BoundedView, fail: (what: string) => never): number {
  const size = reader.bytes.length;
  if (size < EOCD_SIZE) fail(`file is ${size} bytes, too short for a zip archive`);
  const lowest = Math.max(0, size - EOCD_SIZE - MAX_COMMENT);
  for (let at = size - EOCD_SIZE; at >= lowest; at--) {
    if (reader.u32(at, "end of central directory") === EOCD_SIGNATURE && at + EOCD_SIZE + reader.u16(at + 20, "comment length") === size) return at;
  }
  return fail("no end-of-central-directory record: not a zip archive (PyTorch checkpoints since 1.6 are zip archives)");
}

/** Replaces 0xFFFF.. sentinel fields of a central header by their ZIP64 extra-field values. */
function applyZip64Extra(
  reader: BoundedView,
  extraStart: number,
  extraLength: number,
  fields: { size: number; compressedSize: number; localOffset: number },
  name: string,
  fail: (what: string) => never,
): void {
  const wanted = (["size", "compressedSize", "localOffset"] as const).filter((k) => fields[k] === U32_SENTINEL);
  if (wanted.length === 0) return;
  let at = extraStart;
  const end = extraStart + extraLength;
  while (at + 4 <= end) {
    const id = reader.u16(at, "extra field id");
    const length = reader.u16(at + 2, "extra field length");
    if (at + 4 + length > end) break;
    if (id === 0x0001) {
      if (length < 8 * wanted.length) fail(`entry "${name}": ZIP64 extra field has ${length} bytes, needs ${8 * wanted.length}`);
      wanted.forEach((key, i) => (fields[key] = reader.u64(at + 4 + 8 * i, `entry "${name}": ZIP64 ${key}`)));
      return;
    }
    at += 4 + length;
  }
  fail(`entry "${name}": sizes are marked as ZIP64 but the entry has no ZIP64 extra field`);
}

/**
 * Parses a zip archive of stored entries into name -> bytes (views into `bytes`). `fail` is called with a
 * description of the first problem found and must throw.
 */
export function readStoredZipEntries(bytes: Uint8Array, fail: (what: string) => never): Map<string, Uint8Array> {
  const reader = new BoundedView(bytes, fail);
  const eocd = findEndOfCentralDirectory(reader, fail);
  let count = reader.u16(eocd + 10, "entry count");
  let directorySize = reader.u32(eocd + 12, "central directory size");
  let directoryOffset = reader.u32(eocd + 16, "central directory offset");
  let directoryLimit = eocd;
  if (count === U16_SENTINEL || directorySize === U32_SENTINEL || directoryOffset === U32_SENTINEL) {
    const locator = eocd - 20;
    if (locator < 0 || reader.u32(locator, "ZIP64 locator") !== ZIP64_LOCATOR_SIGNATURE)
      fail("ZIP64 sizes are used but the ZIP64 end-of-central-directory locator is missing");
    const record = reader.u64(locator + 8, "ZIP64 end-of-central-directory offset");
    if (reader.u32(record, "ZIP64 end of central directory") !== ZIP64_EOCD_SIGNATURE) fail(`no ZIP64 end-of-central-directory record at offset ${record}`);
    count = reader.u64(record + 32, "ZIP64 entry count");
    directorySize = reader.u64(record + 40, "ZIP64 central directory size");
    directoryOffset = reader.u64(record + 48, "ZIP64 central directory offset");
    directoryLimit = record;
  }
  if (directoryOffset + directorySize > directoryLimit) {
    fail(`central directory (offset ${directoryOffset}, ${directorySize} bytes) overlaps the end records at offset ${directoryLimit}`);
  }
  if (count * CENTRAL_HEADER_SIZE > directorySize) fail(`${count} entries cannot fit in a ${directorySize}-byte central directory`);
  const entries = new Map<string, Uint8Array>();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (reader.u32(at, "central directory header") !== CENTRAL_SIGNATURE) fail(`central directory entry ${i} at offset ${at} has a bad signature`);
    const flags = reader.u16(at + 8, "flags");
    const method = reader.u16(at + 10, "compression method");
    const crc = reader.u32(at + 16, "CRC-32");
    const fields = {
      compressedSize: reader.u32(at + 20, "compressed size"),
      size: reader.u32(at + 24, "size"),
      localOffset: reader.u32(at + 42, "local header offset"),
    };
    const nameLength = reader.u16(at + 28, "name length");
    const extraLength = reader.u16(at + 30, "extra length");
    const commentLength = reader.u16(at + 32, "comment length");
    reader.check(at + CENTRAL_HEADER_SIZE, nameLength + extraLength + commentLength, `central directory entry ${i}`);
    if (at + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength > directoryOffset + directorySize)
      fail(`central directory entry ${i} runs past the central directory`);
    let name: string;
    try {
      name = decoder.decode(bytes.subarray(at + CENTRAL_HEADER_SIZE, at + CENTRAL_HEADER_SIZE + nameLength));
    } catch {
      fail(`central directory entry ${i} has a name that is not UTF-8`);
    }
    applyZip64Extra(reader, at + CENTRAL_HEADER_SIZE + nameLength, extraLength, fields, name, fail);
    if (flags & 1) fail(`entry "${name}" is encrypted`);
    if (method !== 0) fail(`entry "${name}" is compressed (method ${method}); PyTorch writes stored (uncompressed) entries`);
    if (fields.compressedSize !== fields.size)
      fail(`entry "${name}" is stored but its compressed size ${fields.compressedSize} differs from its size ${fields.size}`);
    if (entries.has(name)) fail(`entry "${name}" appears twice`);
    const local = fields.localOffset;
    if (reader.u32(local, `local header of "${name}"`) !== LOCAL_SIGNATURE) fail(`entry "${name}": no local header at offset ${local}`);
    const dataStart = local + LOCAL_HEADER_SIZE + reader.u16(local + 26, "local name length") + reader.u16(local + 28, "local extra length");
    if (dataStart + fields.size > directoryOffset)
      fail(`entry "${name}": its ${fields.size} bytes at offset ${dataStart} run into the central directory at ${directoryOffset}`);
    const data = bytes.subarray(dataStart, dataStart + fields.size);
    if (zlib.crc32(data) !== crc) fail(`entry "${name}": CRC-32 mismatch (the file is corrupt or truncated)`);
    entries.set(name, data);
    at += CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
  }
  return entries;
}
