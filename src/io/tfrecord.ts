/**
 * TFRecord framing, the container of TensorBoard event files: each record is
 * `uint64 length (LE) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data`.
 * CRC-32C (Castagnoli) comes from the `crc-32` package; the masking is TensorFlow's
 * (`((crc >>> 15) | (crc << 17)) + 0xa282ead8`, mod 2^32).
 */
import * as fs from "fs";
import * as CRC32C from "crc-32/crc32c";

/** CRC-32C (Castagnoli) of `data` as an unsigned 32-bit integer. */
export function crc32c(data: Uint8Array): number {
  return CRC32C.buf(data) >>> 0;
}

/** TensorFlow's masked CRC-32C, stored in TFRecord files. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: header (length + its masked CRC), payload, masked CRC of the payload. */
export function encodeTFRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(payload.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(payload, 12);
  view.setUint32(12 + payload.length, maskedCrc32c(payload), true);
  return out;
}

/**
 * The payloads of a TFRecord file, each CRC-checked. A torn last record (a writer killed mid-write) is
 * reported in `truncated` instead of failing; a CRC mismatch anywhere else throws naming the file and offset.
 */
export function readTFRecords(file: string): { records: Uint8Array[]; truncated: boolean } {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length) return { records, truncated: true };
    const length = view.getBigUint64(offset, true);
    if (view.getUint32(offset + 8, true) !== maskedCrc32c(bytes.subarray(offset, offset + 8))) {
      throw new Error(`${file}: TFRecord at byte ${offset}: length CRC mismatch (not a TFRecord file, or corrupted)`);
    }
    const end = offset + 12 + Number(length);
    if (end + 4 > bytes.length) return { records, truncated: true };
    const payload = bytes.subarray(offset + 12, end);
    if (view.getUint32(end, true) !== maskedCrc32c(payload)) throw new Error(`${file}: TFRecord at byte ${offset}: data CRC mismatch (corrupted)`);
    records.push(payload);
    offset = end + 4;
  }
  return { records, truncated: false };
}
