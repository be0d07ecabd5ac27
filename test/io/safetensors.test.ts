import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseSafetensors, readSafetensorsFile, serializeSafetensors, toFloat32Array, toInt32Array, writeSafetensorsFile } from "../../src/io";
import { SeededRng } from "../../src/random";
import { fixturePath, tempDir } from "../helpers";

function withHeader(header: unknown, data = new Uint8Array(0)): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe("safetensors", () => {
  const fixture = fixturePath("longformer-hf", "a_default_global", "model.safetensors");

  it("reads HF's file: 53 F32 tensors whose values equal a little-endian float32 read of the data section", () => {
    const bytes = fs.readFileSync(fixture);
    const file = parseSafetensors(bytes, fixture);
    assert.equal(file.tensors.size, 53);
    assert.equal(file.metadata.format, "pt");
    const entry = file.tensors.get("longformer.embeddings.word_embeddings.weight")!;
    assert.deepEqual(entry.shape, [100, 32]);
    // Independent decoding through Buffer.readFloatLE at the header's offsets.
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString());
    const [begin] = header["longformer.embeddings.word_embeddings.weight"].data_offsets;
    const values = toFloat32Array(entry);
    for (const i of [0, 1, 31, 32, 3199]) assert.equal(values[i], bytes.readFloatLE(8 + headerLength + begin + 4 * i));
  });

  it("round-trips byte for byte: serialize(parse(serialize(x))) === serialize(x), values unchanged", () => {
    const file = readSafetensorsFile(fixture);
    const tensors = Object.fromEntries([...file.tensors].map(([name, e]) => [name, { dtype: "F32" as const, shape: e.shape, data: toFloat32Array(e) }]));
    const once = serializeSafetensors(tensors, file.metadata);
    const reparsed = parseSafetensors(once);
    const twice = serializeSafetensors(
      Object.fromEntries([...reparsed.tensors].map(([n, e]) => [n, { dtype: "F32" as const, shape: e.shape, data: toFloat32Array(e) }])),
      reparsed.metadata,
    );
    assert.equal(Buffer.compare(Buffer.from(once), Buffer.from(twice)), 0);
    assert.equal((8 + Number(Buffer.from(once).readBigUInt64LE(0))) % 8, 0, "data section is 8-byte aligned");
    for (const [name, e] of file.tensors) assert.deepEqual(toFloat32Array(reparsed.tensors.get(name)!), toFloat32Array(e), name);
  });

  it("converts F16 and BF16 to float32 exactly (values representable in both)", () => {
    const values = [0, 1, -2, 0.5, 65504, -0.00006103515625, 3.140625];
    // Encoders written independently of the decoder: F16 via exponent/mantissa, BF16 via the top 16 bits of float32.
    const f16 = new Uint8Array(values.length * 2);
    const bf16 = new Uint8Array(values.length * 2);
    const f32 = new DataView(new ArrayBuffer(4));
    values.forEach((v, i) => {
      f32.setFloat32(0, v);
      const bits = f32.getUint32(0);
      new DataView(bf16.buffer).setUint16(2 * i, bits >>> 16, true);
      const sign = (bits >>> 31) << 15;
      const exp = ((bits >>> 23) & 0xff) - 127 + 15;
      const mant = (bits >>> 13) & 0x3ff;
      const half = v === 0 ? 0 : sign | (exp << 10) | mant;
      new DataView(f16.buffer).setUint16(2 * i, half, true);
    });
    const n = values.length;
    const file = parseSafetensors(
      withHeader(
        { a: { dtype: "F16", shape: [n], data_offsets: [0, 2 * n] }, b: { dtype: "BF16", shape: [n], data_offsets: [2 * n, 4 * n] } },
        new Uint8Array([...f16, ...bf16]),
      ),
    );
    assert.deepEqual([...toFloat32Array(file.tensors.get("a")!)], values);
    const bfExpected = values.map((v) => {
      f32.setFloat32(0, v);
      f32.setUint32(0, f32.getUint32(0) & 0xffff0000);
      return f32.getFloat32(0);
    });
    assert.deepEqual([...toFloat32Array(file.tensors.get("b")!)], bfExpected);
    // F16 subnormals, infinities and NaN from their bit patterns: 0x0001 = 2^-24, 0x8200 = -2^-15.
    const special = new Uint8Array(8);
    [0x0001, 0x8200, 0x7c00, 0x7e00].forEach((h, i) => new DataView(special.buffer).setUint16(2 * i, h, true));
    const s = toFloat32Array(parseSafetensors(withHeader({ s: { dtype: "F16", shape: [4], data_offsets: [0, 8] } }, special)).tensors.get("s")!);
    assert.deepEqual([s[0], s[1], s[2]], [Math.pow(2, -24), -Math.pow(2, -15), Infinity]);
    assert.ok(Number.isNaN(s[3]));
  });

  it("reads I64 as int32 and refuses values that do not fit", () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setBigInt64(0, -5n, true);
    new DataView(data.buffer).setBigInt64(8, 1n << 40n, true);
    const file = parseSafetensors(withHeader({ ids: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, data));
    assert.throws(() => toInt32Array(file.tensors.get("ids")!, "ids"), /ids: I64 value 1099511627776 at index 1 does not fit/);
  });

  it("writes atomically and leaves no temporary file", () => {
    const dir = tempDir();
    const file = path.join(dir, "w.safetensors");
    writeSafetensorsFile(file, { w: { dtype: "F32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } });
    assert.deepEqual(fs.readdirSync(dir), ["w.safetensors"]);
    assert.deepEqual([...toFloat32Array(readSafetensorsFile(file).tensors.get("w")!)], [1, 2, 3, 4]);
  });

  describe("untrusted input gives a clear error naming the problem", () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ["too short", new Uint8Array(4), /shorter than the 8-byte header length/],
      [
        "header length beyond the file",
        (() => {
          const b = new Uint8Array(16);
          new DataView(b.buffer).setBigUint64(0, 1n << 60n, true);
          return b;
        })(),
        /header length \d+ exceeds the file size/,
      ],
      [
        "malformed JSON",
        (() => {
          const j = Buffer.from("{not json");
          const b = new Uint8Array(8 + j.length);
          new DataView(b.buffer).setBigUint64(0, BigInt(j.length), true);
          b.set(j, 8);
          return b;
        })(),
        /not valid UTF-8 JSON/,
      ],
      ["unknown dtype", withHeader({ t: { dtype: "Q7", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /tensor "t": unknown dtype "Q7"/],
      [
        "offsets past the end",
        withHeader({ t: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)),
        /tensor "t": data_offsets \[0, 16\] out of range \(data section is 8 bytes\)/,
      ],
      [
        "shape and offsets disagree",
        withHeader({ t: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
        /needs 12 bytes but data_offsets span 8/,
      ],
      [
        "overlapping tensors",
        withHeader({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)),
        /"a" and "b" overlap/,
      ],
      ["huge shape", withHeader({ t: { dtype: "F64", shape: [1e9, 1e9, 1e9], data_offsets: [0, 8] } }, new Uint8Array(8)), /too large/],
      ["negative dimension", withHeader({ t: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /not a list of non-negative integers/],
    ];
    for (const [name, bytes, pattern] of cases) {
      it(name, () =>
        assert.throws(
          () => parseSafetensors(bytes, "bad.safetensors"),
          (e: Error) => /^safetensors bad\.safetensors: /.test(e.message) && pattern.test(e.message),
        ),
      );
    }
  });

  it("fuzz: 2,000 random mutations of a valid file either parse to in-bounds views or throw a safetensors error", () => {
    const original = fs.readFileSync(fixture);
    const generator = new SeededRng(20261125);
    const random = () => generator.next();
    let parsed = 0;
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(original);
      const headerLength = Number(original.readBigUInt64LE(0));
      const mutations = 1 + Math.floor(random() * 4);
      for (let m = 0; m < mutations; m++) {
        const kind = random();
        // Most mutations hit the length field and the JSON header, where the parser's checks live.
        const at = kind < 0.1 ? Math.floor(random() * 8) : kind < 0.9 ? 8 + Math.floor(random() * headerLength) : Math.floor(random() * bytes.length);
        bytes[at] = kind < 0.5 ? Math.floor(random() * 256) : '0123456789[]{},:"-e'.charCodeAt(Math.floor(random() * 19));
      }
      const cut = random() < 0.1 ? Math.floor(random() * bytes.length) : bytes.length;
      const input = bytes.subarray(0, cut);
      try {
        const file = parseSafetensors(input, "fuzz");
        parsed++;
        for (const entry of file.tensors.values()) {
          assert.ok(entry.data.byteOffset + entry.data.byteLength <= input.byteOffset + input.byteLength);
          if (entry.dtype === "F32" || entry.dtype === "F16" || entry.dtype === "BF16" || entry.dtype === "F64") toFloat32Array(entry);
        }
      } catch (e) {
        assert.ok(e instanceof Error && e.message.startsWith("safetensors fuzz: "), `unexpected error: ${(e as Error).stack}`);
        rejected++;
      }
    }
    assert.equal(parsed + rejected, 2000);
    assert.ok(rejected > 500 && parsed > 50, `mutations exercised both paths (parsed ${parsed}, rejected ${rejected})`);
  });
});
