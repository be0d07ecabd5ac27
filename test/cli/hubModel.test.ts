/** `--model org/name` on the command line: predict and convert fetch from the Hub named by HF_ENDPOINT into HF_HOME's cache. */
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { fixturePath, repoRoot, tempDir } from "../helpers";
import { FakeHub } from "../hub/fakeHub";

const REPO = "tiny-org/longformer-tiny";

/** Runs the built CLI without blocking this process (the fake Hub answers from its event loop). */
function tsml(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repoRoot(), "dist", "src", "cli", "main.js"), ...args],
      { env: { ...process.env, HF_TOKEN: "", ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("CLI with a Hub repo id", function () {
  this.timeout(60_000);
  let hub: FakeHub;
  let env: Record<string, string>;
  const fixture = fixturePath("longformer-hf", "e_combined");

  beforeEach(async () => {
    hub = new FakeHub();
    hub.repos.set(REPO, {
      commit: "fedcba9876543210fedcba9876543210fedcba98",
      files: new Map(["config.json", "pytorch_model.bin"].map((f) => [f, fs.readFileSync(path.join(fixture, f))] as [string, Buffer])),
    });
    await hub.start();
    env = { HF_ENDPOINT: hub.endpoint, HF_HOME: tempDir("tsml-hf-home-"), HF_HUB_CACHE: "", HUGGINGFACE_HUB_CACHE: "", HF_HUB_OFFLINE: "" };
  });
  afterEach(() => hub.close());

  it("predict --model org/name prints the same logits as predict --model on the local folder; offline it works from the cache", async () => {
    const inputs = path.join(fixture, "inputs.json");
    const remote = await tsml(env, "predict", "--model", REPO, "--inputs", inputs);
    assert.equal(remote.code, 0, remote.stderr);
    assert.match(remote.stderr, /Downloading tiny-org\/longformer-tiny\/pytorch_model\.bin/);
    const local = await tsml(env, "predict", "--model", fixture, "--inputs", inputs);
    assert.equal(remote.stdout, local.stdout);
    assert.equal(JSON.parse(remote.stdout).logits.length, 3);
    const requests = hub.requests.length;
    const offline = await tsml({ ...env, HF_HUB_OFFLINE: "1" }, "predict", "--model", REPO, "--inputs", inputs);
    assert.equal(offline.stdout, local.stdout);
    assert.equal(hub.requests.length, requests);
  });

  it("convert --model org/name writes model.safetensors and config.json", async () => {
    const out = tempDir();
    const result = await tsml(env, "convert", "--model", REPO, "--out", out);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ["config.json", "model.safetensors"]);
  });
});
