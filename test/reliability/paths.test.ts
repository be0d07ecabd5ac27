/**
 * Names and output folders from input (issue 24, rows 4, 5 and 9, and the planner case of 16): a study name is
 * one folder name, every output folder is created level by level (so /proc/x is an error, not a hang), and the
 * planner refuses a length beyond the model's positions or a target batch smaller than the devices.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { pathInside, requirePathComponent } from "../../src/io";
import { LongformerConfig } from "../../src/models/longformer";
import { planBatch } from "../../src/plan";
import { fixturePath, repoRoot, tempDir } from "../helpers";
import { runCli } from "./support";

const MODEL = fixturePath("longformer-hf", "b_padding_unaligned");

describe("reliability: names and output folders from input (issue 24)", function () {
  this.timeout(120_000);
  const root = tempDir("tsml-paths-");
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("the path helper: one component, or a path inside its root", () => {
    assert.equal(requirePathComponent("b8-s0", "run"), "b8-s0");
    for (const bad of ["", ".", "..", "../x", "a/b", "/abs", "a\\b"])
      assert.throws(
        () => requirePathComponent(bad, "run"),
        new RegExp(`^Error: run ${JSON.stringify(bad).replace(/[\\.()[\]]/g, "\\$&")} must be one folder or file name`),
      );
    assert.equal(pathInside("/r", "a/b", "ref"), "/r/a/b");
    assert.equal(pathInside("/r", "/r/a", "ref"), "/r/a");
    assert.throws(() => pathInside("/r", "/r/a", "ref", true), /ref "\/r\/a" is an absolute path \(it must stay inside \/r\)/);
    assert.throws(() => pathInside("/r", "a/../../x", "ref"), /ref "a\/..\/..\/x" contains ".."/);
    assert.throws(() => pathInside("/r", "/elsewhere", "ref"), /ref "\/elsewhere" is not inside it/);
    assert.throws(() => pathInside("/r", "/r", "ref"), /is not inside it/);
  });

  it("4. tsml study --name ../escape-grid, an absolute name, '' and '.' are refused; nothing is written outside --runs-dir/--reports-dir", async () => {
    const runs = path.join(root, "4", "runs");
    const reports = path.join(root, "4", "reports");
    const names = ["../escape-grid", path.join(root, "4", "absolute"), "", "."];
    const results = [];
    for (const name of names) {
      results.push(
        await runCli(["study", "--task", "synthetic-logreg", "--runs-dir", runs, "--reports-dir", reports, `--name=${name}`], { env: { TSML_SMALL: "1" } }),
      );
    }
    assert.equal(results.length, names.length);
    results.forEach((run, i) => {
      assert.equal(run.code, 1, run.output);
      assert.ok(run.output.includes(`study name (--name) ${JSON.stringify(names[i])} must be one folder or file name`), run.output);
    });
    assert.equal(fs.existsSync(path.join(root, "4")), false, "no folder was made at all");
  });

  it("5. convert --out /proc/x/out, plan --chart /proc/x/c.svg and a Trainer with outputDir /proc/x end with an error, not a hang", async () => {
    const convert = await runCli(["convert", "--model", MODEL, "--out", "/proc/x/out"], { timeoutMs: 60_000 });
    assert.equal(convert.signal, null, `killed after hanging:\n${convert.output}`);
    assert.match(convert.output, /--out \/proc\/x\/out: cannot create the folder \/proc\/x/);
    const plan = await runCli(["plan", "--model", MODEL, "--max-length", "16", "--chart", "/proc/x/c.svg"], { timeoutMs: 60_000 });
    assert.equal(plan.signal, null, `killed after hanging:\n${plan.output}`);
    assert.match(plan.output, /--chart \/proc\/x: cannot create the folder \/proc\/x/);
    // The Trainer in a process of its own: a hang there would block this one.
    const dist = path.join(repoRoot(), "dist");
    const script = `
      const { Trainer } = require(${JSON.stringify(path.join(dist, "src", "train"))});
      const { arrayData, randomClassification, randomInit, softmaxRegression } = require(${JSON.stringify(path.join(dist, "test", "train", "tinyModels"))});
      require(${JSON.stringify(path.join(dist, "src", "backend"))}).initBackend().then(() => {
        const { x, y } = randomClassification(8, 3, 2, 1);
        const net = softmaxRegression(randomInit(3, 2, 1));
        new Trainer({ model: net.model, trainData: arrayData(x, y), args: { perDeviceBatchSize: 4, epochs: 1, progress: "none", outputDir: "/proc/x" } });
      }).catch((e) => { console.error(e.message); process.exit(3); });`;
    const trainer = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 });
    assert.equal(trainer.signal, null, `killed after hanging:\n${trainer.stderr}`);
    assert.equal(trainer.status, 3, trainer.stderr);
    assert.match(trainer.stderr, /outputDir \/proc\/x: cannot create the folder \/proc\/x/);
  });

  it("9. plan --max-length beyond max_position_embeddings is an error naming both; 16. --target-batch 7 on 8 devices too", async () => {
    const config = JSON.parse(fs.readFileSync(path.join(MODEL, "config.json"), "utf8")) as { max_position_embeddings: number; pad_token_id: number };
    const longest = config.max_position_embeddings - config.pad_token_id - 1;
    const over = await runCli(["plan", "--model", MODEL, "--max-length", "100000"]);
    assert.equal(over.code, 1, over.output);
    assert.ok(
      over.output.includes(
        `a sequence length of 100000 tokens (--max-length) is more than the model takes: max_position_embeddings ${config.max_position_embeddings} leaves ${longest} token positions`,
      ),
      over.output,
    );
    assert.ok(!over.output.includes("per-device batch"), over.output);
    const cfg = LongformerConfig.fromJSON(fs.readFileSync(path.join(MODEL, "config.json"), "utf8"), "config.json");
    assert.equal(planBatch({ config: cfg, sequenceLength: longest, memoryBytes: 2 ** 34 }).fits, true, "the longest length the model takes is planned");
    assert.throws(() => planBatch({ config: cfg, sequenceLength: longest + 1, memoryBytes: 2 ** 34 }), /is more than the model takes/);
    const target = await runCli(["plan", "--model", MODEL, "--max-length", "16", "--devices", "8", "--target-batch", "7"]);
    assert.equal(target.code, 1, target.output);
    assert.match(target.output, /a target effective batch of 7 \(--target-batch\) is smaller than the 8 devices/);
  });
});
