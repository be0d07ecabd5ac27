/**
 * A whole Longformer training step through tsml's Trainer, side by side with the same step in HF's PyTorch
 * (bench/trainer/hf_step.py, HF's usual loop) in the same run:
 *
 *   node dist/bench/trainer/longformerStep.js [--length 1024] [--configs 1x1,8x1,1x8] [--repeats 3] [--warmup 20] [--threads 1,2]
 *        [--base] [--checkpointing] [--no-hf] [--help]
 *
 * One step = `accumulation` micro-batches of `batch` sequences (forward, backward, accumulated), gradient clipping
 * at norm 1, AdamW (weight decay 0.01 except biases and LayerNorm), the linear schedule with warm-up; dropout on.
 * tsml's step is the Trainer's, with everything it does per step (loss SUM normalised once, the noise-scale
 * estimate, the history). Configurations are BATCHxACCUMULATION. Per configuration and thread count: the median
 * process CPU time and wall time per optimizer step over `--repeats` steps after `--warmup` untimed ones (V8 compiles
 * tfjs's JavaScript and tiers up its WebAssembly over the first tens of steps; HF gets the same warm-up), the peak RSS, and
 * the ratios tsml / HF. `--base` is longformer-base-4096's sizes (768 hidden, 12 layers, window 512).
 */
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../../src/backend";
import { LongformerForSequenceClassification, type LongformerLabelledBatch } from "../../src/models/longformer";
import { Trainer, type TrainingData } from "../../src/train";
import { BASE_SIZES, BENCH_SIZES, hfSizeFlags, median, runHfScript } from "../hfReference";

const USAGE = `usage: node dist/bench/trainer/longformerStep.js [--length N] [--configs BxA,...] [--repeats R] [--threads T,...]
    [--base] [--checkpointing] [--no-hf]
  --length         tokens per sequence (default 1024)
  --configs        per-device batch x accumulation steps (default 1x1 8x1 1x8; with --base 1x1)
  --repeats        timed optimizer steps (default 3; with --base 2)
  --warmup         untimed optimizer steps before them, tsml's and HF's alike (default 20; with --base 1)
  --threads        thread counts, tsml's (native BLAS and kernels) and torch's alike (default 1 2)
  --base           longformer-base-4096's sizes (default: hidden 128, 2 layers, 4 heads, intermediate 512, window 64)
  --checkpointing  gradient checkpointing in both
  --no-hf          skip Hugging Face's PyTorch Longformer`;

interface StepConfig {
  batch: number;
  accumulation: number;
}

interface Measure {
  config: string;
  threads: number;
  cpuMs: number;
  wallMs: number;
  peakRssMb: number;
}

function parseConfig(text: string): StepConfig {
  const match = /^(\d+)x(\d+)$/.exec(text);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) throw new Error(`--configs ${text}: expected BATCHxACCUMULATION, e.g. 8x1 or 1x8`);
  return { batch: Number(match[1]), accumulation: Number(match[2]) };
}

function wholeNumbers(flag: string, values: string[]): number[] {
  return values.map((v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${flag} ${v}: expected a whole number >= 1`);
    return Number(v);
  });
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      length: { type: "string", default: "1024" },
      configs: { type: "string", multiple: true },
      repeats: { type: "string" },
      warmup: { type: "string" },
      threads: { type: "string", multiple: true, default: ["1", "2"] },
      base: { type: "boolean", default: false },
      checkpointing: { type: "boolean", default: false },
      "no-hf": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  // Lists come comma-separated (`--threads 1,2`) or with the flag repeated (`--threads 1 --threads 2`).
  const list = (v: string[] | undefined) => v?.flatMap((x) => x.split(",")).filter((x) => x !== "");
  return {
    help: values.help,
    base: values.base,
    length: wholeNumbers("--length", [values.length])[0],
    configs: (list(values.configs) ?? (values.base ? ["1x1"] : ["1x1", "8x1", "1x8"])).map(parseConfig),
    repeats: wholeNumbers("--repeats", [values.repeats ?? (values.base ? "2" : "3")])[0],
    warmup: wholeNumbers("--warmup", [values.warmup ?? (values.base ? "1" : "20")])[0],
    threads: wholeNumbers("--threads", list(values.threads) ?? ["1", "2"]),
    checkpointing: values.checkpointing,
    hf: !values["no-hf"],
    sizes: values.base ? BASE_SIZES : BENCH_SIZES,
  };
}

type Options = ReturnType<typeof parseOptions>;

/** `examples` copies of HF's bench row (0, 4 + (i·7919) mod (vocab − 10), ..., 2) with labels i mod 2. */
function benchData(examples: number, length: number, vocab: number): TrainingData<LongformerLabelledBatch> {
  const row = Array.from({ length }, (_, i) => (i === 0 ? 0 : i === length - 1 ? 2 : 4 + ((i * 7919) % (vocab - 10))));
  return {
    size: examples,
    collate: (indices) => ({
      inputIds: tf.tensor2d(
        indices.map(() => row),
        [indices.length, length],
        "int32",
      ),
      labels: tf.tensor1d(
        indices.map((i) => i % 2),
        "int32",
      ),
    }),
  };
}

/** Median CPU and wall ms per optimizer step of the Trainer, after `options.warmup` warm-up steps. */
async function measureTsml(options: Options, config: StepConfig, threads: number): Promise<Measure> {
  const s = options.sizes;
  const model = LongformerForSequenceClassification.create(
    {
      vocab_size: s.vocab,
      hidden_size: s.hidden,
      num_hidden_layers: s.layers,
      num_attention_heads: s.heads,
      intermediate_size: s.intermediate,
      attention_window: s.window,
      max_position_embeddings: Math.max(4098, options.length + 2),
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
    },
    { seed: 1 },
  );
  const steps = options.warmup + options.repeats;
  const stepEnds: { wall: number; cpu: number }[] = [];
  const now = () => {
    const used = process.cpuUsage();
    return { wall: performance.now(), cpu: (used.user + used.system) / 1000 };
  };
  const trainer = new Trainer({
    model: model.asTrainableModel(),
    trainData: benchData(config.batch * config.accumulation * steps, options.length, s.vocab),
    args: {
      perDeviceBatchSize: config.batch,
      gradientAccumulationSteps: config.accumulation,
      learningRate: 1e-4,
      weightDecay: 0.01,
      warmupSteps: 100,
      lrSchedule: "linear",
      maxGradNorm: 1,
      maxSteps: steps,
      loggingSteps: steps,
      progress: "none",
      gradientCheckpointing: options.checkpointing,
      seed: 1,
    },
    callbacks: [{ onStepEnd: () => void stepEnds.push(now()) }],
  });
  const before = tf.memory().numTensors;
  await trainer.train();
  trainer.dispose();
  model.dispose();
  if (tf.memory().numTensors > before) throw new Error(`tensor leak: ${tf.memory().numTensors - before} tensors left by the Trainer`);
  if (stepEnds.length !== steps) throw new Error(`the Trainer took ${stepEnds.length} steps, expected ${steps}`);
  const timed = stepEnds
    .slice(options.warmup)
    .map((end, i) => ({ wall: end.wall - stepEnds[options.warmup - 1 + i].wall, cpu: end.cpu - stepEnds[options.warmup - 1 + i].cpu }));
  return {
    config: `${config.batch}x${config.accumulation}`,
    threads,
    cpuMs: median(timed.map((t) => t.cpu)),
    wallMs: median(timed.map((t) => t.wall)),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

function measureHf(options: Options, threads: number): Measure[] {
  const s = options.sizes;
  const args = [
    "--threads",
    String(threads),
    "--length",
    String(options.length),
    "--repeats",
    String(options.repeats),
    "--warmup",
    String(options.warmup),
    "--configs",
    ...options.configs.map((c) => `${c.batch}x${c.accumulation}`),
    ...hfSizeFlags(s, options.checkpointing),
  ];
  const script = path.resolve(__dirname, "..", "..", "..", "bench", "trainer", "hf_step.py");
  const lines = runHfScript<{ config: string; ms: number; cpu_ms: number; peak_rss_mb: number }>(script, args);
  return (lines ?? []).map((r) => ({ config: r.config, threads, cpuMs: r.cpu_ms, wallMs: r.ms, peakRssMb: r.peak_rss_mb }));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) return console.log(USAGE);
  const s = options.sizes;
  console.log(
    `Longformer training step (AdamW, clip 1.0, linear schedule, dropout 0.1), ${options.length} tokens, checkpointing ${options.checkpointing ? "on" : "off"}: ` +
      `hidden ${s.hidden}, ${s.layers} layers, ${s.heads} heads, intermediate ${s.intermediate}, window ${s.window}, vocab ${s.vocab}; ` +
      `median of ${options.repeats} steps after ${options.warmup} warm-up step(s); load ${os.loadavg()[0].toFixed(2)}`,
  );
  const tsml: Measure[] = [];
  const hf: Measure[] = [];
  for (const threads of options.threads) {
    console.log(describeBackend(await initBackend({ threads })));
    for (const config of options.configs) tsml.push(await measureTsml(options, config, threads));
    if (options.hf) hf.push(...measureHf(options, threads));
  }
  const ratio = (a: number, b?: number) => (b ? (a / b).toFixed(2) : "—");
  const shown = (v?: number) => (v === undefined ? "—" : v.toFixed(0));
  console.log(
    "| batch x accumulation | threads | tsml CPU ms | HF CPU ms | CPU ratio | tsml wall ms | HF wall ms | wall ratio | tsml peak RSS MB | HF peak RSS MB |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const t of tsml) {
    const h = hf.find((r) => r.config === t.config && r.threads === t.threads);
    console.log(
      `| ${t.config} | ${t.threads} | ${shown(t.cpuMs)} | ${shown(h?.cpuMs)} | ${ratio(t.cpuMs, h?.cpuMs)} | ${shown(t.wallMs)} | ${shown(h?.wallMs)} | ${ratio(t.wallMs, h?.wallMs)} | ` +
        `${shown(t.peakRssMb)} | ${shown(h?.peakRssMb)} |`,
    );
  }
  console.log(`load at the end ${os.loadavg()[0].toFixed(2)}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
