/**
 * Calibration table of the batch planner's memory model (src/plan/memory.ts) against measured training steps,
 * with Hugging Face PyTorch's CPU peak for the same points as a second column:
 *
 *   [TSML_BACKEND=cpu] node dist/bench/planner/calibrate.js [--quick] [--no-hf] [--out bench/planner/calibration-wasm.md]
 *                                                       [--from bench/planner/calibration-wasm.json]
 *
 * `--from` reuses the measurements a previous run wrote (next to its --out) and only recomputes the predictions.
 *
 * Every point runs in a fresh process: one Trainer optimizer step (2 micro-batches of b examples, exact
 * accumulation, clipping, AdamW; dropout on) of LongformerForSequenceClassification, measured as what the backend
 * really holds at its peak (measureTrainingStepPeak: WASM heap bytes in use, or distinct cpu tensor buffers;
 * deterministic), next to tf.profile's tensor-byte peak (the old, over-counting figure), the WASM heap the
 * allocator claimed and the process's peak RSS. The rule, checked on every point (the process exits 1 otherwise):
 * the prediction is within 15% of the measured peak and never under it by more than the planner's default safety
 * margin (10%); on WASM the predicted heap (with the fragmentation allowance and base) is at least the heap claimed.
 * HF's column is `../shared/bench/hf/hf_fwdbwd_bench.py` (forward + backward, no optimizer; one process per point,
 * peak RSS), skipped when /tmp/hf-oracle (or $HF_ORACLE_ROOT) is not set up.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { LongformerConfig } from "../../src/models/longformer";
import { estimateTrainingMemory, measureTrainingStepPeak, WASM_HEAP_FRAGMENTATION, type PeakMeasurement } from "../../src/plan";
import { hfBenchDir, runHfScript } from "../hfReference";

interface Point {
  hidden: number;
  intermediate: number;
  heads: number;
  window: number;
  length: number;
  batch: number;
  layers: number;
  checkpointing: boolean;
}

const SHAPES: Omit<Point, "checkpointing">[] = [
  { hidden: 32, intermediate: 128, heads: 2, window: 16, length: 256, batch: 1, layers: 1 },
  { hidden: 32, intermediate: 128, heads: 4, window: 16, length: 512, batch: 3, layers: 2 },
  { hidden: 64, intermediate: 256, heads: 4, window: 32, length: 256, batch: 2, layers: 2 },
  { hidden: 64, intermediate: 128, heads: 2, window: 64, length: 512, batch: 3, layers: 2 },
  { hidden: 64, intermediate: 256, heads: 4, window: 16, length: 512, batch: 1, layers: 4 },
  { hidden: 128, intermediate: 512, heads: 4, window: 64, length: 512, batch: 2, layers: 2 },
  { hidden: 256, intermediate: 1024, heads: 4, window: 128, length: 1024, batch: 2, layers: 3 },
  // One longformer-base-sized layer (hidden 768, 12 heads, window 512) at 1024 tokens.
  { hidden: 768, intermediate: 3072, heads: 12, window: 512, length: 1024, batch: 1, layers: 1 },
];

/** The cpu backend is pure JavaScript: fewer and smaller shapes, and the longformer-base layer. */
const CPU_SHAPES: Omit<Point, "checkpointing">[] = [
  { hidden: 32, intermediate: 64, heads: 2, window: 8, length: 64, batch: 1, layers: 1 },
  { hidden: 32, intermediate: 128, heads: 4, window: 16, length: 64, batch: 2, layers: 2 },
  { hidden: 64, intermediate: 256, heads: 4, window: 32, length: 256, batch: 2, layers: 2 },
  { hidden: 128, intermediate: 512, heads: 4, window: 64, length: 512, batch: 2, layers: 2 },
  { hidden: 768, intermediate: 3072, heads: 12, window: 512, length: 1024, batch: 1, layers: 1 },
];

const VOCAB = 1000;
/** Largest |error| allowed. */
const BOUND = 0.15;
/** Largest under-prediction allowed: the planner's default safety margin. */
const UNDER = 0.1;

function configOf(p: Point): LongformerConfig {
  return new LongformerConfig({
    vocab_size: VOCAB,
    hidden_size: p.hidden,
    num_hidden_layers: p.layers,
    num_attention_heads: p.heads,
    intermediate_size: p.intermediate,
    attention_window: p.window,
    max_position_embeddings: 4098,
  });
}

/** Child mode: measure one point and print it as JSON. */
async function measureOne(point: Point): Promise<void> {
  const info = await initBackend();
  const measured = await measureTrainingStepPeak({
    config: configOf(point),
    sequenceLength: point.length,
    batchSize: point.batch,
    checkpointing: point.checkpointing,
  });
  process.stdout.write(JSON.stringify({ backend: info.name, ...measured }) + "\n");
}

function measureInChild(point: Point): PeakMeasurement & { backend: string } {
  const out = execFileSync(process.execPath, [__filename, "--point", JSON.stringify(point)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(out.trim().split("\n").pop()!) as PeakMeasurement & { backend: string };
}

/** HF's peak RSS (bytes) for the same point, or null when the oracle is not set up. */
function hfPeakRss(point: Point): number | null {
  const args = [
    "--threads",
    "1",
    "--repeats",
    "1",
    "--lengths",
    String(point.length),
    "--batch",
    String(point.batch),
    "--hidden",
    String(point.hidden),
    "--layers",
    String(point.layers),
    "--heads",
    String(point.heads),
    "--intermediate",
    String(point.intermediate),
    "--window",
    String(point.window),
    "--vocab",
    String(VOCAB),
    ...(point.checkpointing ? ["--checkpointing"] : []),
  ];
  const lines = runHfScript<{ peak_rss_mb: number }>(path.join(hfBenchDir(), "hf_fwdbwd_bench.py"), args);
  const last = lines?.pop();
  return last ? last.peak_rss_mb * 1024 ** 2 : null;
}

const mib = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);

async function main(argv: string[]): Promise<number> {
  const pointArg = argv.indexOf("--point");
  if (pointArg >= 0) {
    await measureOne(JSON.parse(argv[pointArg + 1]) as Point);
    return 0;
  }
  const quick = argv.includes("--quick");
  const withHf = !argv.includes("--no-hf");
  const outArg = argv.indexOf("--out");
  const outFile = outArg >= 0 ? argv[outArg + 1] : undefined;
  const info = await initBackend(); // the children start the same backend (TSML_BACKEND is inherited)
  const all = info.name === "wasm" ? SHAPES : CPU_SHAPES;
  const shapes = quick ? all.slice(0, 2) : all;
  const fromArg = argv.indexOf("--from");
  const previous =
    fromArg >= 0
      ? (JSON.parse(fs.readFileSync(argv[fromArg + 1], "utf8")) as {
          point: Point;
          measured: PeakMeasurement & { backend: string };
          hfPeakRssBytes: number | null;
        }[])
      : undefined;
  const points = previous ? previous.map((r) => r.point) : shapes.flatMap((s) => [false, true].map((checkpointing) => ({ ...s, checkpointing })));
  const header =
    "| hidden | inter | heads | window | tokens | batch | layers | ckpt | measured peak MiB | predicted MiB | error | tf.profile MiB | heap claimed MiB | predicted heap MiB | tsml RSS MiB | HF RSS MiB | tsml / HF RSS |";
  const rows = [header, header.replace(/[^|]+/g, "---")];
  const backend = info.name;
  const raw: unknown[] = [];
  let worst = 0;
  let worstUnder = 0;
  let heapShort = 0;
  for (const p of points) {
    const reused = previous?.find((r) => JSON.stringify(r.point) === JSON.stringify(p));
    const measured = reused ? reused.measured : measureInChild(p);
    const estimate = estimateTrainingMemory({ config: configOf(p), sequenceLength: p.length, batchSize: p.batch, checkpointing: p.checkpointing, backend });
    const predicted = estimate.peakHeldBytes;
    const error = predicted / measured.peakBytes - 1;
    worst = Math.max(worst, Math.abs(error));
    worstUnder = Math.min(worstUnder, error);
    // The heap the WASM budget must hold: what is held, the fragmentation allowance and the base (moments live outside).
    const predictedHeap = backend === "wasm" ? estimate.totalBytes : 0;
    if (backend === "wasm" && measured.heapClaimedBytes > predictedHeap) heapShort++;
    const hf = reused ? reused.hfPeakRssBytes : withHf ? hfPeakRss(p) : null;
    raw.push({ point: p, measured, predictedPeakBytes: predicted, predictedHeapBytes: predictedHeap, hfPeakRssBytes: hf });
    rows.push(
      `| ${p.hidden} | ${p.intermediate} | ${p.heads} | ${p.window} | ${p.length} | ${p.batch} | ${p.layers} | ${p.checkpointing ? "on" : "off"} | ` +
        `${mib(measured.peakBytes)} | ${mib(predicted)} | ${(error * 100).toFixed(1)}% | ${mib(measured.tensorPeakBytes)} | ` +
        `${backend === "wasm" ? mib(measured.heapClaimedBytes) : "-"} | ${backend === "wasm" ? mib(predictedHeap) : "-"} | ` +
        `${mib(measured.peakRssBytes)} | ${hf === null ? "-" : mib(hf)} | ${hf === null ? "-" : (measured.peakRssBytes / hf).toFixed(2)} |`,
    );
    console.log(rows[rows.length - 1]);
  }
  const what =
    backend === "wasm"
      ? "*measured peak* = the most bytes in use in the WASM heap during the step (tensor buffers once each, XNNPACK's packed copies, allocator headers; read from the allocator, deterministic)"
      : "*measured peak* = the most bytes of distinct tensor buffers the backend held during the step (deterministic)";
  const ok = worst <= BOUND && worstUnder >= -UNDER && heapShort === 0;
  const summary = [
    `# Batch planner memory model vs measurement (${backend} backend, tfjs ${tf.version.tfjs}, node ${process.version})`,
    "",
    "One Trainer optimizer step of LongformerForSequenceClassification: 2 micro-batches of `batch` examples, exact accumulation,",
    "clipping, AdamW (moments in host memory, not counted), dropout on, vocab 1000, one global token (the classifier's default).",
    `${what}; *predicted* = src/plan/memory.ts's peakHeldBytes; *tf.profile* = tf.profile's peak tensor bytes, the figure the`,
    "planner used to be fitted on (it counts a buffer once per tensor that shares it).",
    ...(backend === "wasm"
      ? [
          "*heap claimed* = what the allocator took from the heap (in use or free: fragmentation); *predicted heap* = the planner's",
          `totalBytes (held + ${Math.round(WASM_HEAP_FRAGMENTATION * 100)}% fragmentation allowance + 16 MiB base), which must not be below the claimed heap.`,
        ]
      : [
          "The planner's RAM budget adds AdamW's moments (host Float32Arrays, 8 bytes per parameter) to *predicted*; RSS also holds Node itself and garbage not yet collected.",
        ]),
    "RSS = process peak. HF = Hugging Face PyTorch (transformers v4.31, torch, 1 thread) forward + backward of the same",
    "shape, process peak RSS, one process per point.",
    "",
    ...rows,
    "",
    `Largest |error|: ${(worst * 100).toFixed(1)}% (bound ${BOUND * 100}%); largest under-prediction: ${(-worstUnder * 100).toFixed(1)}% (bound ${UNDER * 100}%, the default safety margin)` +
      (backend === "wasm" ? `; points whose claimed heap exceeds the predicted heap: ${heapShort}.` : "."),
  ].join("\n");
  console.log(
    `\nlargest |error| ${(worst * 100).toFixed(1)}% (bound ${BOUND * 100}%), largest under-prediction ${(-worstUnder * 100).toFixed(1)}% (bound ${UNDER * 100}%)${backend === "wasm" ? `, heap short on ${heapShort} points` : ""}`,
  );
  if (outFile) {
    fs.writeFileSync(outFile, summary + "\n");
    fs.writeFileSync(outFile.replace(/\.md$/, "") + ".json", JSON.stringify(raw, null, 1) + "\n");
  }
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
