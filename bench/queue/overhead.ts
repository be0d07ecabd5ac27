/**
 * Queue overhead benchmark (node dist/bench/queue/overhead.js [--workers N] [--runs N]): the same grid of
 * synthetic-logreg runs on N local worker processes and on a Redis queue served by N `tsml worker` processes
 * (concurrency 1 each, started and connected before the clock starts, as long-lived workers are), side by side in
 * one invocation: wall times, their ratio, and the overhead per trial. Needs redis-server (Debian package) on the
 * PATH; it is started on a free loopback port and stopped at the end. Run it on an otherwise idle machine.
 */
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runGrid, TIMING_COLUMNS, type GridSpec, type RunResult } from "../../src/experiments";
import { parseArgs } from "../../src/cli/args";
import { queueExecutor } from "../../src/queue";
import { RedisServer } from "../../test/queue/redisServer";

const CLI = path.join(__dirname, "..", "..", "src", "cli", "main.js");

function modelNumbers(rows: RunResult[]): string {
  return JSON.stringify(rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING_COLUMNS.includes(k as keyof RunResult)))));
}

/** Starts `tsml worker` processes and resolves once each is connected and serving. */
async function startWorkers(url: string, count: number, runsDir: string): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [CLI, "worker", "--queue", url, "--runs-dir", runsDir], { stdio: ["ignore", "pipe", "inherit"] });
      return new Promise<ChildProcess>((resolve, reject) => {
        let text = "";
        child.stdout.on("data", (d) => {
          text += d;
          if (text.includes("serving queue")) resolve(child);
        });
        child.on("exit", (code) => reject(new Error(`tsml worker exited with ${code}`)));
      });
    }),
  );
}

async function main(): Promise<void> {
  const { options } = parseArgs(process.argv.slice(2), { workers: "number", runs: "number" });
  const workers = options.workers ?? 2;
  const runs = options.runs ?? 8;
  const spec: GridSpec = {
    task: "synthetic-logreg",
    taskConfig: { trainExamples: 1024, devExamples: 256, testExamples: 256, features: 32 },
    training: { learningRate: 0.05, epochs: 2, perDeviceBatchSize: 4, loggingSteps: 10, saveSteps: 100 },
    axes: { seed: Array.from({ length: runs }, (_, i) => i) },
  };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tsml-bench-queue-"));
  fs.mkdirSync(path.join(root, "redis"));
  const redis = await RedisServer.start(path.join(root, "redis"));
  let servers: ChildProcess[] = [];
  try {
    const local = await runGrid(spec, { runsDir: path.join(root, "runs"), name: "local", workers });
    const startedAt = Date.now();
    servers = await startWorkers(redis.url, workers, path.join(root, "runs"));
    const startup = (Date.now() - startedAt) / 1000;
    const queued = await runGrid(spec, { runsDir: path.join(root, "runs"), name: "queued", executor: queueExecutor(redis.url) });
    for (const summary of [local, queued]) {
      const failed = summary.runs.filter((r) => r.status !== "finished");
      if (failed.length) throw new Error(failed.map((f) => `${f.id}: ${f.error}`).join("; "));
    }
    const steps = local.results[0]?.steps;
    console.log(`${runs}-run grid (synthetic-logreg, ${steps} steps each), ${workers} workers, ${os.cpus().length} cores:`);
    console.log(`  local worker processes      ${local.wallTimeSeconds.toFixed(1)} s`);
    console.log(`  Redis queue + tsml workers  ${queued.wallTimeSeconds.toFixed(1)} s   (workers connected beforehand in ${startup.toFixed(1)} s)`);
    console.log(`  ratio queue/local           ${(queued.wallTimeSeconds / local.wallTimeSeconds).toFixed(2)}`);
    console.log(`  overhead per trial          ${(((queued.wallTimeSeconds - local.wallTimeSeconds) * workers) / runs).toFixed(2)} s of a worker`);
    console.log(`  same numbers                ${modelNumbers(local.results) === modelNumbers(queued.results) ? "yes" : "NO"}`);
  } finally {
    for (const server of servers) server.kill("SIGTERM");
    await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once("exit", r)))));
    await redis.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
