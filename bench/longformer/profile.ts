/**
 * Where a Longformer training step spends its time, kernel by kernel (tf.profile's per-kernel times):
 *
 *   node dist/bench/longformer/profile.js [--base] [--length 1024] [--checkpointing] [--threads N] [--top 15]
 *
 * One warm-up step, then one profiled step (forward, backward, AdamW) of LongformerForSequenceClassification at
 * batch 1 with dropout on: the bench configuration by default, `--base` for longformer-base-4096's sizes. Prints
 * each kernel's share of the step's wall time and the time outside kernels (JavaScript, tfjs's engine).
 */
import { parseArgs } from "util";
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../../src/backend";
import { LongformerForSequenceClassification, longformerClassificationLoss } from "../../src/models/longformer";
import { AdamW, frugalVariableGrads } from "../../src/train";

const USAGE = `usage: node dist/bench/longformer/profile.js [--base] [--length N] [--checkpointing] [--threads N] [--top K]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: "boolean", default: false },
      length: { type: "string", default: "1024" },
      checkpointing: { type: "boolean", default: false },
      threads: { type: "string" },
      top: { type: "string", default: "15" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  const n = Number(values.length);
  if (!Number.isInteger(n) || n < 2) throw new Error(`--length ${values.length}: expected a whole number of tokens >= 2`);
  const info = await initBackend(values.threads ? { threads: Number(values.threads) } : {});
  console.log(describeBackend(info));
  const sizes = values.base
    ? { vocab_size: 50265, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, attention_window: 512 }
    : { vocab_size: 1000, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 512, attention_window: 64 };
  const model = LongformerForSequenceClassification.create(
    { ...sizes, max_position_embeddings: 4098, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 },
    { seed: 1 },
  );
  if (values.checkpointing) model.gradientCheckpointingEnable();
  const variables = model.trainableVariables();
  const optimizer = new AdamW(variables, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, decays: (name) => !/bias|LayerNorm/.test(name) });
  const ids = tf.tensor2d(
    Array.from({ length: n }, (_, i) => (i === 0 ? 0 : i === n - 1 ? 2 : 4 + ((i * 7919) % (sizes.vocab_size - 10)))),
    [1, n],
    "int32",
  );
  const labels = tf.tensor1d([1], "int32");
  const step = () => {
    const { value, grads } = frugalVariableGrads(() => longformerClassificationLoss(model.forward({ inputIds: ids }, { training: true }), labels), variables);
    value.dataSync();
    optimizer.apply(
      variables.map((v) => grads[v.name]),
      1e-5,
    );
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const start = performance.now();
  const profile = await tf.profile(step);
  const wallMs = performance.now() - start;
  const byKernel = new Map<string, { calls: number; ms: number }>();
  // Only registered kernels: tf.profile also lists the scopes of ops built from others (a customGrad's name,
  // tf.fused.matMul's "fusedMatMul__op", a checkpointed layer's "forward"), whose kernels are listed themselves.
  const backendName = tf.getBackend();
  for (const kernel of profile.kernels.filter((k) => tf.getKernel(k.name, backendName) !== undefined)) {
    const entry = byKernel.get(kernel.name) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += typeof kernel.kernelTimeMs === "number" ? kernel.kernelTimeMs : 0;
    byKernel.set(kernel.name, entry);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const kernelMs = rows.reduce((sum, [, r]) => sum + r.ms, 0);
  console.log(
    `${values.base ? "longformer-base" : "bench config"}, ${n} tokens, checkpointing ${values.checkpointing ? "on" : "off"}: step ${wallMs.toFixed(0)} ms wall (profiled), ${rows.reduce((sum, [, r]) => sum + r.calls, 0)} kernel calls`,
  );
  console.log("| kernel | calls | ms | % of step |");
  console.log("|---|---|---|---|");
  for (const [name, r] of rows.slice(0, Number(values.top)))
    console.log(`| ${name} | ${r.calls} | ${r.ms.toFixed(0)} | ${((100 * r.ms) / wallMs).toFixed(1)} |`);
  const rest = rows.slice(Number(values.top)).reduce((sum, [, r]) => sum + r.ms, 0);
  console.log(`| (other kernels) | | ${rest.toFixed(0)} | ${((100 * rest) / wallMs).toFixed(1)} |`);
  console.log(
    `| (outside kernels: JavaScript, engine, profiler) | | ${(wallMs - kernelMs).toFixed(0)} | ${((100 * (wallMs - kernelMs)) / wallMs).toFixed(1)} |`,
  );
  tf.dispose([ids, labels]);
  optimizer.dispose();
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
