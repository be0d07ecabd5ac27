/** Benchmark: rendering a 10,000-step, 8-run comparison to SVG and PNG, and the training slowdown of a live chart. */
import * as os from "os";
import { performance } from "perf_hooks";
import { liveChart, lossCurveChart, runComparisonChart, svgToPNG } from "../../src/plots";
import { syntheticHistory, syntheticRuns } from "./synthetic";

async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

let sink = 0;

/** A fixed amount of CPU work standing in for one training step's compute (same work with and without the chart). */
function fakeStep(iterations: number): void {
  let x = sink;
  for (let i = 0; i < iterations; i++) x = (x * 1.0000001 + i) % 1e9;
  sink = x;
}

/** Iterations of `fakeStep` that take about `ms` milliseconds on this machine now. */
function calibrate(ms: number): number {
  const probe = 2_000_000;
  const start = performance.now();
  fakeStep(probe);
  return Math.round((probe * ms) / (performance.now() - start));
}

/** Stands in for the kernel: serialises each bundle as the real one does before sending it. */
function installKernelStandIn(): void {
  const publish = (bundle: unknown) => void JSON.stringify(bundle);
  (globalThis as { __tsmlKernel?: unknown }).__tsmlKernel = { display: publish, update: publish };
}

async function simulatedTraining(steps: number, iterations: number, withLiveChart: boolean): Promise<[number, string]> {
  const live = withLiveChart ? liveChart((h) => lossCurveChart(h), { minIntervalMs: 250 }) : undefined;
  const history = syntheticHistory(steps, 16, 3);
  const start = performance.now();
  for (const record of history) {
    fakeStep(iterations);
    await live?.onLog(record);
  }
  const elapsed = performance.now() - start;
  const stats = live
    ? `${live.stats.renders} in-place updates, ${live.stats.renderMs.toFixed(0)} ms = ${((100 * live.stats.renderMs) / elapsed).toFixed(1)}% of wall time`
    : "";
  await live?.finish();
  return [elapsed, stats];
}

async function main(): Promise<void> {
  console.log(`renderer: vega 6 headless SVG + resvg PNG (no tfjs backend involved); node ${process.version}`);
  console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} (timings scale with load)`);
  const runs = syntheticRuns(10000, [8, 16, 32, 64], [1, 2]);
  const [chart, buildMs] = await timed(() => runComparisonChart(runs, { band: "none" }));
  const [, coldMs] = await timed(() => chart.toSVG());
  const svgTimes: number[] = [];
  const pngTimes: number[] = [];
  let svg = "";
  for (let i = 0; i < 5; i++) {
    const [s, ms] = await timed(() => chart.toSVG());
    svg = s;
    svgTimes.push(ms);
    pngTimes.push((await timed(() => svgToPNG(s)))[1]);
  }
  const [, pngFullMs] = await timed(() => chart.toPNG());
  const [, endToEndMs] = await timed(() => runComparisonChart(runs).toSVG());
  console.log(
    `8 runs x 10,000 steps (${runs.length * 10000} records, ${(JSON.stringify(chart.spec).length / 1024).toFixed(0)} KiB spec, ${(svg.length / 1024).toFixed(0)} KiB SVG)`,
  );
  console.log(`  build spec             ${buildMs.toFixed(0)} ms`);
  console.log(`  first SVG (loads vega) ${coldMs.toFixed(0)} ms`);
  console.log(`  SVG render             ${median(svgTimes).toFixed(0)} ms (median of 5)   goal < 1000 ms`);
  console.log(`  SVG -> PNG (resvg)     ${median(pngTimes).toFixed(0)} ms (median of 5)`);
  console.log(`  toPNG end to end       ${pngFullMs.toFixed(0)} ms                goal < 1000 ms`);
  console.log(`  runs -> spec -> SVG    ${endToEndMs.toFixed(0)} ms`);

  installKernelStandIn();
  const stepMs = 4;
  const iterations = calibrate(stepMs);
  await simulatedTraining(200, iterations, true); // warm-up: JIT and first-render costs are paid once per process
  const steps = 1500;
  const ratios: number[] = [];
  for (let pair = 0; pair < 3; pair++) {
    const [plain] = await simulatedTraining(steps, iterations, false);
    const [live, liveStats] = await simulatedTraining(steps, iterations, true);
    ratios.push(live / plain);
    console.log(`  pair ${pair + 1}: ${plain.toFixed(0)} ms without, ${live.toFixed(0)} ms with a live loss chart (${liveStats})`);
  }
  console.log(
    `live loss chart, ${steps} fake steps of ~${stepMs} ms CPU each: median slowdown ratio ${median(ratios).toFixed(3)} (goal <= 1.02; noisy under load, the render share above is the direct measure)`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
