/**
 * Jobs written into Redis by hand (issue 24, rows 3, 10 and 11): a worker started without --runs-dir still runs
 * trials only inside its runs folder (`runs`); a job naming a folder outside it, `../../../x` or `/proc/x`, or sent
 * by a coordinator of another tsml version, fails with an error naming it, nothing is written, and SIGTERM still
 * ends the worker. The queue URL (and its password) reaches a worker through TSML_QUEUE_URL or a file, not argv.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Queue } from "bullmq";
import { collectProvenance, expandGrid, workerTaskModules, type RunJob } from "../../src/experiments";
import { tsmlPackageVersion } from "../../src/package";
import { TRIAL_QUEUE, tsmlSourceDir, type TrialJobData } from "../../src/queue";
import { tempDir } from "../helpers";
import { TINY_SYNTHETIC_GRID } from "../experiments/grids";
import { RedisServer } from "../queue/redisServer";
import { runCli, startCli, type CliProcess } from "./support";

describe("reliability: a worker confines hand-written jobs to its runs folder (issue 24)", function () {
  this.timeout(90_000);
  const root = tempDir("tsml-queue-confined-");
  const workerDir = path.join(root, "d1", "d2", "d3", "worker");
  let redis: RedisServer;
  let worker: CliProcess;

  before(async () => {
    fs.mkdirSync(path.join(root, "redis"));
    fs.mkdirSync(workerDir, { recursive: true });
    redis = await RedisServer.start(path.join(root, "redis"));
    worker = startCli(["worker", "--queue", redis.url], { cwd: workerDir });
    while (!worker.output().includes("serving queue")) {
      if (worker.child.exitCode !== null) throw new Error(`worker did not start:\n${worker.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGKILL");
    await redis.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("3, 10. runDir outside the runs folder, ../../../x, /proc/x, another tsml version: each fails naming it; nothing is written; SIGTERM ends the worker", async () => {
    const [run] = expandGrid(TINY_SYNTHETIC_GRID);
    const coordinatorRuns = path.join(root, "coordinator", "runs");
    const outside = path.join(root, "elsewhere", "x");
    const inside = path.join(coordinatorRuns, "grid", run.id);
    const bad = [
      { runDir: outside, tsmlVersion: tsmlPackageVersion() },
      { runDir: "../../../x", tsmlVersion: tsmlPackageVersion() },
      { runDir: "/proc/x", tsmlVersion: tsmlPackageVersion() },
      { runDir: inside, tsmlVersion: "0.0.1-other" },
    ];
    const queue = new Queue<TrialJobData>(TRIAL_QUEUE, { connection: { url: redis.url } });
    try {
      for (const [i, { runDir, tsmlVersion }] of bad.entries()) {
        const job: RunJob = {
          run,
          runDir,
          provenance: collectProvenance(),
          taskModules: workerTaskModules(run.task),
          cacheDir: path.join(coordinatorRuns, ".cache"),
        };
        await queue.add(run.id, { job, runsDir: coordinatorRuns, env: {}, tsmlDir: tsmlSourceDir(), tsmlVersion }, { jobId: `bad-${i}`, attempts: 1 });
      }
      const reasons: string[] = [];
      for (const [i] of bad.entries()) {
        while ((await queue.getJobState(`bad-${i}`)) !== "failed") await new Promise((r) => setTimeout(r, 100));
        reasons.push((await queue.getJob(`bad-${i}`))!.failedReason);
      }
      assert.equal(reasons.length, 4);
      assert.equal(reasons[0], `trial job: runDir ${JSON.stringify(outside)} is not inside it (it must stay inside ${coordinatorRuns})`);
      assert.equal(reasons[1], `trial job: runDir "../../../x" contains ".." (it must stay inside ${coordinatorRuns})`);
      assert.equal(reasons[2], `trial job: runDir "/proc/x" is not inside it (it must stay inside ${coordinatorRuns})`);
      assert.equal(
        reasons[3],
        `trial job comes from a coordinator running tsml 0.0.1-other, this worker runs tsml ${tsmlPackageVersion()}; run the same tsml version on the coordinator and every worker`,
      );
    } finally {
      await queue.close();
    }
    assert.equal(fs.existsSync(path.join(root, "elsewhere")), false, "nothing written outside");
    assert.equal(fs.existsSync(path.join(root, "d1", "x")), false, "nothing written at ../../../x");
    assert.deepEqual(fs.readdirSync(path.join(workerDir, "runs")), [], "no trial folder was made");
    assert.ok(worker.output().includes(`into ${path.join(workerDir, "runs")}`), worker.output());
    worker.child.kill("SIGTERM");
    const exit = await new Promise<number | null>((resolve) => worker.child.once("exit", (code) => resolve(code)));
    assert.equal(exit, 143, worker.output());
  });
});

describe("reliability: the queue URL and its password stay out of argv (issue 24, row 11)", function () {
  this.timeout(60_000);
  const root = tempDir("tsml-queue-url-");
  const password = "pw-not-in-ps-4711";
  let redis: RedisServer;

  before(async () => {
    fs.mkdirSync(path.join(root, "redis"));
    redis = await RedisServer.start(path.join(root, "redis"), password);
  });
  after(async () => {
    await redis.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** Starts a worker, waits until it serves, and returns its command line as `ps` shows it; then stops it. */
  async function servingCommandLine(args: string[], env: Record<string, string>): Promise<string> {
    const worker = startCli(["worker", "--runs-dir", path.join(root, "runs"), ...args], { env });
    try {
      while (!worker.output().includes("serving queue")) {
        if (worker.child.exitCode !== null) throw new Error(`worker did not start:\n${worker.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(!worker.output().includes(password), worker.output());
      return fs.readFileSync(`/proc/${worker.child.pid}/cmdline`, "utf8").split("\0").join(" ");
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  }

  it("a worker takes the URL from TSML_QUEUE_URL or --queue-url-file; ps never shows the password; a bad file is named", async () => {
    const fromEnv = await servingCommandLine([], { TSML_QUEUE_URL: redis.url });
    assert.ok(fromEnv.includes("worker") && !fromEnv.includes(password), fromEnv);
    const file = path.join(root, "queue-url");
    fs.writeFileSync(file, `${redis.url}\n`, { mode: 0o600 });
    const fromFile = await servingCommandLine(["--queue-url-file", file], { TSML_QUEUE_URL: "" });
    assert.ok(fromFile.includes(file) && !fromFile.includes(password), fromFile);
    const missing = await runCli(["worker", "--queue-url-file", path.join(root, "nope")], { env: { TSML_QUEUE_URL: "" }, timeoutMs: 30_000 });
    assert.equal(missing.code, 1, missing.output);
    assert.ok(missing.output.includes(`--queue-url-file ${path.join(root, "nope")}: cannot read it (ENOENT)`), missing.output);
    const none = await runCli(["worker"], { env: { TSML_QUEUE_URL: "" }, timeoutMs: 30_000 });
    assert.equal(none.code, 1, none.output);
    assert.match(none.output, /no queue given: set TSML_QUEUE_URL, or pass --queue-url-file FILE or --queue URL/);
  });
});
