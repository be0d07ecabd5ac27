/**
 * Data benchmark (node dist/bench/data/tokenize.js [referenceMessages]):
 * Times are CPU seconds of this process (user + system), so other jobs on the machine distort them little.
 * 1. tokenizer throughput (MB/s of UTF-8) on SpamAssassin: our byte-level BPE vs @huggingface/tokenizers
 *    (tokenizers.js) on the same messages in the same process, ids checked equal; then ours on the whole corpus;
 * 2. training a byte-level BPE (vocab 8,000) on the corpus: time and throughput of the trained tokenizer;
 * 3. share of padding tokens with and without length bucketing at max length 512 and 4096.
 */
import * as fs from "fs";
import * as zlib from "zlib";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { describeBackend, initBackend } from "../../src/backend";
import { encodeForClassification, loadSpamAssassin, sequenceClassificationData } from "../../src/data";
import { loadTokenizer, trainBpeTokenizer } from "../../src/tokenizers";
import { fixturePath } from "../../test/helpers";

function megabytes(texts: string[]): number {
  return texts.reduce((sum, t) => sum + Buffer.byteLength(t, "utf8"), 0) / 1e6;
}

/** CPU seconds (user + system) of this process since `start`: robust when other jobs share the machine. */
function cpuSeconds(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** Encodes all texts and returns MB per CPU-second and the ids. */
function throughput(encode: (text: string) => number[], texts: string[]): { mbPerS: number; ids: number[][] } {
  const start = process.cpuUsage();
  const ids = texts.map(encode);
  return { mbPerS: megabytes(texts) / cpuSeconds(start), ids };
}

async function main(): Promise<void> {
  const referenceMessages = Number(process.argv[2] ?? 300);
  const backend = await initBackend();
  console.log(`${describeBackend(backend)}; tokenization itself is plain JS on one core`);
  console.log(`node ${process.version}`);

  const corpus = loadSpamAssassin({ stripHeaders: false });
  const texts = corpus.texts;
  console.log(`SpamAssassin: ${texts.length} messages, ${megabytes(texts).toFixed(1)} MB (headers kept)`);

  const file = fixturePath("longformer-hf", "tokenizer", "tokenizer.json.gz");
  const ours = loadTokenizer(file);
  const reference = new HfTokenizer(JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString("utf8")) as object, {});
  const sample = texts.filter((_, i) => i % Math.max(1, Math.floor(texts.length / referenceMessages)) === 0).slice(0, referenceMessages);
  // Warm both up on a few messages so that caches and JIT are comparable, then time the same sample.
  for (const t of sample.slice(0, 10)) {
    ours.encode(t);
    reference.encode(t);
  }
  const a = throughput((t) => ours.encode(t).ids, sample);
  const b = throughput((t) => reference.encode(t).ids, sample);
  const same = a.ids.every((ids, i) => ids.length === b.ids[i].length && ids.every((id, k) => id === b.ids[i][k]));
  console.log(`\n1. RoBERTa tokenizer on ${sample.length} messages (${megabytes(sample).toFixed(2)} MB), ids equal: ${same}`);
  console.log(`   ours (BpeTokenizer)          ${a.mbPerS.toFixed(2)} MB/s`);
  console.log(`   @huggingface/tokenizers 0.2  ${b.mbPerS.toFixed(2)} MB/s`);
  console.log(`   ratio ours / reference       ${(a.mbPerS / b.mbPerS).toFixed(1)}x`);
  const full = throughput((t) => ours.encode(t).ids, texts);
  console.log(`   ours on the whole corpus     ${full.mbPerS.toFixed(2)} MB/s`);

  const trainStart = process.cpuUsage();
  const trained = trainBpeTokenizer(texts, { vocabSize: 8000 });
  const trainSeconds = cpuSeconds(trainStart);
  const t8k = throughput((t) => trained.encode(t).ids, texts);
  const tokens = (ids: number[][]) => ids.reduce((s, x) => s + x.length, 0);
  console.log(`\n2. trained byte-level BPE, vocab ${trained.vocabSize}: ${trainSeconds.toFixed(1)} s (CPU) to train on the corpus`);
  console.log(`   encodes at ${t8k.mbPerS.toFixed(2)} MB/s; ${tokens(t8k.ids)} tokens vs ${tokens(full.ids)} with RoBERTa's 50k vocab`);

  console.log(`\n3. padding share (bodies without headers, RoBERTa ids, batch 8, padded to a multiple of 64)`);
  const bodies = loadSpamAssassin({ stripHeaders: true });
  const encoded = encodeForClassification(ours, bodies.texts, bodies.labels);
  for (const maxLength of [512, 4096]) {
    for (const bucketByLength of [false, true]) {
      const data = sequenceClassificationData(encoded, { maxLength, padToMultipleOf: 64, bucketByLength });
      const stats = data.paddingStats(data.sampler.epochBatches(0, 0, 8));
      const label = `maxLength ${maxLength}, ${bucketByLength ? "bucketed  " : "unbucketed"}`;
      console.log(`   ${label}: ${(100 * stats.padShare).toFixed(1)}% pad tokens (${stats.realTokens} real, ${stats.paddedTokens} pad)`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
