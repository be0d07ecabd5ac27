/**
 * Faults around a running study (issue 16, items 1-4, 12, 18): killed at any moment, started twice, pointed at
 * impossible folders; and the kill -9 loop: a small study killed 10 times at random points of its progress still ends
 * with the results of an uninterrupted run.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { RESULT_COLUMNS, TIMING_COLUMNS, type RunResult } from "../../src/experiments";
import { REPORT_COLUMNS, runStudy, writeStudyReport, type StudyOptions } from "../../src/study";
import { SeededRng } from "../../src/random";
import { FOLDER_LOCK_FILE } from "../../src/supervision";
import { repoRoot, tempDir } from "../helpers";
import { childPids, isRunning, runCli, startCli, waitFor } from "./support";

/** The smallest study: the synthetic task at size "small" (5 runs, a few seconds). */
const SMALL_ENV = { TSML_SMALL: "1" };
const studyArgs = (root: string, name: string) => [
  "study",
  "--task",
  "synthetic-logreg",
  "--workers",
  "2",
  "--runs-dir",
  path.join(root, "runs"),
  "--reports-dir",
  path.join(root, "reports"),
  "--name",
  name,
];

/** results.csv without the columns that measure the machine (time, memory), as rows of cells. */
function modelColumns(csvFile: string): string[][] {
  const [header, ...rows] = fs
    .readFileSync(csvFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(","));
  assert.deepEqual(header, RESULT_COLUMNS);
  const keep = RESULT_COLUMNS.map((c, i) => (TIMING_COLUMNS.includes(c) ? -1 : i)).filter((i) => i >= 0);
  return rows.map((cells) => keep.map((i) => cells[i]));
}

const EXPERIMENTS = path.join(repoRoot(), "dist", "src", "experiments");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("reliability: a study survives faults (issue 16)", function () {
  this.timeout(240_000);
  const root = tempDir("tsml-faults-");
  let reference: string[][];
  before(async () => {
    const run = await runCli(studyArgs(root, "reference"), { env: SMALL_ENV });
    assert.equal(run.code, 0, run.output);
    reference = modelColumns(path.join(root, "reports", "reference", "results.csv"));
    assert.equal(reference.length, 5);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("1. a run killed after its last checkpoint but before metrics.json is evaluated on resume; the report never crashes", async () => {
    const options: StudyOptions = {
      size: "small",
      task: "synthetic-logreg",
      workers: 2,
      runsDir: path.join(root, "runs"),
      reportsDir: path.join(root, "reports"),
      name: "reference",
    };
    const runDir = path.join(root, "runs", "reference", "b8-a4-lr0.05-s0");
    const metricsFile = path.join(runDir, "metrics.json");
    const original = JSON.parse(fs.readFileSync(metricsFile, "utf8"));
    fs.rmSync(metricsFile);
    const again = await runStudy(options);
    assert.deepEqual(
      again.grid.runs.map((r) => r.status),
      ["skipped", "finished", "skipped", "skipped", "skipped"],
    );
    const resumed = JSON.parse(fs.readFileSync(metricsFile, "utf8"));
    assert.equal(resumed.resumedFromStep, original.steps, "it resumed at its last step");
    for (const key of ["steps", "totalSteps", "dev", "test", "fluctuation", "smoothedFinalLoss", "noiseScale"])
      assert.deepEqual(resumed[key], original[key], key);
    assert.equal(resumed.examplesPerSecond, null, "nothing trained: no throughput rather than 0/0");
    assert.deepEqual(modelColumns(again.report.csv), reference);

    // A metrics.json left incomplete by an older tsml (dev null, no totalSteps): not finished, so it is completed.
    fs.writeFileSync(metricsFile, JSON.stringify({ ...original, dev: null, noiseScale: null, examplesPerSecond: null, totalSteps: undefined }));
    const third = await runStudy(options);
    assert.equal(third.grid.runs[1].status, "finished");
    assert.deepEqual(JSON.parse(fs.readFileSync(metricsFile, "utf8")).dev, original.dev);
    const html = fs.readFileSync(third.report.html, "utf8");
    assert.ok(html.includes("<td>—</td>"), "unmeasured values show as —");
  });

  it("1. the report shows — for every missing value instead of crashing", async () => {
    const row = Object.fromEntries(RESULT_COLUMNS.map((c) => [c, NaN])) as unknown as RunResult;
    const broken = { ...row, runId: "r", task: "t", noiseScale: null, examplesPerSecond: null } as unknown as RunResult;
    const out = path.join(root, "report-missing");
    const files = await writeStudyReport(out, {
      title: "t",
      question: "q",
      spec: { task: "t", training: {} },
      results: [broken],
      histories: [],
      findings: [],
      provenance: { tsmlVersion: null, backend: null, gitCommit: null } as never,
      failures: [],
      wallTimeSeconds: NaN,
      rerunCommand: "x",
    });
    const html = fs.readFileSync(files.html, "utf8");
    assert.equal((html.match(/<td>—<\/td>/g) ?? []).length, REPORT_COLUMNS.length - 1, "every missing cell of the report's columns");
    assert.equal(fs.readFileSync(files.csv, "utf8").split("\n")[1], ["r", "t", ...Array(RESULT_COLUMNS.length - 2).fill("")].join(","));
  });

  it("2. a second study on the same runs folder is refused with a message naming the first one's pid", async () => {
    const first = startCli(studyArgs(root, "twice"), { env: SMALL_ENV });
    const lock = path.join(root, "runs", "twice", FOLDER_LOCK_FILE);
    await waitFor(() => fs.existsSync(lock) || /started b/.test(first.output()), 60_000, "the first study to take the lock or to train");
    assert.ok(fs.existsSync(lock), "the first study holds the lock");
    const second = await runCli(studyArgs(root, "twice"), { env: SMALL_ENV });
    assert.equal(second.code, 1, second.output);
    assert.match(second.output, new RegExp(`runs/twice is in use by another process: pid ${first.child.pid} \\(grid twice:`));
    const done = await first.exited;
    assert.equal(done.code, 0, first.output());
    assert.deepEqual(modelColumns(path.join(root, "reports", "twice", "results.csv")), reference);
    const steps = fs
      .readFileSync(path.join(root, "runs", "twice", "b8-a1-lr0.05-s0", "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).step);
    assert.deepEqual(steps, [...new Set(steps)], "every step logged once");
  });

  it("3. killing only the main grid process ends its workers too, within seconds", async () => {
    // One long run (thousands of batch-1 steps), so a worker left alive would still be training when checked.
    const spec = {
      task: "synthetic-logreg",
      taskConfig: { trainExamples: 4096, devExamples: 64, testExamples: 64 },
      training: { perDeviceBatchSize: 1, epochs: 4, saveSteps: 500 },
    };
    const script = `require(${JSON.stringify(EXPERIMENTS)}).runGrid(${JSON.stringify(spec)}, { runsDir: ${JSON.stringify(path.join(root, "runs"))}, name: "orphans", workers: 1,
      onEvent: (e) => e.type === "progress" && console.log("progress " + e.step) });`;
    const grid = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    grid.stdout.on("data", (d) => (output += d));
    let workers: number[] = [];
    try {
      await waitFor(() => (workers = childPids(grid.pid!)).length > 0 && output.includes("progress"), 60_000, "the worker to train");
      grid.kill("SIGKILL");
      await new Promise((r) => grid.on("close", r));
      await waitFor(() => workers.every((pid) => !isRunning(pid)), 3000, `worker ${workers.join(", ")} to exit after its parent`);
    } finally {
      for (const pid of workers.filter(isRunning)) process.kill(pid, "SIGKILL");
    }
  });

  it("4. and 18. impossible folders are refused at once: --runs-dir /proc/x, an unwritable --reports-dir", async () => {
    const proc = await runCli([...studyArgs(root, "proc"), "--runs-dir", "/proc/tsml-x"], { env: SMALL_ENV, timeoutMs: 30_000 });
    assert.equal(proc.signal, null, "it did not hang");
    assert.match(proc.output, /runs folder \/proc\/tsml-x: cannot create the folder \/proc\/tsml-x/);
    const file = path.join(root, "a-file");
    fs.writeFileSync(file, "");
    const reports = await runCli([...studyArgs(root, "reports"), "--reports-dir", path.join(file, "sub")], { env: SMALL_ENV, timeoutMs: 60_000 });
    assert.equal(reports.code, 1, reports.output);
    assert.match(reports.output, /reports folder .*a-file\/sub\/reports: .*a-file is a file, not a folder/);
    assert.ok(!fs.existsSync(path.join(root, "runs", "reports")), "no run was trained first");
  });

  it("12. `tsml study quick` and `--name --runs-dir X` are refused instead of starting the wrong study", async () => {
    const quick = await runCli(["study", "quick", "--runs-dir", path.join(root, "runs"), "--reports-dir", path.join(root, "reports")], { timeoutMs: 30_000 });
    assert.equal(quick.code, 1, quick.output);
    assert.match(quick.output, /unexpected argument "quick"; did you mean --quick\?/);
    const name = await runCli(["study", "--name", "--runs-dir", path.join(root, "runs")], { timeoutMs: 30_000 });
    assert.equal(name.code, 1, name.output);
    assert.match(name.output, /option --name needs a value, got the option --runs-dir/);
  });

  it("kill -9 loop: 10 kills of the study or a worker at random points of its progress, then every resume completes with the uninterrupted results", async () => {
    const rng = new SeededRng(16);
    const args = studyArgs(root, "killed");
    const gridDir = path.join(root, "runs", "killed");
    const workersSeen = new Set<number>();
    // Kills are placed by training progress (steps in the runs' log.jsonl), not by time: every one hits a study
    // still training, however fast the machine. The points rise, so the study moves on between kills.
    const runSteps = (dir: string): number[] =>
      fs
        .readdirSync(dir)
        .filter((run) => fs.existsSync(path.join(dir, run, "log.jsonl")))
        .map(
          (run) =>
            fs
              .readFileSync(path.join(dir, run, "log.jsonl"), "utf8")
              .trim()
              .split("\n")
              .filter((l) => l !== "").length,
        );
    const totalSteps = runSteps(path.join(root, "runs", "reference")).reduce((a, b) => a + b, 0);
    const loggedSteps = () => (fs.existsSync(gridDir) ? runSteps(gridDir).reduce((a, b) => a + b, 0) : 0);
    const points = Array.from({ length: 10 }, () => Math.floor((0.05 + 0.85 * rng.next()) * totalSteps)).sort((a, b) => a - b);
    assert.ok(totalSteps > 20 && points.length === 10, `${totalSteps} steps in the reference study`);
    let kills = 0;
    for (const point of points) {
      const study = startCli(args, { env: SMALL_ENV });
      let exited = false;
      void study.exited.then(() => (exited = true));
      while (!exited && loggedSteps() < point) await sleep(10);
      assert.ok(!exited, `the study ended before step ${point} of ${totalSteps}:\n${study.output()}`);
      const workers = childPids(study.child.pid!);
      workers.forEach((pid) => workersSeen.add(pid));
      const killWorker = workers.length > 0 && rng.next() < 0.4;
      process.kill(killWorker ? workers[Math.floor(rng.next() * workers.length)] : study.child.pid!, "SIGKILL");
      kills++;
      await study.exited;
      // Its workers end with it (the next invocation starts at once; a run folder's lock covers the last moments).
      if (!killWorker) await waitFor(() => workers.every((pid) => !isRunning(pid)), 5000, `workers ${workers.join(", ")} to end with their study`);
      assert.ok(!/Cannot read properties|TypeError/.test(study.output()), study.output());
      if (kills % 3 === 0) {
        // The window between a run's last checkpoint and its metrics.json is milliseconds wide, too narrow to hit
        // by progress: every third kill leaves the state such a kill leaves, a finished run without metrics.json.
        const done = fs.readdirSync(gridDir).filter((run) => fs.existsSync(path.join(gridDir, run, "metrics.json")));
        if (done.length > 0) fs.rmSync(path.join(gridDir, done[Math.floor(rng.next() * done.length)], "metrics.json"));
      }
    }
    assert.equal(kills, 10);
    const last = await runCli(args, { env: SMALL_ENV });
    assert.equal(last.code, 0, last.output);
    await waitFor(() => [...workersSeen].every((pid) => !isRunning(pid)), 5000, "no worker to outlive its study");
    assert.deepEqual(modelColumns(path.join(root, "reports", "killed", "results.csv")), reference, "same numbers as the uninterrupted study");
    const killedRuns = fs.readdirSync(path.join(root, "runs", "killed")).filter((d) => d.startsWith("b"));
    assert.equal(killedRuns.length, reference.length);
    for (const run of killedRuns) {
      const dir = path.join(root, "runs", "killed", run);
      assert.deepEqual(
        fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")),
        [],
        `${run}: no temporary files left`,
      );
      const steps = fs
        .readFileSync(path.join(dir, "log.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).step);
      assert.deepEqual(
        steps,
        steps.map((_, i) => i + 1),
        `${run}: log.jsonl holds every step once, in order`,
      );
    }
  });
});

describe("reliability: a study on own data survives kill -9 and keeps one owner per folder", function () {
  this.timeout(300_000);
  const root = tempDir("tsml-own-faults-");
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const words = ["whiskers purr meow", "bark fetch bone"];
  const csv = path.join(root, "docs.csv");
  fs.writeFileSync(csv, "text,label\n" + Array.from({ length: 40 }, (_, i) => `"${words[i % 2]} number ${i}",${i % 2 ? "dog" : "cat"}`).join("\n") + "\n");
  const args = (name: string) => [
    "study",
    "--train",
    csv,
    "--size",
    "small",
    "--max-length",
    "32",
    "--batch",
    "2",
    "--accumulation",
    "1,2",
    "--lr",
    "3e-3",
    "--seeds",
    "2",
    "--steps",
    "12",
    "--workers",
    "2",
    "--runs-dir",
    path.join(root, "runs"),
    "--reports-dir",
    path.join(root, "reports"),
    "--name",
    name,
  ];

  it("killed at random 4 times (study or worker), then resumed: the results of the uninterrupted study", async () => {
    const reference = await runCli(args("reference"));
    assert.equal(reference.code, 0, reference.output);
    const expected = modelColumns(path.join(root, "reports", "reference", "results.csv"));
    assert.equal(expected.length, 4);
    const rng = new SeededRng(23);
    let kills = 0;
    for (let attempt = 0; kills < 4 && attempt < 20; attempt++) {
      const study = startCli(args("killed"));
      // The cache is shared with the reference study, so runs start within about a second.
      const started = await Promise.race([
        waitFor(() => /started b/.test(study.output()), 60_000, "a run to start").then(() => true),
        study.exited.then(() => false),
      ]);
      if (!started) break;
      if (kills === 0) {
        const second = await runCli(args("killed"));
        assert.equal(second.code, 1, second.output);
        assert.match(second.output, /runs\/killed is in use by another process: pid /);
      }
      await sleep(rng.next() * 1500);
      const workers = childPids(study.child.pid!);
      const killWorker = workers.length > 0 && rng.next() < 0.4;
      process.kill(killWorker ? workers[0] : study.child.pid!, "SIGKILL");
      kills++;
      await study.exited;
      if (!killWorker) await waitFor(() => workers.every((pid) => !isRunning(pid)), 5000, "workers to end with their study");
    }
    assert.ok(kills >= 1, "the study was killed at least once");
    const last = await runCli(args("killed"));
    assert.equal(last.code, 0, last.output);
    assert.deepEqual(modelColumns(path.join(root, "reports", "killed", "results.csv")), expected, "same numbers as the uninterrupted study");
  });
});
