/**
 * Jobs written into Redis by hand (issue 24, row 3): a worker started without --runs-dir still runs trials only
 * inside its runs folder (`runs`); a job naming a folder outside it, `../../../x` or `/proc/x` fails with an error
 * naming the folder, nothing is written there, and SIGTERM still ends the worker.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Queue } from "bullmq";
import { collectProvenance, expandGrid, workerTaskModules, type RunJob } from "../../src/experiments";
import { TRIAL_QUEUE, tsmlSourceDir, type TrialJobData } from "../../src/queue";
import { tempDir } from "../helpers";
import { TINY_SYNTHETIC_GRID } from "../experiments/grids";
import { RedisServer } from "../queue/redisServer";
import { startCli, type CliProcess } from "./support";

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

  it("3. runDir outside the runs folder, ../../../x and /proc/x fail naming the folder; nothing is written; SIGTERM ends the worker", async () => {
    assert.ok(worker.output().includes(`into ${path.join(workerDir, "runs")}`), worker.output());
    const [run] = expandGrid(TINY_SYNTHETIC_GRID);
    const coordinatorRuns = path.join(root, "coordinator", "runs");
    const outside = path.join(root, "elsewhere", "x");
    const bad = [outside, "../../../x", "/proc/x"];
    const queue = new Queue<TrialJobData>(TRIAL_QUEUE, { connection: { url: redis.url } });
    try {
      for (const [i, runDir] of bad.entries()) {
        const job: RunJob = { run, runDir, provenance: collectProvenance(), taskModules: workerTaskModules(run.task), cacheDir: path.join(coordinatorRuns, ".cache") };
        await queue.add(run.id, { job, runsDir: coordinatorRuns, env: {}, tsmlDir: tsmlSourceDir() }, { jobId: `bad-${i}`, attempts: 1 });
      }
      const reasons: string[] = [];
      for (const [i] of bad.entries()) {
        while ((await queue.getJobState(`bad-${i}`)) !== "failed") await new Promise((r) => setTimeout(r, 100));
        reasons.push((await queue.getJob(`bad-${i}`))!.failedReason);
      }
      assert.equal(reasons.length, 3);
      assert.equal(reasons[0], `trial job: runDir ${JSON.stringify(outside)} is not inside it (it must stay inside ${coordinatorRuns})`);
      assert.equal(reasons[1], `trial job: runDir "../../../x" contains ".." (it must stay inside ${coordinatorRuns})`);
      assert.equal(reasons[2], `trial job: runDir "/proc/x" is not inside it (it must stay inside ${coordinatorRuns})`);
    } finally {
      await queue.close();
    }
    assert.equal(fs.existsSync(path.join(root, "elsewhere")), false, "nothing written outside");
    assert.equal(fs.existsSync(path.join(root, "d1", "x")), false, "nothing written at ../../../x");
    assert.deepEqual(fs.readdirSync(path.join(workerDir, "runs")), [], "no trial folder was made");
    worker.child.kill("SIGTERM");
    const exit = await new Promise<number | null>((resolve) => worker.child.once("exit", (code) => resolve(code)));
    assert.equal(exit, 143, worker.output());
  });
});
