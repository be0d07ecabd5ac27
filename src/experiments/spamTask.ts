/**
 * "spam-longformer": ham vs spam on the SpamAssassin corpus with a Longformer classifier. By default a small
 * Longformer is trained from scratch on a byte-level BPE vocabulary trained on the training split (with
 * `pretrainEpochs` > 0 it is first trained once, and every run fine-tunes that model, like the question's
 * pretrained Longformer); with `modelDir` a Hugging Face Longformer checkpoint (config.json, model.safetensors,
 * tokenizer files) is fine-tuned instead. `prepare` (run once per grid) loads, splits, trains the tokenizer and encodes the data
 * into the grid's cache, so every worker process starts from the same token ids in well under a second.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { initBackend } from "../backend";
import { loadSpamAssassin, sequenceClassificationData, stratifiedSplit, type ClassificationBatch, type EncodedClassificationData, type SequenceClassificationData } from "../data";
import { writeJsonAtomic } from "../io";
import { LongformerConfig, LongformerForSequenceClassification } from "../models/longformer";
import { loadTokenizer, trainBpeTokenizer, type BpeTokenizer } from "../tokenizers";
import { classifierFromFunction, Trainer } from "../train";
import type { JsonValue } from "./grid";
import { taskOption, type ExperimentSetup, type ExperimentTask, type TaskContext } from "./tasks";

/** The data-related options of the task (they decide the cached encoding). */
interface SpamDataOptions {
  trainExamples: number;
  devExamples: number;
  testExamples: number;
  dataSeed: number;
  maxLength: number;
  vocabSize: number;
  modelDir: string;
}

/** Token ids of the three splits, as cached in encoded.json. */
interface SpamEncoding {
  train: { ids: number[][]; labels: number[] };
  dev: { ids: number[][]; labels: number[] };
  test: { ids: number[][]; labels: number[] };
}

function dataOptions(config: Record<string, JsonValue>): SpamDataOptions {
  const options = {
    trainExamples: taskOption(config, "trainExamples", 256),
    devExamples: taskOption(config, "devExamples", 96),
    testExamples: taskOption(config, "testExamples", 96),
    dataSeed: taskOption(config, "dataSeed", 0),
    maxLength: taskOption(config, "maxLength", 512),
    vocabSize: taskOption(config, "vocabSize", 2000),
    modelDir: taskOption(config, "modelDir", ""),
  };
  for (const key of ["trainExamples", "devExamples", "testExamples", "maxLength", "vocabSize"] as const) {
    if (!(Number.isInteger(options[key]) && options[key] >= 2)) throw new Error(`spam-longformer: task option "${key}" must be an integer >= 2, got ${options[key]}`);
  }
  return options;
}

function cacheFolder(cacheDir: string, options: SpamDataOptions): string {
  const key = createHash("sha256").update(JSON.stringify(options)).digest("hex").slice(0, 12);
  return path.join(cacheDir, `spam-longformer-${key}`);
}

/** Loads a stratified subset of SpamAssassin, splits it, builds the tokenizer and encodes every split. */
function encodeSpamAssassin(options: SpamDataOptions, log: (line: string) => void): { tokenizer: BpeTokenizer; encoding: SpamEncoding } {
  const total = options.trainExamples + options.devExamples + options.testExamples;
  const dataset = loadSpamAssassin({ limit: total, seed: options.dataSeed });
  const split = stratifiedSplit(dataset.labels, {
    seed: options.dataSeed,
    fractions: { train: options.trainExamples, dev: options.devExamples, test: options.testExamples },
  });
  let tokenizer: BpeTokenizer;
  if (options.modelDir) {
    tokenizer = loadTokenizer(options.modelDir);
    log(`tokenizer: ${options.modelDir} (${tokenizer.vocabSize} tokens)`);
  } else {
    const started = Date.now();
    tokenizer = trainBpeTokenizer(split.train.map((i) => dataset.texts[i]), { vocabSize: options.vocabSize });
    log(`tokenizer: byte-level BPE with ${tokenizer.vocabSize} tokens trained on ${split.train.length} e-mails in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const encode = (indices: number[]) => ({
    ids: indices.map((i) => tokenizer.encode(dataset.texts[i], { maxLength: options.maxLength }).ids),
    labels: indices.map((i) => dataset.labels[i]),
  });
  return { tokenizer, encoding: { train: encode(split.train), dev: encode(split.dev), test: encode(split.test) } };
}

/**
 * Checks once, before any run, that the tokenizer of `modelDir` fits its model: a token id at or above the config's
 * vocab_size would fail every run with an index error.
 */
function checkTokenizerFitsModel(modelDir: string): void {
  const configFile = path.join(modelDir, "config.json");
  if (!fs.existsSync(configFile)) throw new Error(`--model ${modelDir}: ${configFile} not found (expected a Hugging Face Longformer checkpoint folder)`);
  const config = LongformerConfig.fromJSON(fs.readFileSync(configFile, "utf8"), configFile);
  const tokenizer = loadTokenizer(modelDir);
  if (tokenizer.vocabSize > config.vocab_size) {
    throw new Error(
      `--model ${modelDir}: the tokenizer has ${tokenizer.vocabSize} tokens but ${configFile} says vocab_size ${config.vocab_size}; ` +
        "token ids at or above vocab_size have no embedding (is the tokenizer from another model?)",
    );
  }
}

async function prepare(config: Record<string, JsonValue>, context: { cacheDir: string; log: (line: string) => void }): Promise<void> {
  const options = dataOptions(config);
  if (options.modelDir) checkTokenizerFitsModel(options.modelDir);
  const folder = cacheFolder(context.cacheDir, options);
  if (!fs.existsSync(path.join(folder, "encoded.json"))) {
    context.log(`preparing SpamAssassin: ${options.trainExamples} train / ${options.devExamples} dev / ${options.testExamples} test e-mails, max length ${options.maxLength}`);
    const { tokenizer, encoding } = encodeSpamAssassin(options, context.log);
    fs.mkdirSync(folder, { recursive: true });
    tokenizer.save(path.join(folder, "tokenizer.json"));
    writeJsonAtomic(path.join(folder, "encoded.json"), encoding);
  }
  const pretraining = pretrainingOptions(config);
  if (pretraining && !fs.existsSync(path.join(pretrainedDir(folder, pretraining), "model.safetensors"))) await pretrain(config, folder, pretraining, context.log);
}

/** How the small from-scratch model is trained before the study fine-tunes it (null: no pretraining). */
interface PretrainingOptions {
  epochs: number;
  learningRate: number;
}

function pretrainingOptions(config: Record<string, JsonValue>): PretrainingOptions | null {
  const epochs = taskOption(config, "pretrainEpochs", 0);
  if (epochs === 0 || taskOption(config, "modelDir", "") !== "") return null;
  if (!(Number.isInteger(epochs) && epochs > 0)) throw new Error(`spam-longformer: task option "pretrainEpochs" must be an integer >= 0, got ${epochs}`);
  return { epochs, learningRate: taskOption(config, "pretrainLearningRate", 1e-3) };
}

function pretrainedDir(folder: string, pretraining: PretrainingOptions): string {
  return path.join(folder, `pretrained-e${pretraining.epochs}-lr${pretraining.learningRate}`);
}

/**
 * Trains the small Longformer from scratch (batch 8, seed 0) and saves it, so the study's runs fine-tune an
 * already useful model, as in the question (a pretrained Longformer whose accuracy and F1 are fine).
 */
async function pretrain(config: Record<string, JsonValue>, folder: string, pretraining: PretrainingOptions, log: (line: string) => void): Promise<void> {
  await initBackend();
  const started = Date.now();
  log(`pretraining the small Longformer from scratch: ${pretraining.epochs} epoch(s), batch 8, lr ${pretraining.learningRate}`);
  const { model, classifier, splits } = loadModelAndData(config, folder, { seed: 0, fromScratch: true });
  const trainer = new Trainer({
    model: classifier,
    trainData: splits.train,
    evalData: splits.dev,
    args: { perDeviceBatchSize: 8, learningRate: pretraining.learningRate, epochs: pretraining.epochs, warmupRatio: 0.1, seed: 0, progress: "none" },
  });
  try {
    const result = await trainer.train();
    model.savePretrained(pretrainedDir(folder, pretraining));
    log(`pretrained in ${((Date.now() - started) / 1000).toFixed(0)} s: dev accuracy ${result.lastEval?.accuracy.toFixed(3)}, dev F1 ${result.lastEval?.f1.toFixed(3)}`);
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

function toEncoded(part: { ids: number[][]; labels: number[] }): EncodedClassificationData {
  return { inputIds: part.ids.map((ids) => Int32Array.from(ids)), labels: part.labels };
}

/** The three splits as Trainer data: dynamic padding to a multiple of the window, length-bucketed order. */
interface SpamSplits {
  train: SequenceClassificationData;
  dev: SequenceClassificationData;
  test: SequenceClassificationData;
}

/** Loads the cached encoding and builds the model: the given checkpoint, the pretrained one, or a fresh one. */
function loadModelAndData(config: Record<string, JsonValue>, folder: string, how: { seed: number; fromScratch: boolean }) {
  const options = dataOptions(config);
  const tokenizer = loadTokenizer(path.join(folder, "tokenizer.json"));
  const encoding = JSON.parse(fs.readFileSync(path.join(folder, "encoded.json"), "utf8")) as SpamEncoding;
  const window = taskOption(config, "attentionWindow", 64);
  const batching = { padToMultipleOf: window, maxLength: options.maxLength, padId: tokenizer.padId, bucketByLength: true };
  const [train, dev, test] = [encoding.train, encoding.dev, encoding.test].map((part) => sequenceClassificationData(toEncoded(part), batching));
  const pretraining = pretrainingOptions(config);
  const hidden = taskOption(config, "hiddenSize", 64);
  const dropout = taskOption(config, "dropout", 0.1);
  const checkpoint = options.modelDir || (pretraining && !how.fromScratch ? pretrainedDir(folder, pretraining) : "");
  const model = checkpoint
    ? LongformerForSequenceClassification.fromFolder(checkpoint, { initClassifierHead: true, seed: how.seed })
    : LongformerForSequenceClassification.create(
        {
          vocab_size: tokenizer.vocabSize,
          hidden_size: hidden,
          num_hidden_layers: taskOption(config, "layers", 1),
          num_attention_heads: taskOption(config, "heads", 4),
          intermediate_size: taskOption(config, "intermediateSize", 2 * hidden),
          max_position_embeddings: options.maxLength + 2,
          attention_window: window,
          hidden_dropout_prob: dropout,
          attention_probs_dropout_prob: dropout,
          pad_token_id: tokenizer.padId,
          num_labels: 2,
        },
        { seed: how.seed },
      );
  const classifier = {
    ...classifierFromFunction<ClassificationBatch>(
      model.trainableVariables(),
      (batch, training) => model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask }, { training }),
      (batch) => batch.labels,
    ),
    // The Trainer hands a fresh dropout seed before every micro-batch, so a resumed run is bit-identical.
    setRandomSeed: (seed: number) => model.setRandomSeed(seed),
  };
  const splits: SpamSplits = { train, dev, test };
  return { model, classifier, splits };
}

async function build(config: Record<string, JsonValue>, context: TaskContext): Promise<ExperimentSetup<unknown>> {
  await prepare(config, { cacheDir: context.cacheDir, log: () => {} });
  const folder = cacheFolder(context.cacheDir, dataOptions(config));
  const { model, classifier, splits } = loadModelAndData(config, folder, { seed: context.seed, fromScratch: false });
  const { train, dev, test } = splits;
  return {
    model: classifier as ExperimentSetup<unknown>["model"],
    train,
    dev,
    test,
    tokensIn: (indices) => indices.reduce((sum, i) => sum + train.length(i), 0),
    dispose: () => model.dispose(),
  } as ExperimentSetup<unknown>;
}

/** The registered "spam-longformer" task (see the file comment for its options). */
export const spamLongformerTask: ExperimentTask = {
  name: "spam-longformer",
  description: "SpamAssassin ham vs spam with a Longformer classifier (small from scratch, or a Hugging Face checkpoint)",
  build,
  prepare,
};
