/**
 * Longformer benchmark, side by side with Hugging Face's PyTorch Longformer in the same run:
 *
 *   node dist/bench/longformer/forwardBackward.js [--lengths 1024 4096] [--repeats 3] [--warmup 30] [--threads 1 2] [--checkpointing]
 *        [--base] [--hidden 128 --layers 2 --heads 4 --intermediate 512 --window 64 --vocab 1000] [--no-hf] [--help]
 *
 * Times forward + backward (loss gradients w.r.t. every parameter, through frugalVariableGrads as the Trainer
 * computes them) of LongformerForSequenceClassification at
 * batch 1 with dropout on, by default the bench configuration (hidden 128, 2 layers, 4 heads, window 64);
 * `--base` is longformer-base-4096 (768 hidden, 12 layers, 12 heads, 3072 intermediate, window 512, vocab 50265)
 * at 1024 tokens. (A whole training step, with AdamW, clipping and the schedule: bench/trainer/longformerStep.ts.)
 * At each thread count (`--threads`, default 1 and 2: the native BLAS's threads, and torch's) it reports median
 * process CPU time (the load-independent figure on a shared machine), wall time, tokens per CPU-second, the
 * process's peak RSS so far (lengths run in ascending order, as in HF's script) and the WASM heap's size (its
 * high-water mark: the heap never shrinks, and wasm32 caps it at 4 GiB). Then it runs HF's
 * `hf_fwdbwd_bench.py` with the same sizes, threads and repeats and prints the ratios tsml / HF. tsml is timed after
 * `--warmup` steps (default 30 for the small configuration, 1 for `--base`): V8 compiles tfjs's JavaScript and tiers
 * up the WebAssembly over the first few tens of steps (the small configuration's first steps take up to 1.7x the CPU of
 * later ones, on background compiler threads); HF's script warms up one step, which is its steady state. HF's set-up is looked for
 * in `$HF_BENCH_DIR`, else `shared/bench/hf` beside the checkout; its Python sources in `$HF_ORACLE_ROOT`
 * (default /tmp/hf-oracle): `bash shared/bench/hf/setup.sh` writes them (see its README).
 */
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../../src/backend";
import { LongformerForSequenceClassification, longformerClassificationLoss } from "../../src/models/longformer";
import { frugalVariableGrads } from "../../src/train";
import { BASE_SIZES, BENCH_SIZES, hfBenchDir, hfSizeFlags, median, runHfScript, type LongformerBenchSizes } from "../hfReference";

interface Options {
  lengths: number[];
  repeats: number;
  warmup: number;
  threads: number[];
  checkpointing: boolean;
  hf: boolean;
  sizes: LongformerBenchSizes;
}

interface Measure {
  n: number;
  threads: number;
  cpuMs: number;
  wallMs: number;
  peakRssMb: number;
  /** Size of the WASM heap (it only grows, so this is its high-water mark); undefined off WASM and for HF. */
  wasmHeapMb?: number;
}

/** The WASM backend's heap size in MB, or undefined on another backend. */
function wasmHeapMb(): number | undefined {
  const memory = (tf.backend() as unknown as { wasm?: { asm?: { memory?: { buffer: ArrayBuffer } } } }).wasm?.asm?.memory;
  return memory ? memory.buffer.byteLength / 2 ** 20 : undefined;
}

const USAGE = `usage: node dist/bench/longformer/forwardBackward.js [--lengths N ...] [--repeats R] [--warmup W] [--threads T ...]
    [--base] [--checkpointing] [--no-hf] [--hidden H --layers L --heads A --intermediate I --window W --vocab V]
  --base           longformer-base-4096's sizes (default: the small bench configuration)
  --repeats        timed steps, tsml's and HF's (default 3; with --base 1)
  --warmup         tsml's untimed steps before them (default 30; with --base 1)
  --threads        thread counts to measure, tsml's native BLAS and torch alike (default 1 2)
  --no-hf          skip Hugging Face's PyTorch Longformer`;

function parseOptions(argv: string[]): Options {
  const base = argv.includes("--base");
  const options: Options = {
    lengths: base ? [1024] : [1024, 4096],
    repeats: base ? 1 : 3,
    warmup: base ? 1 : 30,
    threads: [1, 2],
    checkpointing: argv.includes("--checkpointing"),
    hf: !argv.includes("--no-hf"),
    sizes: { ...(base ? BASE_SIZES : BENCH_SIZES) },
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const numbers: number[] = [];
    while (i + 1 < argv.length && /^\d+$/.test(argv[i + 1])) numbers.push(Number(argv[++i]));
    if (flag === "--lengths") options.lengths = numbers;
    else if (flag === "--repeats") options.repeats = numbers[0];
    else if (flag === "--warmup") options.warmup = numbers[0];
    else if (flag === "--threads") options.threads = numbers;
    else if (flag.slice(2) in options.sizes) options.sizes[flag.slice(2) as keyof Options["sizes"]] = numbers[0];
    else if (!["--base", "--checkpointing", "--no-hf"].includes(flag)) throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  return options;
}

/** HF's token-id rule of hf_fwdbwd_bench.py: 0, then 4 + (i·7919) mod (vocab − 10), then 2. */
function idsOfLength(n: number, vocab: number): tf.Tensor2D {
  return tf.tensor2d(
    Array.from({ length: n }, (_, i) => (i === 0 ? 0 : i === n - 1 ? 2 : 4 + ((i * 7919) % (vocab - 10)))),
    [1, n],
    "int32",
  );
}

function measureTsml(options: Options, threads: number): Measure[] {
  const { sizes } = options;
  const model = LongformerForSequenceClassification.create(
    {
      vocab_size: sizes.vocab,
      hidden_size: sizes.hidden,
      num_hidden_layers: sizes.layers,
      num_attention_heads: sizes.heads,
      intermediate_size: sizes.intermediate,
      attention_window: sizes.window,
      max_position_embeddings: 4098,
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
    },
    { seed: 1 },
  );
  if (options.checkpointing) model.gradientCheckpointingEnable();
  const variables = model.trainableVariables();
  const labels = tf.tensor1d([1], "int32");
  const step = (ids: tf.Tensor) => {
    const { value, grads } = frugalVariableGrads(() => longformerClassificationLoss(model.forward({ inputIds: ids }, { training: true }), labels), variables);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  const results: Measure[] = [];
  for (const n of options.lengths) {
    const ids = idsOfLength(n, sizes.vocab);
    const before = tf.memory().numTensors;
    for (let w = 0; w < options.warmup; w++) step(ids);
    const cpu: number[] = [];
    const wall: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      const wallStart = performance.now();
      const cpuStart = process.cpuUsage();
      step(ids);
      const used = process.cpuUsage(cpuStart);
      wall.push(performance.now() - wallStart);
      cpu.push((used.user + used.system) / 1000);
    }
    if (tf.memory().numTensors !== before) throw new Error(`tensor leak: ${tf.memory().numTensors - before} tensors per step`);
    ids.dispose();
    results.push({ n, threads, cpuMs: median(cpu), wallMs: median(wall), peakRssMb: process.resourceUsage().maxRSS / 1024, wasmHeapMb: wasmHeapMb() });
  }
  labels.dispose();
  model.dispose();
  return results;
}

/** Runs HF's script (Debian's torch, `threads` threads) with the same sizes; null when it is not set up here. */
function measureHf(options: Options, threads: number): Measure[] | null {
  const s = options.sizes;
  const args = [
    "--threads",
    String(threads),
    "--repeats",
    String(options.repeats),
    "--lengths",
    ...options.lengths.map(String),
    ...hfSizeFlags(s, options.checkpointing),
  ];
  const lines = runHfScript<{ n: number; ms: number; cpu_ms: number; peak_rss_mb: number }>(path.join(hfBenchDir(), "hf_fwdbwd_bench.py"), args);
  return lines?.map((r) => ({ n: r.n, threads, cpuMs: r.cpu_ms, wallMs: r.ms, peakRssMb: r.peak_rss_mb })) ?? null;
}

async function main(): Promise<void> {
  if (process.argv.includes("--help")) return console.log(USAGE);
  const options = parseOptions(process.argv.slice(2));
  const s = options.sizes;
  const what = "forward + backward";
  console.log(
    `${what}, batch 1, dropout 0.1, checkpointing ${options.checkpointing ? "on" : "off"}: hidden ${s.hidden}, ${s.layers} layers, ` +
      `${s.heads} heads, intermediate ${s.intermediate}, window ${s.window}, vocab ${s.vocab}; median of ${options.repeats} after ${options.warmup} warm-up step(s) (HF: 1); load ${os.loadavg()[0].toFixed(2)}`,
  );
  const tsml: Measure[] = [];
  const hf: Measure[] = [];
  for (const threads of options.threads) {
    console.log(describeBackend(await initBackend({ threads })));
    tsml.push(...measureTsml(options, threads));
    if (options.hf) hf.push(...(measureHf(options, threads) ?? []));
  }
  const ratio = (a: number, b?: number) => (b ? (a / b).toFixed(2) : "—");
  const shown = (v?: number) => (v === undefined ? "—" : v.toFixed(0));
  console.log(
    "| tokens | threads | tsml CPU ms | HF CPU ms | CPU ratio | tsml wall ms | HF wall ms | wall ratio | tsml peak RSS MB | HF peak RSS MB | tsml WASM heap MB | tsml tokens/CPU-s |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const t of tsml) {
    const h = hf.find((r) => r.n === t.n && r.threads === t.threads);
    console.log(
      `| ${t.n} | ${t.threads} | ${shown(t.cpuMs)} | ${shown(h?.cpuMs)} | ${ratio(t.cpuMs, h?.cpuMs)} | ${shown(t.wallMs)} | ${shown(h?.wallMs)} | ${ratio(t.wallMs, h?.wallMs)} | ` +
        `${shown(t.peakRssMb)} | ${shown(h?.peakRssMb)} | ${shown(t.wasmHeapMb)} | ${(t.n / (t.cpuMs / 1000)).toFixed(0)} |`,
    );
  }
  const oneThread = tsml.filter((t) => t.threads === options.threads[0]);
  if (oneThread.length > 1) {
    const [first, last] = [oneThread[0], oneThread[oneThread.length - 1]];
    console.log(
      `tsml cpu(${last.n}) / cpu(${first.n}) = ${(last.cpuMs / first.cpuMs).toFixed(2)} at ${first.threads} thread(s) (linear: ${(last.n / first.n).toFixed(0)})`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
