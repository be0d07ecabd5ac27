/**
 * Experiment-grid benchmark (node dist/bench/study/grid.js [--skip-longformer]):
 * 1. wall time of a 4-run grid (8,192 steps a run, so process start-up is not most of it) in parallel worker processes (workers = cores) vs the same grid serially
 *    (workers = 1), side by side in one invocation (goal on 2 cores: ratio <= 0.6);
 * 2. the study's throughput: training tokens per second of a grid of spam-longformer runs in parallel
 *    (all workers together) next to what a single run alone gets (data and pretrained model prepared beforehand).
 * Other processes on the machine take cores away from the workers: run it on an otherwise idle machine.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describeBackend, initBackend } from "../../src/backend";
import { defaultWorkerCount, getExperimentTask, runGrid, type GridSpec, type RunMetrics } from "../../src/experiments";
import { studyGrid } from "../../src/study";

function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tsml-bench-study-"));
}

async function timedGrid(spec: GridSpec, workers: number, root: string, name: string) {
  const summary = await runGrid(spec, { runsDir: root, name, workers });
  const failed = summary.runs.filter((r) => r.status !== "finished");
  if (failed.length) throw new Error(`bench grid ${name}: ${failed.map((f) => `${f.id}: ${f.error}`).join("; ")}`);
  const metrics = summary.runs.map((r) => JSON.parse(fs.readFileSync(path.join(r.runDir, "metrics.json"), "utf8")) as RunMetrics);
  return { seconds: summary.wallTimeSeconds, metrics };
}

async function parallelVsSerial(root: string, workers: number): Promise<void> {
  const spec: GridSpec = {
    task: "synthetic-logreg",
    taskConfig: { trainExamples: 4096, devExamples: 256, testExamples: 256, features: 32 },
    training: { learningRate: 0.05, epochs: 8, perDeviceBatchSize: 4, loggingSteps: 10, saveSteps: 800 },
    axes: { seed: [0, 1, 2, 3] },
  };
  const serial = await timedGrid(spec, 1, root, "serial");
  const parallel = await timedGrid(spec, workers, root, "parallel");
  console.log(`4-run grid (synthetic-logreg, ${serial.metrics[0].steps} steps each):`);
  console.log(`  serial (1 worker)      ${serial.seconds.toFixed(1)} s`);
  console.log(`  parallel (${workers} workers)   ${parallel.seconds.toFixed(1)} s`);
  console.log(`  ratio parallel/serial  ${(parallel.seconds / serial.seconds).toFixed(2)}   (goal <= 0.6 on 2 cores)`);
}

async function studyThroughput(root: string, workers: number): Promise<void> {
  const quick = studyGrid({ size: "quick" });
  const spec: GridSpec = { ...quick, variants: (quick.variants ?? []).filter((v) => v.perDeviceBatchSize === 8) };
  const single: GridSpec = { ...spec, variants: [spec.variants![0]] };
  // Data, tokenizer and the pretrained model are prepared once, outside the timings.
  await getExperimentTask(spec.task).prepare?.(spec.taskConfig ?? {}, { cacheDir: path.join(root, ".cache"), log: (line) => console.log(`  (setup) ${line}`) });
  const alone = await timedGrid(single, 1, root, "single");
  const grid = await timedGrid(spec, workers, root, "grid");
  const tokens = (ms: RunMetrics[]) => ms.reduce((sum, m) => sum + m.trainTokens, 0);
  const perRun = grid.metrics.map((m) => m.tokensPerSecond ?? NaN);
  console.log(`spam-longformer quick study, the ${spec.variants!.length} batch-8 runs:`);
  console.log(`  single run alone          ${(alone.metrics[0].tokensPerSecond ?? NaN).toFixed(0)} tokens/s (training time only)`);
  console.log(`  each run inside the grid  ${perRun.map((t) => t.toFixed(0)).join(", ")} tokens/s`);
  console.log(
    `  whole grid (${workers} workers)     ${(tokens(grid.metrics) / grid.seconds).toFixed(0)} tokens/s over its wall time of ${grid.seconds.toFixed(0)} s, ` +
      `vs ${(tokens(alone.metrics) / alone.seconds).toFixed(0)} for the single run over its wall time`,
  );
}

async function main(): Promise<void> {
  console.log(describeBackend(await initBackend()));
  const workers = defaultWorkerCount();
  console.log(`cores: ${os.cpus().length}, workers: ${workers}`);
  const root = tempRoot();
  try {
    await parallelVsSerial(root, workers);
    if (!process.argv.includes("--skip-longformer")) await studyThroughput(root, workers);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
