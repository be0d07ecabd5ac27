/** `tsml plan`: the plan from a config.json (local folder or Hub id, config only), and clear errors for bad flags. */
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LongformerConfig } from "../../src/models/longformer";
import { planBatch } from "../../src/plan";
import { repoRoot, tempDir } from "../helpers";
import { FakeHub } from "../hub/fakeHub";

const CONFIG = {
  model_type: "longformer",
  vocab_size: 50265,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  attention_window: 512,
  max_position_embeddings: 4098,
  type_vocab_size: 1,
};

function tsml(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repoRoot(), "dist", "src", "cli", "main.js"), "plan", ...args],
      { env: { ...process.env, HF_TOKEN: "", ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("tsml plan", function () {
  this.timeout(60_000);
  const dir = tempDir("tsml-plan-");
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(CONFIG));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("prints the plan of planBatch for a local config.json (JSON and text)", async () => {
    const args = [
      "--model",
      dir,
      "--max-length",
      "4096",
      "--memory",
      "16GiB",
      "--devices",
      "8",
      "--target-batch",
      "100",
      "--checkpointing",
      "--backend",
      "tensorflow",
    ];
    const json = await tsml({}, ...args, "--json");
    assert.equal(json.code, 0, json.stderr);
    const printed = JSON.parse(json.stdout);
    const expected = planBatch({
      config: new LongformerConfig(CONFIG),
      sequenceLength: 4096,
      memoryBytes: 16 * 1024 ** 3,
      devices: 8,
      targetEffectiveBatch: 100,
      checkpointing: true,
      backend: "tensorflow",
    });
    assert.deepEqual(
      [printed.perDeviceBatchSize, printed.gradientAccumulationSteps, printed.effectiveBatchSize],
      [expected.perDeviceBatchSize, expected.gradientAccumulationSteps, expected.effectiveBatchSize],
    );
    assert.equal(printed.explanation, expected.explanation);
    const text = await tsml({}, ...args);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`per-device batch: +${expected.perDeviceBatchSize}\\n`));
    assert.match(text.stdout, new RegExp(`gradient accumulation: +${expected.gradientAccumulationSteps}\\n`));
    // The tensorflow backend's memory was never measured: the output says so, the calibrated ones do not.
    assert.match(text.stdout, /memory model: +NOT calibrated for the tensorflow backend/);
    assert.match(text.stdout, /CAUTION: the tensorflow backend's memory was never measured/);
    const cpu = await tsml({}, "--model", dir, "--max-length", "4096", "--memory", "16GiB", "--checkpointing", "--backend", "cpu");
    assert.doesNotMatch(cpu.stdout, /NOT calibrated|CAUTION/);
    assert.match(cpu.stdout, /calibrated on measured training steps of the cpu backend/);
  });

  it("exits 1 and says so when not even one example fits", async () => {
    const result = await tsml({}, "--model", dir, "--max-length", "4096", "--memory", "1GiB");
    assert.equal(result.code, 1);
    assert.match(result.stdout, /does NOT fit/);
    assert.match(result.stdout, /not even one example fits/);
  });

  it("reads only config.json of a Hub repo id", async () => {
    const hub = new FakeHub();
    hub.repos.set("org/longformer-big", {
      commit: "0123456789abcdef0123456789abcdef01234567",
      files: new Map([
        ["config.json", Buffer.from(JSON.stringify(CONFIG))],
        ["model.safetensors", Buffer.alloc(20_000)],
      ]),
    });
    await hub.start();
    try {
      const env = { HF_ENDPOINT: hub.endpoint, HF_HOME: tempDir("tsml-hf-home-"), HF_HUB_CACHE: "", HUGGINGFACE_HUB_CACHE: "", HF_HUB_OFFLINE: "" };
      const result = await tsml(env, "--model", "org/longformer-big", "--max-length", "1024", "--memory", "16GiB", "--json");
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).sequenceLength, 1024);
      assert.ok(hub.requests.length > 0);
      assert.ok(
        hub.requests.every((r) => r.path.endsWith("/config.json")),
        hub.requests.map((r) => r.path).join(", "),
      );
    } finally {
      await hub.close();
    }
  });

  const errors: [string[], RegExp][] = [
    [["--max-length", "4096", "--memory", "16 gigs"], /--memory: "16 gigs" is not a memory size; expected a positive number with a unit such as 16GiB, 500MB/],
    [["--max-length", "0"], /--max-length must be a positive integer, got 0/],
    [["--max-length", "512", "--devices", "2.5"], /--devices must be a positive integer, got 2.5/],
    [["--max-length", "512", "--backend", "gpu"], /--backend must be one of wasm, cpu, tensorflow, got "gpu"/],
    [["--max-length", "512", "--target-batch", "8", "--noise-scale", "40"], /give --target-batch or --noise-scale, not both/],
    [["--max-length", "512", "--memroy", "1GiB"], /unknown option --memroy/],
  ];
  for (const [args, message] of errors) {
    it(`rejects ${args.slice(-2).join(" ")} with a clear error`, async () => {
      const result = await tsml({}, "--model", dir, ...args);
      assert.equal(result.code, 1);
      assert.match(result.stderr, message);
    });
  }

  it("needs --model and --max-length (usage, exit 2); a folder without config.json is named", async () => {
    const missing = await tsml({}, "--max-length", "512");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--model and --max-length are required/);
    const empty = tempDir("tsml-plan-empty-");
    const noConfig = await tsml({}, "--model", empty, "--max-length", "512");
    assert.equal(noConfig.code, 1);
    assert.match(noConfig.stderr, new RegExp(`config\\.json`));
  });
});
