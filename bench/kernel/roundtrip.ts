/**
 * Kernel latency: time from process start to the first cell result, and the median round trip of a trivial cell,
 * for the "TypeScript ML" kernel and for plain tslab (node_modules/tslab/bin/tslab kernel), measured in one run.
 *
 * Trials alternate between the two kernels (the machine's load drifts); medians over trials are reported.
 * Run: npm run build && node dist/bench/kernel/roundtrip.js [--cells N] [--trials N]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "../../src/cli/args";
import { KernelClient } from "../../test/kernel/client";
import { kernelspecJson } from "../../src/kernel";
import { tsmlPackageRoot } from "../../src/package";

interface Timing {
  startToFirstResultMs: number;
  medianRoundTripMs: number;
}

async function measure(argv: string[], cells: number): Promise<Timing> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "tsml-kernel-bench-"));
  const started = performance.now();
  const kernel = await KernelClient.start({ argv, cwd });
  try {
    const first = await kernel.execute("1 + 1");
    assertShowsTwo(first.outputs.map((m) => JSON.stringify(m.content)).join("\n"), argv);
    const startToFirstResultMs = performance.now() - started;
    const times: number[] = [];
    for (let i = 0; i < cells; i++) {
      const t = performance.now();
      await kernel.execute(`${i} + 1`);
      times.push(performance.now() - t);
    }
    return { startToFirstResultMs, medianRoundTripMs: median(times) };
  } finally {
    await kernel.shutdown().catch(() => kernel.process.kill("SIGKILL"));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function medianTiming(runs: Timing[]): Timing {
  return {
    startToFirstResultMs: median(runs.map((r) => r.startToFirstResultMs)),
    medianRoundTripMs: median(runs.map((r) => r.medianRoundTripMs)),
  };
}

function assertShowsTwo(outputs: string, argv: string[]): void {
  if (!/(text\/plain":"2"|"text":"2\\n")/.test(outputs)) throw new Error(`${argv.join(" ")} did not show 2 for 1 + 1: ${outputs}`);
}

async function main(): Promise<void> {
  const { options } = parseArgs(process.argv.slice(2), { cells: "number", trials: "number" });
  const cells = options.cells ?? 15;
  const trials = options.trials ?? 3;
  const tsmlArgv = kernelspecJson().argv as string[];
  const tslabArgv = [process.execPath, path.join(tsmlPackageRoot(), "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"];
  const tsmlRuns: Timing[] = [];
  const tslabRuns: Timing[] = [];
  for (let trial = 0; trial < trials; trial++) {
    tsmlRuns.push(await measure(tsmlArgv, cells));
    tslabRuns.push(await measure(tslabArgv, cells));
  }
  const tsml = medianTiming(tsmlRuns);
  const tslab = medianTiming(tslabRuns);
  const row = (label: string, a: number, b: number) =>
    `${label.padEnd(28)} ${a.toFixed(0).padStart(8)} ms ${b.toFixed(0).padStart(8)} ms ${(a / b).toFixed(2).padStart(8)}`;
  console.log(
    `kernel latency, median of ${trials} alternating trials (${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}, node ${process.version}; backend: none — no tensors involved)`,
  );
  console.log(`${"".padEnd(28)} ${"tsml".padStart(11)} ${"tslab".padStart(11)} ${"tsml/tslab".padStart(8)}`);
  console.log(row("start -> first result", tsml.startToFirstResultMs, tslab.startToFirstResultMs));
  console.log(row(`median round trip (${cells} cells)`, tsml.medianRoundTripMs, tslab.medianRoundTripMs));
  console.log(`goals: start < 3000 ms, round trip < 300 ms`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
