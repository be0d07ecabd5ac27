/**
 * Sweeps on a queue, with real components: a redis-server on a free loopback port and three `tsml worker`
 * processes serve grids of the synthetic task; the numbers are compared with the same grids run by local workers.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Queue } from "bullmq";
import type { KernelDisplayHook, MimeBundle } from "../../src/display";
import {
  collectProvenance,
  expandGrid,
  readGridResults,
  RESULT_COLUMNS,
  runGrid,
  TIMING_COLUMNS,
  workerTaskModules,
  type GridSpec,
  type RunJob,
  type RunResult,
} from "../../src/experiments";
import {
  checkRedisUrl,
  localTrialJob,
  maskRedisUrl,
  queueExecutor,
  runTrialsOnQueue,
  trialEnvironment,
  TRIAL_QUEUE,
  trialJobId,
  tsmlSourceDir,
} from "../../src/queue";
import { tsmlPackageVersion } from "../../src/package";
import { tempDir } from "../helpers";
import { childPids, isRunning, runCli, startCli, type CliProcess } from "../reliability/support";
import { TINY_SYNTHETIC_GRID, TINY_SYNTHETIC_TASK } from "../experiments/grids";
import { freePort, RedisServer } from "./redisServer";

const grid: GridSpec = { ...TINY_SYNTHETIC_GRID, axes: { seed: [0, 1] } };
/** One longer run (576 steps), to be killed in the middle. */
const longRun: GridSpec = { ...grid, training: { ...grid.training, epochs: 6 }, variants: [{ perDeviceBatchSize: 1 }], axes: undefined };

/** Redis's password in these tests: it must never show up in any output or file. */
const PASSWORD = "s3cret-pw";

/** Seconds a job lock lasts in these tests: a killed worker's trial moves on after about this long. */
const LOCK_SECONDS = 5;

/** The result rows without the columns that measure the machine (time, memory). */
function modelNumbers(rows: RunResult[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING_COLUMNS.includes(k as keyof RunResult))));
}

/** results.csv without the columns that measure the machine, as rows of cells. */
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

/** The text of every file below `dir` (binary files as latin1). */
function filesBelow(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), "latin1"));
}

/** How often each worker's log says trial `jobId` did `what` ("started", "failed"). */
function linesOf(workers: CliProcess[], jobId: string, what = "started"): number[] {
  return workers.map(
    (w) =>
      w
        .output()
        .split("\n")
        .filter((line) => line.includes(`trial ${jobId}: ${what}`)).length,
  );
}

/**
 * Waits until the workers' logs (read through pipes, so behind what Redis already knows) hold `count` lines saying
 * trial `jobId` did `what`: a worker logs "started" before "finished" or "failed", so the lines before are in too.
 */
async function logged(workers: CliProcess[], jobId: string, what: string, count = 1): Promise<void> {
  while (linesOf(workers, jobId, what).reduce((a, b) => a + b, 0) < count) await new Promise((r) => setTimeout(r, 20));
}

describe("queue: sweeps on Redis + BullMQ workers (redis-server, 3 tsml workers)", function () {
  this.timeout(120_000);
  const root = tempDir("tsml-queue-");
  const runsDir = path.join(root, "runs");
  let redis: RedisServer;
  const workers: CliProcess[] = [];
  let local: RunResult[];
  let localLong: RunResult[];

  /** Starts a worker given the URL through TSML_QUEUE_URL, or (`fromFile`) --queue-url-file: never in its arguments. */
  const startWorker = async (fromFile = false): Promise<CliProcess> => {
    const urlFile = path.join(root, "queue-url");
    fs.writeFileSync(urlFile, `${redis.url}\n`, { mode: 0o600 });
    const args = ["worker", ...(fromFile ? ["--queue-url-file", urlFile] : []), "--runs-dir", runsDir, "--lock-seconds", String(LOCK_SECONDS)];
    const worker = startCli(args, { env: fromFile ? {} : { TSML_QUEUE_URL: redis.url } });
    const deadline = Date.now() + 30_000;
    while (!worker.output().includes("serving queue")) {
      if (Date.now() > deadline || worker.child.exitCode !== null) throw new Error(`worker did not start:\n${worker.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return worker;
  };

  before(async () => {
    fs.mkdirSync(path.join(root, "redis"));
    redis = await RedisServer.start(path.join(root, "redis"), PASSWORD);
    for (let i = 0; i < 3; i++) workers.push(await startWorker(i === 2));
    // The reference: the same grids on local workers.
    local = (await runGrid(grid, { runsDir, name: "local", workers: 2 })).results;
    localLong = (await runGrid(longRun, { runsDir, name: "local-long", workers: 1 })).results;
    assert.equal(local.length, 6);
    assert.equal(localLong.length, 1);
  });

  after(async () => {
    for (const worker of workers) assert.ok(!worker.output().includes(PASSWORD), "a worker printed the password");
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
    await redis?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("runs every trial exactly once on the workers, with a local run's numbers, in one live notebook display", async () => {
    const shown: { kind: "display" | "update"; id: string | undefined; bundle: MimeBundle }[] = [];
    const hook: KernelDisplayHook = {
      display: (bundle, id) => shown.push({ kind: "display", id, bundle }),
      update: (bundle, id) => shown.push({ kind: "update", id, bundle }),
      clear: () => {},
    };
    const progress = new Map<string, number>();
    (globalThis as { __tsmlKernel?: KernelDisplayHook }).__tsmlKernel = hook;
    let summary;
    try {
      summary = await runGrid(grid, {
        runsDir,
        name: "queued",
        executor: queueExecutor(redis.url),
        onEvent: (event) => event.type === "progress" && progress.set(event.runId, (progress.get(event.runId) ?? 0) + 1),
      });
    } finally {
      delete (globalThis as { __tsmlKernel?: KernelDisplayHook }).__tsmlKernel;
    }
    assert.deepEqual(
      summary.runs.map((r) => r.status),
      Array(6).fill("finished"),
      JSON.stringify(summary.runs),
    );
    assert.deepEqual(modelNumbers(summary.results), modelNumbers(local));
    assert.deepEqual(modelNumbers(readGridResults(summary.gridDir)), modelNumbers(local), "results.csv holds the same numbers");
    const busy = new Set<number>();
    for (const run of summary.runs) {
      assert.ok((progress.get(run.id) ?? 0) > 0, `progress of ${run.id} reached the coordinator through the job`);
      await logged(workers, trialJobId(run.runDir), "finished");
      const starts = linesOf(workers, trialJobId(run.runDir));
      assert.equal(
        starts.reduce((a, b) => a + b, 0),
        1,
        `${run.id} started once: ${starts}`,
      );
      busy.add(starts.indexOf(1));
      assert.equal(JSON.parse(fs.readFileSync(path.join(run.runDir, "metrics.json"), "utf8")).resumedFromStep, null);
    }
    assert.ok(busy.size >= 2, `the trials were spread over the workers (${busy.size} of 3 got one)`);
    assert.equal(shown.filter((s) => s.kind === "display").length, 1, "one display");
    assert.ok(shown.length > 1 && shown.every((s) => s.id === shown[0].id), "updated in place");
    assert.match(String(shown[shown.length - 1].bundle["text/plain"]), /^trials: 6 finished, 0 failed, 0 to go/);
  });

  it("enqueueing the same trials twice (two coordinators) adds nothing: each trains once", async () => {
    const gridDir = path.join(runsDir, "twice");
    const provenance = collectProvenance();
    const jobs: RunJob[] = expandGrid({ ...grid, axes: undefined, variants: grid.variants!.slice(0, 2) }).map((run) => ({
      run,
      runDir: path.join(gridDir, run.id),
      provenance,
      taskModules: workerTaskModules(run.task),
      cacheDir: path.join(runsDir, ".cache"),
    }));
    const options = { url: redis.url, runsDir };
    const [first, second] = await Promise.all([runTrialsOnQueue(jobs, options), runTrialsOnQueue(jobs, options)]);
    assert.deepEqual(
      [...first, ...second].map((o) => o.status),
      Array(4).fill("finished"),
    );
    const queue = new Queue(TRIAL_QUEUE, { connection: { url: redis.url } });
    try {
      const ids = (await queue.getJobs(["completed", "waiting", "active", "delayed", "failed"])).map((j) => j.id).filter((id) => id?.startsWith("twice."));
      assert.deepEqual(ids.sort(), jobs.map((j) => trialJobId(j.runDir)).sort());
    } finally {
      await queue.close();
    }
    for (const job of jobs) {
      await logged(workers, trialJobId(job.runDir), "finished");
      assert.deepEqual(
        linesOf(workers, trialJobId(job.runDir)).reduce((a, b) => a + b, 0),
        1,
        job.run.id,
      );
    }
  });

  it("completes when redis-server is stopped and restarted in the middle of the sweep", async () => {
    let restarted: Promise<void> | undefined;
    let restartedAt = Infinity;
    const finishedAt: number[] = [];
    const summary = await runGrid(grid, {
      runsDir,
      name: "restart",
      executor: queueExecutor(redis.url),
      onEvent: (event) => {
        if (event.type === "started" && restarted === undefined) {
          // The workers are paused until Redis is back, so the trial that just started (and every later one) completes
          // after the restart, whatever the machine's speed; their trial processes train on meanwhile.
          const paused = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
          for (const worker of paused) worker.child.kill("SIGSTOP");
          restarted = redis
            .stop()
            .then(() => new Promise((r) => setTimeout(r, 500)))
            .then(() => redis.start())
            .then(() => void (restartedAt = Date.now()))
            .finally(() => paused.forEach((worker) => worker.child.kill("SIGCONT")));
        }
        if (event.type === "finished") finishedAt.push(Date.now());
      },
    });
    await restarted;
    assert.deepEqual(
      summary.runs.map((r) => r.status),
      Array(6).fill("finished"),
      JSON.stringify(summary.runs),
    );
    assert.equal(finishedAt.length, 6);
    assert.ok(
      finishedAt.some((t) => t > restartedAt),
      "trials finished after the restart",
    );
    assert.deepEqual(modelNumbers(summary.results), modelNumbers(local));
  });

  it("tsml study with TSML_QUEUE_URL writes the same results.csv and report as a local study, and never the password", async () => {
    const args = (name: string) => ["study", "--task", "synthetic-logreg", "--runs-dir", runsDir, "--reports-dir", path.join(root, "reports"), "--name", name];
    const env = { TSML_SMALL: "1" };
    const reference = await runCli([...args("study-local"), "--workers", "2"], { env });
    assert.equal(reference.code, 0, reference.output);
    const queued = await runCli(args("study-queued"), { env: { ...env, TSML_QUEUE_URL: redis.url } });
    assert.equal(queued.code, 0, queued.output);
    assert.match(queued.output, /trials enqueued at redis:\/\/:\*\*\*@127\.0\.0\.1/);
    const csv = (name: string) => modelColumns(path.join(root, "reports", name, "results.csv"));
    assert.equal(csv("study-local").length, 5);
    assert.deepEqual(csv("study-queued"), csv("study-local"));
    assert.ok(fs.existsSync(path.join(root, "reports", "study-queued", "report.html")));
    const written = [queued.output, ...filesBelow(path.join(runsDir, "study-queued")), ...filesBelow(path.join(root, "reports", "study-queued"))];
    assert.ok(written.length > 10);
    const leaks = written
      .map((text) => (text.split(PASSWORD).length - 1 > 0 ? text.slice(Math.max(0, text.indexOf(PASSWORD) - 300), text.indexOf(PASSWORD) + 50) : ""))
      .filter((t) => t !== "");
    assert.deepEqual(leaks, [], "the password was written somewhere");
  });

  it("a failing trial is retried a bounded number of times, then reported with its error", async () => {
    const broken: GridSpec = { ...grid, taskConfig: { ...TINY_SYNTHETIC_TASK, features: "six" }, variants: [{ perDeviceBatchSize: 8 }], axes: undefined };
    const summary = await runGrid(broken, { runsDir, name: "broken", executor: queueExecutor(redis.url, { attempts: 2 }) });
    assert.equal(summary.runs.length, 1);
    assert.equal(summary.runs[0].status, "failed");
    assert.match(summary.runs[0].error ?? "", /features.*\(2 attempts\)$/);
    await logged(workers, trialJobId(summary.runs[0].runDir), "failed", 2);
    const starts = linesOf(workers, trialJobId(summary.runs[0].runDir), "failed");
    assert.equal(
      starts.reduce((a, b) => a + b, 0),
      2,
      `two attempts: ${starts}`,
    );
  });

  it("a worker that cannot confirm its job lock (Redis frozen) stops its trial; the sweep then completes with the same numbers", async () => {
    let frozen: Promise<void> | undefined;
    let stalledTrial: number | undefined;
    const summary = await runGrid(longRun, {
      runsDir,
      name: "partition",
      executor: queueExecutor(redis.url),
      onEvent: (event) => {
        if (event.type === "progress" && frozen === undefined && event.lastCheckpointStep !== null) {
          // The trial's process is stopped too, so that it is still running, whatever the machine's speed, when
          // the worker gives up on its lock.
          stalledTrial = workers.flatMap((w) => childPids(w.child.pid!))[0];
          process.kill(stalledTrial, "SIGSTOP");
          redis.freeze(true);
          frozen = new Promise((r) => setTimeout(r, LOCK_SECONDS * 1000 + 1500)).then(() => redis.freeze(false));
        }
      },
    });
    await frozen;
    assert.notEqual(stalledTrial, undefined, "a trial was running when Redis was frozen");
    assert.ok(!isRunning(stalledTrial!), "the worker ended its trial's process");
    assert.equal(summary.runs[0].status, "finished", JSON.stringify(summary.runs));
    const jobId = trialJobId(summary.runs[0].runDir);
    assert.ok(
      workers.some((w) => w.output().includes(`trial ${jobId}: stopping (no job lock renewal confirmed by Redis`)),
      "the trial was stopped",
    );
    const metrics = JSON.parse(fs.readFileSync(path.join(summary.runs[0].runDir, "metrics.json"), "utf8"));
    assert.ok(metrics.resumedFromStep > 0, `resumed from ${metrics.resumedFromStep}`);
    assert.deepEqual(modelNumbers(summary.results), modelNumbers(localLong));
  });

  it("a worker killed with -9 in the middle of a trial: the trial resumes on another worker from its checkpoint, with the same numbers", async () => {
    let killedAt: number | null = null;
    const summary = await runGrid(longRun, {
      runsDir,
      name: "killed",
      executor: queueExecutor(redis.url),
      onEvent: (event, control) => {
        if (event.type === "progress" && killedAt === null && event.lastCheckpointStep !== null && event.lastCheckpointStep >= 16) {
          killedAt = event.lastCheckpointStep;
          control.kill();
        }
      },
    });
    assert.notEqual(killedAt, null, "the trial was killed");
    assert.equal(summary.runs[0].status, "finished", JSON.stringify(summary.runs));
    const runDir = summary.runs[0].runDir;
    const jobId = trialJobId(runDir);
    await logged(workers, jobId, "finished");
    const killed = workers.filter((w) => w.child.signalCode === "SIGKILL");
    assert.equal(killed.length, 1, "one worker was killed");
    assert.match(killed[0].output(), new RegExp(`trial ${jobId}: started\\n`));
    assert.doesNotMatch(killed[0].output(), new RegExp(`trial ${jobId}: finished`));
    const resumer = workers.filter((w) => w.output().includes(`trial ${jobId}: started, resuming from step`));
    assert.equal(resumer.length, 1, "another worker resumed it");
    assert.match(resumer[0].output(), new RegExp(`trial ${jobId}: finished`));
    const metrics = JSON.parse(fs.readFileSync(path.join(runDir, "metrics.json"), "utf8"));
    assert.ok(
      metrics.resumedFromStep >= killedAt! && metrics.resumedFromStep < metrics.totalSteps,
      `resumed from ${metrics.resumedFromStep}, killed after checkpoint ${killedAt}: not trained to the end twice`,
    );
    assert.deepEqual(modelNumbers(summary.results), modelNumbers(localLong));
    assert.ok(!fs.existsSync(path.join(runDir, ".tsml-lock")), "the run folder's lock was released");
  });
});

describe("queue: an unreachable or malformed queue URL", function () {
  this.timeout(30_000);
  const root = tempDir("tsml-queue-bad-");
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("fails within seconds, naming the URL with its password masked (library and tsml worker)", async () => {
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const masked = url.replace("hunter2", "***");
    const started = Date.now();
    await assert.rejects(
      runGrid(grid, { runsDir: root, name: "unreachable", executor: queueExecutor(url) }),
      (e: Error) => e.message.includes(`cannot reach Redis at ${masked}`) && !e.message.includes("hunter2"),
    );
    assert.ok(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`);
    const cli = await runCli(["worker", "--queue", url], { timeoutMs: 20_000 });
    assert.equal(cli.code, 1, cli.output);
    assert.ok(cli.output.includes(`cannot reach Redis at ${masked}`) && !cli.output.includes("hunter2"), cli.output);
  });

  it("masks passwords and rejects what is not a Redis URL", () => {
    assert.equal(maskRedisUrl("rediss://user:pa55@cache.example:6380/2"), "rediss://user:***@cache.example:6380/2");
    assert.equal(maskRedisUrl("redis://localhost:6379"), "redis://localhost:6379");
    assert.throws(() => checkRedisUrl("http://localhost:6379"), /"http:\/\/localhost:6379" is not a Redis URL; expected redis:\/\//);
    assert.throws(
      () => checkRedisUrl("redis://:secret@localhost:6379/x"),
      (e: Error) => /database after the port must be a number/.test(e.message) && !e.message.includes("secret"),
    );
  });
});

describe("queue: trial jobs", () => {
  it("have ids derived from the run folder, the same every time and different per grid folder", () => {
    assert.equal(trialJobId("/srv/runs/sweep/b8-s0"), trialJobId("/srv/runs/sweep/../sweep/b8-s0"));
    assert.match(trialJobId("/srv/runs/sweep/b8-s0"), /^sweep\.b8-s0\.[0-9a-f]{12}$/);
    assert.notEqual(trialJobId("/srv/runs/sweep/b8-s0"), trialJobId("/home/me/runs/sweep/b8-s0"));
    assert.notEqual(trialJobId("/srv/runs/sweep/b8-s0"), trialJobId("/srv/runs/sweep/b8-s1"));
  });

  it("move to a worker's own mount of the runs folder and its own tsml installation", () => {
    const [run] = expandGrid({ ...grid, axes: undefined, variants: [{ perDeviceBatchSize: 8 }] });
    const own = path.join(tsmlSourceDir(), "study", "registerTask.js");
    const job: RunJob = {
      run,
      runDir: "/srv/runs/sweep/b8-s0",
      cacheDir: "/srv/runs/.cache",
      provenance: collectProvenance(),
      taskModules: ["/opt/old-tsml/dist/src/study/registerTask.js", "/srv/tasks/mine.js"],
    };
    const data = { job, runsDir: "/srv/runs", env: {}, tsmlDir: "/opt/old-tsml/dist/src", tsmlVersion: tsmlPackageVersion() };
    const moved = localTrialJob(data, "/mnt/nfs/runs", ["/srv/tasks/mine.js"]);
    assert.equal(moved.runDir, "/mnt/nfs/runs/sweep/b8-s0");
    assert.equal(moved.cacheDir, "/mnt/nfs/runs/.cache");
    assert.deepEqual(moved.taskModules, [own, "/srv/tasks/mine.js"]);
    assert.throws(
      () => localTrialJob({ ...data, job: { ...job, runDir: "/elsewhere/sweep/b8-s0" } }, "/mnt/nfs/runs", ["/srv/tasks/mine.js"]),
      /trial job: runDir "\/elsewhere\/sweep\/b8-s0" is not inside it \(it must stay inside \/srv\/runs\)/,
    );
  });

  it("load only the task modules the worker allows, and set only TSML_* variables", () => {
    const [run] = expandGrid({ ...grid, axes: undefined, variants: [{ perDeviceBatchSize: 8 }] });
    const job: RunJob = { run, runDir: "/srv/runs/sweep/b8-s0", cacheDir: "/srv/runs/.cache", provenance: collectProvenance(), taskModules: ["/tmp/evil.js"] };
    const data = { job, runsDir: "/srv/runs", env: { TSML_BACKEND: "cpu" }, tsmlDir: "/opt/old-tsml/dist/src", tsmlVersion: tsmlPackageVersion() };
    assert.throws(
      () => localTrialJob(data, "/srv/runs"),
      /task module \/tmp\/evil\.js, which this worker does not allow; start the worker with --task-module \/tmp\/evil\.js/,
    );
    assert.deepEqual(localTrialJob(data, "/srv/runs", ["/tmp/evil.js"]).taskModules, ["/tmp/evil.js"]);
    assert.deepEqual(trialEnvironment(data.env), { TSML_BACKEND: "cpu" });
    assert.throws(
      () => trialEnvironment({ TSML_BACKEND: "cpu", NODE_OPTIONS: "--require /tmp/evil.js" }),
      /environment variable\(s\) NODE_OPTIONS; a job may only set TSML_\* variables/,
    );
  });
});
