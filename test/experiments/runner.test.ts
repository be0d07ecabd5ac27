import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import type { DataFrame } from "danfojs-node";
import { initBackend } from "../../src/backend";
import {
  collectProvenance,
  executeRun,
  expandGrid,
  GridSpec,
  readGridResults,
  RESULT_COLUMNS,
  resultsDataFrame,
  RunResult,
  runGrid,
  TIMING_COLUMNS,
} from "../../src/experiments";
import "../../src/study";
import { repoRoot, tempDir } from "../helpers";
import { TINY_SYNTHETIC_GRID } from "./grids";

const grid = TINY_SYNTHETIC_GRID;

/** The result rows without the columns that measure the machine (time, memory). */
function modelNumbers(rows: RunResult[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING_COLUMNS.includes(k as keyof RunResult))));
}

describe("experiments: grid runner (forked workers)", function () {
  const root = tempDir("tsml-grid-");
  /** The grid run once, serially, before the tests; each test reads it and none depends on another test. */
  let serial: RunResult[];
  let gridFrame: DataFrame;

  before(async () => {
    const one = await runGrid(grid, { runsDir: root, name: "serial", workers: 1 });
    assert.deepEqual(
      one.runs.map((r) => r.status),
      ["finished", "finished", "finished"],
      JSON.stringify(one.runs),
    );
    serial = one.results;
    gridFrame = one.frame;
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("serial and parallel execution of the same grid give identical numbers", async () => {
    const two = await runGrid(grid, { runsDir: root, name: "parallel", workers: 2 });
    assert.deepEqual(
      two.runs.map((r) => r.status),
      ["finished", "finished", "finished"],
      JSON.stringify(two.runs),
    );
    const parallel = readGridResults(two.gridDir);
    assert.deepEqual(parallel, two.results);
    assert.equal(serial.length, 3);
    assert.deepEqual(modelNumbers(parallel), modelNumbers(serial));
    // Exact accumulation: 2 x 4 sees the same examples per step as 8 x 1 and gives the same step losses.
    assert.ok(Math.abs(serial[0].lossStd - serial[1].lossStd) < 1e-5 * serial[0].lossStd, `${serial[0].lossStd} vs ${serial[1].lossStd}`);
    assert.ok(serial[2].lossStd > serial[0].lossStd, "batch 1 fluctuates more than batch 8");
  });

  it("returns a DataFrame with one row per finished run and the documented columns", () => {
    const frame = resultsDataFrame(serial);
    assert.deepEqual(frame.values, gridFrame.values);
    assert.deepEqual(frame.columns, RESULT_COLUMNS);
    assert.equal(frame.shape[0], 3);
    const ids = expandGrid(grid).map((r) => r.id);
    assert.deepEqual(frame.column("runId").values, ids);
    assert.deepEqual(frame.column("effectiveBatchSize").values, [8, 8, 1]);
    for (const row of serial) {
      assert.ok(row.devAccuracy >= 0 && row.devAccuracy <= 1 && row.testF1 >= 0 && row.testF1 <= 1);
      assert.ok(row.wallTimeSeconds > 0 && row.peakMemoryMB > 10 && row.examplesPerSecond > 0);
    }
    assert.ok(Number.isNaN(serial[0].noiseScale), "no noise-scale estimate without accumulation");
  });

  it("records provenance: seed, backend, versions, git commit and command line", () => {
    const runDir = path.join(root, "serial", serial[0].runId);
    const config = JSON.parse(fs.readFileSync(path.join(runDir, "config.json"), "utf8"));
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), "package.json"), "utf8"));
    assert.equal(config.seed, 0);
    assert.equal(config.run.id, serial[0].runId);
    assert.equal(config.provenance.tfjsVersion, tf.version.tfjs);
    assert.equal(config.provenance.tsmlVersion, pkg.version);
    assert.equal(config.provenance.nodeVersion, process.version);
    assert.equal(config.provenance.backend.name, process.env.TSML_BACKEND ?? "wasm");
    assert.deepEqual(config.provenance.commandLine, process.argv);
    let head: string | null = null;
    try {
      head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repoRoot(), encoding: "utf8" }).trim();
    } catch {
      head = null;
    }
    assert.equal(config.provenance.gitCommit, head);
    for (const file of ["log.jsonl", "metrics.json", "last-checkpoint"]) assert.ok(fs.existsSync(path.join(runDir, file)), file);
  });

  it("skips finished runs when the grid runs again", async () => {
    const metricsFile = path.join(root, "serial", serial[0].runId, "metrics.json");
    const before = fs.readFileSync(metricsFile, "utf8");
    const again = await runGrid(grid, { runsDir: root, name: "serial", workers: 2 });
    assert.deepEqual(
      again.runs.map((r) => r.status),
      ["skipped", "skipped", "skipped"],
    );
    assert.equal(fs.readFileSync(metricsFile, "utf8"), before);
  });

  it("continues a run killed after its first checkpoint and ends with the numbers of an uninterrupted run", async () => {
    const single: GridSpec = { ...grid, variants: [{ perDeviceBatchSize: 1 }] };
    let killedAt: number | null = null;
    const first = await runGrid(single, {
      runsDir: root,
      name: "killed",
      workers: 1,
      onEvent: (event, control) => {
        if (event.type === "progress" && event.lastCheckpointStep !== null && killedAt === null) {
          killedAt = event.lastCheckpointStep;
          control.kill();
        }
      },
    });
    assert.equal(first.runs[0].status, "failed");
    assert.match(first.runs[0].error ?? "", /SIGKILL/);
    assert.ok(killedAt !== null && killedAt > 0);
    const runDir = first.runs[0].runDir;
    assert.ok(!fs.existsSync(path.join(runDir, "metrics.json")), "a killed run has no metrics.json");

    const second = await runGrid(single, { runsDir: root, name: "killed", workers: 1 });
    assert.equal(second.runs[0].status, "finished");
    const metrics = JSON.parse(fs.readFileSync(path.join(runDir, "metrics.json"), "utf8"));
    assert.ok(metrics.resumedFromStep >= killedAt, `resumed from ${metrics.resumedFromStep}, killed after checkpoint ${killedAt}`);
    const withoutId = (rows: RunResult[]) => modelNumbers(rows).map(({ runId: _id, ...rest }) => rest);
    assert.deepEqual(withoutId(readGridResults(second.gridDir)), withoutId([serial[2]]));
  });

  it("refuses to reuse a run folder that holds a different configuration", async () => {
    const changed: GridSpec = { ...grid, training: { ...grid.training, learningRate: 0.01 } };
    await assert.rejects(runGrid(changed, { runsDir: root, name: "serial" }), /config\.json describes a different run/);
  });
});

describe("experiments: a run in this process", () => {
  it("keeps the tensor count flat and writes metrics.json", async () => {
    await initBackend();
    const [run] = expandGrid({ ...grid, variants: [{ perDeviceBatchSize: 4, gradientAccumulationSteps: 2 }] });
    const runDir = tempDir("tsml-run-");
    const before = tf.memory().numTensors;
    const events: string[] = [];
    const metrics = await executeRun({ run, runDir, provenance: collectProvenance(), taskModules: [], cacheDir: runDir }, (e) => events.push(e.type));
    assert.equal(tf.memory().numTensors, before);
    assert.equal(events[0], "started");
    assert.equal(events[events.length - 1], "finished");
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(runDir, "metrics.json"), "utf8")), JSON.parse(JSON.stringify(metrics)));
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it("runs the spam-longformer task at a tiny size: tokens counted, tensors released", async () => {
    await initBackend();
    const [run] = expandGrid({
      task: "spam-longformer",
      taskConfig: { trainExamples: 8, devExamples: 4, testExamples: 4, maxLength: 64, attentionWindow: 16, hiddenSize: 16, vocabSize: 300 },
      training: { perDeviceBatchSize: 4, gradientAccumulationSteps: 2, learningRate: 1e-3, epochs: 1 },
    });
    const runDir = tempDir("tsml-spam-run-");
    const before = tf.memory().numTensors;
    const metrics = await executeRun({ run, runDir, provenance: collectProvenance(), taskModules: [], cacheDir: path.join(runDir, "cache") }, () => {});
    assert.equal(tf.memory().numTensors, before);
    assert.equal(metrics.steps, 1);
    assert.equal(metrics.trainExamples, 8);
    assert.ok(metrics.trainTokens > 8 * 8 && metrics.trainTokens <= 8 * 64, `tokens ${metrics.trainTokens} lie between the examples' minimum and max length`);
    assert.ok(metrics.dev !== null && metrics.test !== null);
    fs.rmSync(runDir, { recursive: true, force: true });
  });
});
