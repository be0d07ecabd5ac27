/** `tsml predict` end to end: spawns the built CLI on golden fixtures and compares with HF's logits. */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { repoRoot, tempDir } from "../../helpers";
import { caseDir, loadCase, maxAbsDiff } from "./fixtures";

function predict(...args: string[]) {
  return spawnSync(process.execPath, [path.join(repoRoot(), "dist", "src", "cli", "main.js"), "predict", ...args], { encoding: "utf-8" });
}

describe("tsml predict", () => {
  for (const name of ["b_padding_unaligned", "e_combined"]) {
    it(`prints HF's logits as the only stdout line for ${name}`, () => {
      const dir = caseDir(name);
      const result = predict("--model", dir, "--inputs", path.join(dir, "inputs.json"));
      assert.strictEqual(result.status, 0, result.stderr);
      assert.match(result.stderr, /backend: /);
      const lines = result.stdout.trim().split("\n");
      assert.strictEqual(lines.length, 1, `stdout must hold only the JSON, got: ${result.stdout}`);
      const parsed = JSON.parse(lines[0]);
      assert.deepStrictEqual(Object.keys(parsed), ["logits"]);
      const expected = loadCase(name).expected.logits;
      assert.deepStrictEqual([parsed.logits.length, parsed.logits[0].length], [expected.length, expected[0].length]);
      assert.ok(maxAbsDiff(parsed.logits.flat(), expected.flat()) <= 1e-4);
    });
  }

  it("fails with a message naming the problem", () => {
    const dir = tempDir();
    const inputs = path.join(dir, "inputs.json");
    fs.writeFileSync(inputs, JSON.stringify({ input_ids: [[0, 5], [0]] }));
    const ragged = predict("--model", caseDir("a_default_global"), "--inputs", inputs);
    assert.strictEqual(ragged.status, 1);
    assert.match(ragged.stderr, /inputs\.json: input_ids rows must all have the same length/);
    assert.strictEqual(ragged.stdout, "");
    const missing = predict("--model", dir, "--inputs", inputs);
    assert.match(missing.stderr, /config\.json not found/);
    assert.strictEqual(predict("--inputs", inputs).status, 2);
  });
});
