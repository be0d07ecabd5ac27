/** `tsml convert`: pytorch_model.bin -> model.safetensors with every tensor's name, dtype and bytes kept. */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { readSafetensorsFile } from "../../src/io";
import { fixturePath, repoRoot, tempDir } from "../helpers";

function tsml(...args: string[]) {
  return spawnSync(process.execPath, [path.join(repoRoot(), "dist", "src", "cli", "main.js"), ...args], { encoding: "utf-8" });
}

describe("tsml convert", function () {
  this.timeout(30_000);

  it("writes model.safetensors equal tensor for tensor to HF's, plus config.json, from a .bin-only folder", () => {
    const source = tempDir();
    const fixture = fixturePath("longformer-hf", "c_extra_global");
    for (const file of ["config.json", "pytorch_model.bin"]) fs.copyFileSync(path.join(fixture, file), path.join(source, file));
    const out = path.join(tempDir(), "converted");
    const result = tsml("convert", "--model", source, "--out", out);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /converted .*pytorch_model\.bin \(53 tensors\) to .*model\.safetensors/);
    assert.deepEqual(fs.readdirSync(out).sort(), ["config.json", "model.safetensors"]);
    assert.equal(fs.readFileSync(path.join(out, "config.json"), "utf8"), fs.readFileSync(path.join(fixture, "config.json"), "utf8"));
    const converted = readSafetensorsFile(path.join(out, "model.safetensors"));
    const reference = readSafetensorsFile(path.join(fixture, "model.safetensors"));
    assert.equal(converted.tensors.size, 53);
    assert.deepEqual([...converted.tensors.keys()].sort(), [...reference.tensors.keys()].sort());
    for (const [name, entry] of reference.tensors) {
      const got = converted.tensors.get(name)!;
      assert.equal(got.dtype, entry.dtype);
      assert.deepEqual(got.shape, entry.shape);
      assert.equal(Buffer.compare(Buffer.from(got.data), Buffer.from(entry.data)), 0, name);
    }
    assert.equal(converted.metadata.format, "pt");
  });

  it("keeps non-float32 dtypes exactly (float16, bfloat16, int64, bool from real torch)", () => {
    const source = tempDir();
    fs.copyFileSync(fixturePath("longformer-hf", "a_default_global", "config.json"), path.join(source, "config.json"));
    fs.copyFileSync(fixturePath("torch-checkpoints", "dtypes.bin"), path.join(source, "pytorch_model.bin"));
    const out = tempDir();
    assert.equal(tsml("convert", "--model", source, "--out", out).status, 0);
    const expected = JSON.parse(fs.readFileSync(fixturePath("torch-checkpoints", "expected.json"), "utf8")).tensors as Record<
      string,
      { shape: number[]; hex: string }
    >;
    const converted = readSafetensorsFile(path.join(out, "model.safetensors"));
    assert.equal(converted.tensors.size, Object.keys(expected).length);
    for (const [name, want] of Object.entries(expected)) {
      assert.deepEqual(converted.tensors.get(name)!.shape, want.shape, name);
      assert.equal(Buffer.from(converted.tensors.get(name)!.data).toString("hex"), want.hex, name);
    }
  });

  it("fails clearly without arguments or weights", () => {
    assert.equal(tsml("convert").status, 2);
    const empty = tempDir();
    const result = tsml("convert", "--model", empty, "--out", tempDir());
    assert.equal(result.status, 1);
    assert.match(result.stderr, /config\.json not found/);
  });
});
