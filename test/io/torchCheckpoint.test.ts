import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { parseTorchCheckpoint, readSafetensorsFile, readTorchCheckpointFile } from "../../src/io";
import { SeededRng } from "../../src/random";
import { fixturePath, tempDir } from "../helpers";
import { checkpoint, oneTensorPickle, pickle, unicode } from "./torchPickles";
import { storedZip } from "./zipWriter";

const CASES = ["a_default_global", "b_padding_unaligned", "c_extra_global", "d_per_layer_windows", "e_combined"];

function refusedWith(pattern: RegExp, source = "bad.bin") {
  return (e: Error) => {
    assert.ok(e.message.startsWith(`torch checkpoint ${source}: `), e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

describe("PyTorch checkpoints (pytorch_model.bin)", () => {
  for (const name of CASES) {
    it(`${name}: the 53 tensors saved by torch.save equal model.safetensors byte for byte`, () => {
      const dir = fixturePath("longformer-hf", name);
      const fromTorch = readTorchCheckpointFile(path.join(dir, "pytorch_model.bin"));
      const fromSafetensors = readSafetensorsFile(path.join(dir, "model.safetensors"));
      assert.equal(fromTorch.tensors.size, 53);
      assert.deepEqual([...fromTorch.tensors.keys()].sort(), [...fromSafetensors.tensors.keys()].sort());
      for (const [tensor, expected] of fromSafetensors.tensors) {
        const actual = fromTorch.tensors.get(tensor)!;
        assert.equal(actual.dtype, expected.dtype, tensor);
        assert.deepEqual(actual.shape, expected.shape, tensor);
        assert.equal(Buffer.compare(Buffer.from(actual.data), Buffer.from(expected.data)), 0, tensor);
      }
    });
  }

  it("legacy format (torch < 1.6): a real Longformer checkpoint equals model.safetensors byte for byte", () => {
    const fromLegacy = readTorchCheckpointFile(fixturePath("torch-checkpoints", "longformer_a_legacy.bin"));
    const reference = readSafetensorsFile(fixturePath("longformer-hf", "a_default_global", "model.safetensors"));
    assert.equal(fromLegacy.tensors.size, 53);
    for (const [tensor, expected] of reference.tensors) {
      assert.deepEqual(fromLegacy.tensors.get(tensor)!.shape, expected.shape, tensor);
      assert.equal(Buffer.compare(Buffer.from(fromLegacy.tensors.get(tensor)!.data), Buffer.from(expected.data)), 0, tensor);
    }
  });

  for (const file of ["dtypes.bin", "dtypes_protocol4.bin", "legacy_format.bin"]) {
    it(`${file}: every dtype, strided view, storage offset, shared storage and _metadata BUILD read as torch wrote them`, () => {
      const expected = JSON.parse(fs.readFileSync(fixturePath("torch-checkpoints", "expected.json"), "utf8")).tensors as Record<
        string,
        { dtype: string; shape: number[]; hex: string }
      >;
      const dtypes: Record<string, string> = { float32: "F32", float16: "F16", bfloat16: "BF16", float64: "F64", int64: "I64", bool: "BOOL" };
      const loaded = readTorchCheckpointFile(fixturePath("torch-checkpoints", file));
      assert.equal(loaded.tensors.size, Object.keys(expected).length);
      assert.equal(Object.keys(expected).length, 15);
      for (const [name, want] of Object.entries(expected)) {
        const got = loaded.tensors.get(name);
        assert.ok(got, `${name} is missing`);
        assert.equal(got.dtype, dtypes[want.dtype], name);
        assert.deepEqual(got.shape, want.shape, name);
        assert.equal(Buffer.from(got.data).toString("hex"), want.hex, name);
      }
    });
  }

  it("refuses a nested (non-state-dict) checkpoint and a missing file with clear errors", () => {
    const nested = fixturePath("torch-checkpoints", "nested.bin");
    assert.throws(() => readTorchCheckpointFile(nested), refusedWith(/state dict entry "model" is not a tensor/, nested));
    assert.throws(() => readTorchCheckpointFile(path.join(tempDir(), "none.bin")), /torch checkpoint .*none\.bin: cannot read \(ENOENT\)/);
  });

  it("reads a hand-built one-tensor checkpoint (the reader's contract, independent of torch's writer)", () => {
    const values = new Float32Array([1.5, -2, 3.25]);
    const file = parseTorchCheckpoint(checkpoint(oneTensorPickle(3), [["0", new Uint8Array(values.buffer)]]));
    assert.equal(file.tensors.size, 1);
    assert.deepEqual(file.tensors.get("w")!.shape, [3]);
    assert.deepEqual([...new Float32Array(Uint8Array.from(file.tensors.get("w")!.data).buffer)], [1.5, -2, 3.25]);
  });

  describe("never runs code: a malicious pickle is refused, naming the global", () => {
    const marker = path.join(tempDir(), "pwned");
    const attacks: Array<[string, Uint8Array, RegExp]> = [
      [
        "GLOBAL os system + REDUCE",
        pickle(0x80, 2, "cos\nsystem\n", unicode(`touch ${marker}`), 0x85, "R", "."),
        /refusing global os\.system: only collections\.OrderedDict, torch\._utils\._rebuild_tensor_v2/,
      ],
      [
        "STACK_GLOBAL builtins eval (protocol 4)",
        pickle(0x80, 4, 0x8c, 8, "builtins", 0x8c, 4, "eval", 0x93, unicode(`open(${JSON.stringify(marker)}, "w")`), 0x85, "R", "."),
        /refusing global builtins\.eval/,
      ],
      ["INST opcode", pickle(0x80, 2, "(", "ios\nsystem\n", "."), /opcode INST is not allowed/],
      ["NEWOBJ on an allowed class", pickle(0x80, 2, "ccollections\nOrderedDict\n", ")", 0x81, "."), /opcode NEWOBJ is not allowed/],
      [
        "a storage class called as a function",
        pickle(0x80, 2, "ctorch\nFloatStorage\n", ")R", "."),
        /REDUCE on torch\.FloatStorage, which is not callable here/,
      ],
      ["BUILD on a plain dict", pickle(0x80, 2, "}", "}", "b", "."), /BUILD is only allowed to set an OrderedDict's attributes/],
      ["persistent id naming os.system as its storage type", pickle(0x80, 2, "(", unicode("storage"), "cos\nsystem\n"), /refusing global os\.system/],
      ["persistent id that is not a storage", pickle(0x80, 2, unicode("x"), "Q", "."), /persistent id is not \("storage", type, key, location, size\)/],
    ];
    for (const [name, data, pattern] of attacks) {
      it(name, () => {
        assert.throws(() => parseTorchCheckpoint(checkpoint(data), "bad.bin"), refusedWith(pattern));
        assert.ok(!fs.existsSync(marker), "nothing ran");
      });
    }
  });

  describe("damaged files give a clear error naming the problem", () => {
    const legacy = fs.readFileSync(fixturePath("torch-checkpoints", "legacy_format.bin"));
    const good = checkpoint(oneTensorPickle(2), [["0", new Uint8Array(8)]]);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ["not a zip", Buffer.from("hello, this is not a checkpoint at all"), /no end-of-central-directory record: not a zip archive/],
      ["truncated", good.subarray(0, good.length - 30), /no end-of-central-directory record/],
      ["storage smaller than the tensor", checkpoint(oneTensorPickle(4), [["0", new Uint8Array(8)]]), /storage 0 holds 8 bytes but 4 F32 elements need 16/],
      ["storage entry missing", checkpoint(oneTensorPickle(2)), /storage 0 is missing: no entry archive\/data\/0/],
      [
        "unknown storage type",
        checkpoint(oneTensorPickle(2, "torch\nComplexFloatStorage\n"), [["0", new Uint8Array(8)]]),
        /refusing global torch\.ComplexFloatStorage/,
      ],
      [
        "CRC mismatch",
        (() => {
          const b = Buffer.from(good);
          b[b.indexOf(Buffer.from("archive/data/0")) + 14] ^= 1;
          return b;
        })(),
        /entry "archive\/data\/0": CRC-32 mismatch/,
      ],
      [
        "compressed entry",
        (() => {
          const b = Buffer.from(good);
          const at = b.lastIndexOf(Buffer.from([0x50, 0x4b, 1, 2]));
          b.writeUInt16LE(8, at + 10);
          return b;
        })(),
        /is compressed \(method 8\); PyTorch writes stored/,
      ],
      ["no data.pkl", storedZip([["archive/version", Buffer.from("3\n")]]), /expected one <name>\/data\.pkl in the archive, found 0/],
      ["pickle without STOP", checkpoint(pickle(0x80, 2, "}")), /the pickle ends without a STOP opcode/],
      ["string running past the end", checkpoint(pickle(0x80, 2, "X", 0xff, 0xff, 0, 0, "ab")), /BINUNICODE needs 65535 more bytes/],
      ["legacy: bytes after the last storage", Buffer.concat([legacy, Buffer.from([0])]), /legacy format: 1 unexpected bytes after the last storage/],
      ["legacy: truncated storage", legacy.subarray(0, legacy.length - 3), /legacy format: storage \S+ (starts|\(\d+ bytes\) runs) past the end of the file/],
      ["legacy: a pickle instead of the magic number", pickle(0x80, 2, "K", 7, "."), /neither a zip archive nor the legacy format's magic number/],
      ["legacy: a global in the header", pickle(0x80, 2, "cos\nsystem\n", "."), /legacy format, magic number: refusing global os\.system/],
    ];
    for (const [name, bytes, pattern] of cases) {
      it(name, () => assert.throws(() => parseTorchCheckpoint(bytes, "bad.bin"), refusedWith(pattern)));
    }
  });

  it("fuzz: 2,000 seeded mutations of a legacy-format checkpoint either load in-bounds tensors or throw a torch checkpoint error", function () {
    this.timeout(60_000);
    const original = fs.readFileSync(fixturePath("torch-checkpoints", "legacy_format.bin"));
    const generator = new SeededRng(20261130);
    const random = () => generator.next();
    let loaded = 0;
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(original);
      // The pickles fill the first ~1,700 bytes; most mutations land there.
      for (let m = 0, n = 1 + Math.floor(random() * 3); m < n; m++) {
        const at = Math.floor(random() * (random() < 0.8 ? 1700 : bytes.length));
        bytes[at] = random() < 0.7 ? Math.floor(random() * 256) : bytes[at] ^ (1 << Math.floor(random() * 8));
      }
      const input = random() < 0.05 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
      try {
        const file = parseTorchCheckpoint(input, "fuzz");
        loaded++;
        for (const entry of file.tensors.values()) assert.ok(entry.data.length <= input.length);
      } catch (e) {
        assert.ok(e instanceof Error && e.message.startsWith("torch checkpoint fuzz: "), `unexpected error: ${(e as Error).stack}`);
        rejected++;
      }
    }
    assert.equal(loaded + rejected, 2000);
    assert.ok(rejected > 1000 && loaded > 30, `mutations exercised both paths (loaded ${loaded}, rejected ${rejected})`);
  });

  it("fuzz: 3,000 seeded mutations of a real checkpoint either load in-bounds tensors or throw a torch checkpoint error", function () {
    this.timeout(60_000);
    const original = fs.readFileSync(fixturePath("torch-checkpoints", "dtypes.bin"));
    // data.pkl is the archive's first entry: its bytes follow the first local header, its CRC is in the first central header.
    const pklStart = 30 + original.readUInt16LE(26) + original.readUInt16LE(28);
    const pklLength = original.readUInt32LE(18);
    const directoryStart = original.readUInt32LE(original.lastIndexOf(Buffer.from([0x50, 0x4b, 5, 6])) + 16);
    const generator = new SeededRng(20261129);
    const random = () => generator.next();
    const pick = (from: number, length: number) => from + Math.floor(random() * length);
    let loaded = 0;
    let rejected = 0;
    const messages = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(original);
      const mutations = 1 + Math.floor(random() * 3);
      // Most rounds mutate only the pickle and fix its CRC, so the unpickler (not the CRC check) meets the damage;
      // the others hit the zip structure (mostly the central directory) or any byte.
      const inPickle = random() < 0.6;
      for (let m = 0; m < mutations; m++) {
        const at = inPickle ? pick(pklStart, pklLength) : random() < 0.6 ? pick(directoryStart, bytes.length - directoryStart) : pick(0, bytes.length);
        bytes[at] = random() < 0.7 ? Math.floor(random() * 256) : bytes[at] ^ (1 << Math.floor(random() * 8));
      }
      if (inPickle) bytes.writeUInt32LE(zlib.crc32(bytes.subarray(pklStart, pklStart + pklLength)), directoryStart + 16);
      const input = random() < 0.05 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
      try {
        const file = parseTorchCheckpoint(input, "fuzz");
        loaded++;
        for (const entry of file.tensors.values())
          assert.equal(
            entry.data.length,
            entry.shape.reduce((a, b) => a * b, 1) * { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }[entry.dtype],
          );
      } catch (e) {
        assert.ok(e instanceof Error && e.message.startsWith("torch checkpoint fuzz: "), `unexpected error: ${(e as Error).stack}`);
        messages.add(e.message.replace(/\d+/g, "N").slice(0, 80));
        rejected++;
      }
    }
    assert.equal(loaded + rejected, 3000);
    assert.ok(rejected > 1500 && loaded > 30, `mutations exercised both paths (loaded ${loaded}, rejected ${rejected})`);
    assert.ok(messages.size > 15, `varied errors (${messages.size} kinds)`);
  });
});
