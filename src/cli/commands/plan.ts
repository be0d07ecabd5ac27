/**
 * `tsml plan --model DIR_OR_ID --max-length N --memory 16GiB --devices 8 [--target-batch B]`: how many examples
 * fit per device and how much gradient accumulation reaches the target effective batch. Reads only config.json
 * (from a folder, or fetched alone from the Hugging Face Hub).
 */
import * as fs from "fs";
import * as path from "path";
import { pretrainedFolder } from "../../hub";
import { ensureWritableFolder } from "../../io";
import { LongformerConfig } from "../../models/longformer";
import { batchPlanChart, defaultMemoryBudget, formatBytes, parseMemorySize, planBatch, type PlanBackend } from "../../plan";
import { parseArgs } from "../args";
import type { Command } from "../command";
import { requirePositiveInteger } from "../../util";

const USAGE = `usage: tsml plan --model DIR_OR_ID --max-length N [--memory 16GiB] [--devices 8] [--target-batch B | --noise-scale X]
                 [--checkpointing] [--backend wasm|cpu|tensorflow] [--margin 0.1] [--chart FILE] [--json]

Predicts the peak training memory of a Longformer classifier and prints the largest per-device batch that fits,
the gradient accumulation that reaches the target effective batch, and why.

  --model DIR_OR_ID   folder with config.json, or a Hub repo id (only config.json is downloaded)
  --max-length N      tokens per example (the longest sequence you train on)
  --memory SIZE       memory per device: 16GiB, 500MB, 2.5GB (default: the 4 GiB WASM heap, or half the RAM)
  --devices N         data-parallel devices (default 1)
  --target-batch B    effective batch (examples per optimizer step over all devices) to reach
  --noise-scale X     or: the gradient noise scale the Trainer reported (the target is its rounded value)
  --checkpointing     plan with gradient checkpointing
  --backend NAME      memory model of this tsml backend (default wasm)
  --margin F          fraction of memory kept free (default 0.1)
  --chart FILE        write the predicted-memory chart (.svg, .png, .html or .json)
  --json              print the plan as JSON instead of text`;

const BACKENDS: readonly PlanBackend[] = ["wasm", "cpu", "tensorflow"];

/** Reads config.json of a local folder or a Hub repo (downloading config.json only). */
async function readConfig(location: string): Promise<LongformerConfig> {
  const folder = await pretrainedFolder(location, {}, async (repo) => {
    await repo.file("config.json");
  });
  const file = path.join(folder, "config.json");
  if (!fs.existsSync(file)) throw new Error(`--model ${location}: ${file} not found (expected a Longformer config.json)`);
  return LongformerConfig.fromJSON(fs.readFileSync(file, "utf8"), file);
}

function positiveInteger(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  requirePositiveInteger(value, `--${flag}`);
  return value;
}

/** The `plan` subcommand. */
export const command: Command = {
  summary: "how many examples fit per device, and how much accumulation reaches a target batch",
  run: async (argv) => {
    const { options } = parseArgs(argv, {
      model: "string",
      "max-length": "number",
      memory: "string",
      devices: "number",
      "target-batch": "number",
      "noise-scale": "number",
      checkpointing: "boolean",
      backend: "string",
      margin: "number",
      chart: "string",
      json: "boolean",
      help: "boolean",
    });
    if (options.help) {
      console.log(USAGE);
      return 0;
    }
    if (typeof options.model !== "string" || options["max-length"] === undefined) {
      console.error(`tsml plan: --model and --max-length are required\n\n${USAGE}`);
      return 2;
    }
    const backend = (options.backend ?? "wasm") as PlanBackend;
    if (!BACKENDS.includes(backend)) throw new Error(`--backend must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(options.backend)}`);
    const sequenceLength = positiveInteger(options["max-length"], "max-length")!;
    const devices = positiveInteger(options.devices, "devices");
    const targetEffectiveBatch = positiveInteger(options["target-batch"], "target-batch");
    const noiseScale = options["noise-scale"];
    if (noiseScale !== undefined && !(noiseScale > 0)) throw new Error(`--noise-scale must be a positive number, got ${noiseScale}`);
    if (noiseScale !== undefined && targetEffectiveBatch !== undefined) throw new Error("give --target-batch or --noise-scale, not both");
    const memoryBytes = typeof options.memory === "string" ? parseMemorySize(options.memory, "--memory") : defaultMemoryBudget(backend);
    // The chart's folder is checked before planning (a path such as /proc/x/c.svg is an error, not a hang).
    if (typeof options.chart === "string") ensureWritableFolder(path.dirname(path.resolve(options.chart)), "--chart");
    const config = await readConfig(options.model);
    const plan = planBatch({
      config,
      sequenceLength,
      memoryBytes,
      devices,
      targetEffectiveBatch,
      noiseScale,
      backend,
      checkpointing: options.checkpointing === true,
      safetyMargin: options.margin,
    });
    if (typeof options.chart === "string") await batchPlanChart(plan).save(options.chart);
    if (options.json) {
      const { curve, ...rest } = plan;
      console.log(JSON.stringify({ ...rest, curve }, null, 2));
    } else {
      console.log(`per-device batch:        ${plan.perDeviceBatchSize}${plan.fits ? "" : " (does NOT fit)"}`);
      console.log(`gradient accumulation:   ${plan.gradientAccumulationSteps}`);
      console.log(
        `effective batch:         ${plan.effectiveBatchSize} (${plan.perDeviceBatchSize} x ${plan.gradientAccumulationSteps} x ${plan.devices} devices)`,
      );
      console.log(`predicted peak:          ${formatBytes(plan.estimate.totalBytes)} of ${formatBytes(plan.memoryBytes)}`);
      if (!plan.estimate.calibrated)
        console.log(`memory model:            NOT calibrated for the ${plan.backend} backend (the cpu backend's model, unmeasured)`);
      console.log(`\n${plan.explanation}`);
    }
    return plan.fits ? 0 : 1;
  },
};
