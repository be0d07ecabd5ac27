/**
 * Longformer benchmark (node dist/bench/longformer/forwardBackward.js [repeats]): forward + backward
 * (loss gradients w.r.t. every parameter) of a LongformerForSequenceClassification with hidden 128,
 * 2 layers, 4 heads, attention window 64, batch 1, at sequence lengths 512, 1024, 2048 and 4096.
 * Prints wall time and process CPU time (medians of `repeats` after one warm-up; WASM runs on one
 * thread, so CPU time is the load-independent figure on a shared machine), tokens/s, peak tensor
 * bytes (tf.profile) and the ratios for 4096 vs 1024 tokens: linear scaling gives ~4 (goal <= 4.5).
 */
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../../src/backend";
import { LongformerForSequenceClassification, longformerClassificationLoss } from "../../src/models/longformer";

const LENGTHS = [512, 1024, 2048, 4096];
/** HF PyTorch (CPU) forward + backward throughput measured on this machine type, for comparison. */
const HF_TOKENS_PER_SECOND: Record<number, number> = { 512: 7300, 1024: 9400 };

function idsOfLength(n: number): tf.Tensor2D {
  return tf.tensor2d(Array.from({ length: n }, (_, i) => (i === 0 ? 0 : i === n - 1 ? 2 : 4 + ((i * 7919) % 990))), [1, n], "int32");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const repeats = Number(process.argv[2] ?? 3);
  const info = await initBackend();
  console.log(describeBackend(info));
  const model = LongformerForSequenceClassification.create(
    {
      vocab_size: 1000, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 512,
      attention_window: 64, max_position_embeddings: 4098, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
    },
    { seed: 1 },
  );
  const labels = tf.tensor1d([1], "int32");
  const step = (ids: tf.Tensor) => {
    const { value, grads } = tf.variableGrads(() => longformerClassificationLoss(model.forward({ inputIds: ids }, { training: true }), labels), model.trainableVariables());
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  const results: { n: number; ms: number; cpuMs: number; peak: number }[] = [];
  for (const n of LENGTHS) {
    const ids = idsOfLength(n);
    step(ids);
    const times: number[] = [];
    const cpuTimes: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      step(ids);
      const cpu = process.cpuUsage(cpuStart);
      times.push(performance.now() - start);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
    const profile = await tf.profile(() => step(ids));
    ids.dispose();
    const ms = median(times);
    const cpuMs = median(cpuTimes);
    results.push({ n, ms, cpuMs, peak: profile.peakBytes });
    const hf = HF_TOKENS_PER_SECOND[n] ? `  (HF PyTorch CPU: ${HF_TOKENS_PER_SECOND[n]} tokens/s)` : "";
    console.log(
      `n=${String(n).padStart(4)}  wall ${ms.toFixed(0).padStart(6)} ms = ${(n / (ms / 1000)).toFixed(0).padStart(5)} tokens/s` +
        `  cpu ${cpuMs.toFixed(0).padStart(6)} ms = ${(n / (cpuMs / 1000)).toFixed(0).padStart(5)} tokens/cpu-s  peak ${(profile.peakBytes / 2 ** 20).toFixed(1)} MiB${hf}`,
    );
  }
  const at = (n: number) => results.find((r) => r.n === n)!;
  console.log(`time(4096)/time(1024) = ${(at(4096).ms / at(1024).ms).toFixed(2)} wall, ${(at(4096).cpuMs / at(1024).cpuMs).toFixed(2)} cpu  (linear: 4, goal <= 4.5)`);
  console.log(`peakBytes(4096)/peakBytes(1024) = ${(at(4096).peak / at(1024).peak).toFixed(2)}  (linear: 4, goal <= 4.5)`);
  labels.dispose();
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
