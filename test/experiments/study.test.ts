import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { concludeStudy, readGridResults, RESULT_COLUMNS, RunResult, runStudy, studyGrid, TIMING_COLUMNS } from "../../src/experiments";
import { command as studyCommand } from "../../src/cli/commands/study";
import { tempDir } from "../helpers";

/** A result row with the given arguments and loss std; everything else neutral. */
function row(batch: number, accumulation: number, learningRate: number, lossStd: number, devF1 = 0.9, noiseScale = NaN): RunResult {
  return {
    runId: `b${batch}-a${accumulation}-lr${learningRate}`, task: "t", perDeviceBatchSize: batch, gradientAccumulationSteps: accumulation,
    effectiveBatchSize: batch * accumulation, learningRate, seed: 0, steps: 10, devAccuracy: 0.9, devF1, testAccuracy: 0.9, testF1: 0.9,
    lossStd, lossCv: lossStd, smoothedFinalLoss: 0.3, noiseScale, examplesPerSecond: 1, tokensPerSecond: 1, wallTimeSeconds: 1, peakMemoryMB: 1,
  };
}

describe("experiments: study conclusion", () => {
  it("reports the fluctuation ratio and log-log slope of a 1/sqrt(B) law, and the learning-rate effect", () => {
    const c = 0.8;
    const results = [
      row(8, 1, 1e-4, c / Math.sqrt(8)), row(8, 4, 1e-4, c / Math.sqrt(32), 0.9, 120), row(8, 8, 1e-4, c / Math.sqrt(64), 0.88, 140),
      row(1, 1, 1e-4, c), row(1, 8, 1e-4, c / Math.sqrt(8) * 1.01), row(1, 1, 1e-5, c * 0.9), row(1, 1, 1e-6, c * 0.95),
    ];
    const findings = concludeStudy(results);
    const text = (topic: string) => findings.find((f) => f.topic === topic)?.text ?? "";
    // Batch 1 -> 64 at one learning rate: ratio sqrt(64) = 8, slope exactly -0.5.
    assert.match(text("fluctuation"), /at effective batch 1 and 0\.1 at 64 \(8x smaller/);
    assert.match(text("fluctuation"), /slope -0\.5 /);
    // The learning rate changed the std by 1 / 0.9 = 1.11x; the batch by 8x.
    assert.match(text("learningRate"), /up to 1\.1x; across batch configurations at one learning rate by up to 8x/);
    // Noise scale: the median of the accumulation runs' estimates, (120 + 140) / 2.
    assert.match(text("noiseScale"), /about 130 examples/);
    assert.match(text("accumulation"), /behaves like the big batch/);
    assert.match(text("answer"), /cut the late-training loss std 8x, while changing the learning rate changed it at most 1\.1x/);
    assert.match(text("answer"), /Dev F1 stayed within 0\.02/);
  });

  it("says so when the fluctuation does not fall with the batch", () => {
    const findings = concludeStudy([row(1, 1, 1e-4, 0.5), row(8, 1, 1e-4, 0.5)]);
    assert.match(findings[findings.length - 1].text, /did not fall with the effective batch/);
    assert.match(concludeStudy([])[0].text, /No run finished/);
  });
});

describe("experiments: the study end to end (synthetic task, small size)", function () {
  const root = tempDir("tsml-study-");
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("writes a self-contained report and results.csv, and a rerun reproduces every number", async () => {
    const options = { size: "small" as const, task: "synthetic-logreg", runsDir: path.join(root, "runs"), reportsDir: path.join(root, "reports"), workers: 2 };
    const first = await runStudy({ ...options, name: "first" });
    const second = await runStudy({ ...options, name: "second" });
    const spec = studyGrid({ size: "small", task: "synthetic-logreg" });
    assert.equal(first.results.length, spec.variants!.length);
    assert.deepEqual(first.frame.columns, RESULT_COLUMNS);

    const strip = (rows: RunResult[]) => rows.map((r) => RESULT_COLUMNS.filter((c) => !TIMING_COLUMNS.includes(c)).map((c) => r[c]));
    assert.deepEqual(strip(second.results), strip(first.results), "same config and seeds give identical numbers");

    const html = fs.readFileSync(first.report.html, "utf8");
    assert.ok(!/<script[^>]+src=|<link[^>]+href="http/.test(html), "no external scripts or styles");
    assert.ok((html.match(/<svg/g) ?? []).length >= 5, "charts are inlined as SVG");
    for (const finding of first.findings) assert.ok(html.includes(finding.text.slice(0, 40).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")), finding.topic);
    assert.ok(html.includes("npx tsml study --task synthetic-logreg"), "the rerun command is recorded");
    assert.ok(html.includes("&quot;seed&quot;: 0"), "the seed is recorded");
    assert.ok(html.includes(`backend ${process.env.TSML_BACKEND ?? "wasm"} `), "the workers' backend is recorded");

    const csv = fs.readFileSync(first.report.csv, "utf8").trim().split("\n");
    assert.equal(csv[0], RESULT_COLUMNS.join(","));
    const fromDisk = readGridResults(first.grid.gridDir);
    csv.slice(1).forEach((line, i) => {
      const cells = line.split(",");
      assert.equal(cells[0], fromDisk[i].runId);
      assert.equal(Number(cells[RESULT_COLUMNS.indexOf("lossStd")]), fromDisk[i].lossStd, "numbers read back exactly");
    });
    for (const chart of first.report.charts) assert.ok(fs.statSync(chart).size > 1000, chart);
  });

  it("the CLI rejects bad options with a message naming them", async () => {
    await assert.rejects(studyCommand.run(["--workers", "0"]), /--workers must be a positive integer, got 0/);
    await assert.rejects(studyCommand.run(["--task", "nope", "--runs-dir", root]), /no study preset for task "nope"/);
  });
});
