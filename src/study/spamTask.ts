/**
 * "spam-longformer": ham vs spam on the SpamAssassin corpus with a Longformer classifier; "text-longformer": the same
 * recipe on the user's own labelled documents (`trainFile`, optional `devFile` / `testFile`: CSV, TSV, JSONL or a
 * folder per class, read through src/data with one label mapping; without a dev or test file, stratified parts of
 * the training file are held out). By default a small
 * Longformer with a byte-level BPE vocabulary is built from scratch; with `pretrainEpochs` > 0 it is first
 * pretrained once as a masked language model (LongformerForMaskedLM, HF's 80/10/10 masking of 15% of tokens) on
 * the `pretrainExamples` e-mails of the training pool (labels unused; dev and test e-mails never seen), and every
 * run fine-tunes a LongformerForSequenceClassification from that encoder with a fresh, seeded classification
 * head on `trainExamples` labelled e-mails — the question's situation (a pretrained language model fine-tuned on
 * a new task). With `modelDir` a Hugging Face Longformer checkpoint (config.json, model.safetensors, tokenizer
 * files) is fine-tuned instead. `prepare` (run once per grid) loads, splits, trains the tokenizer, encodes the
 * data and pretrains into the grid's cache, so every worker process starts from the same token ids and encoder.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { initBackend } from "../backend";
import { taskOption, type ExperimentSetup, type ExperimentTask, type JsonValue, type TaskContext } from "../experiments";
import {
  loadSpamAssassin,
  loadTextDatasets,
  maskedLanguageModelingData,
  sequenceClassificationData,
  stratifiedSplit,
  type EncodedClassificationData,
  type SequenceClassificationData,
} from "../data";
import { writeJsonAtomic } from "../io";
import { LongformerConfig, LongformerForMaskedLM, LongformerForSequenceClassification } from "../models/longformer";
import { longformerBatchPlanner } from "../plan";
import { loadTokenizer, trainBpeTokenizer, type BpeTokenizer } from "../tokenizers";
import { tensorBoardCallback, Trainer } from "../train";
import { requirePositiveInteger } from "../util";

/** The data-related options of the task (they decide the cached encoding). */
interface SpamDataOptions {
  /** Labelled e-mails each run fine-tunes on (a stratified subset of the pretraining pool). */
  trainExamples: number;
  /** E-mails of the training pool: the masked-LM corpus and the tokenizer's training texts (>= trainExamples). */
  pretrainExamples: number;
  devExamples: number;
  testExamples: number;
  dataSeed: number;
  maxLength: number;
  vocabSize: number;
  modelDir: string;
  /** Own data ("text-longformer"): the files and their columns ("" = not given). */
  trainFile: string;
  devFile: string;
  testFile: string;
  textColumn: string;
  labelColumn: string;
  /** Size and modification time of the files, so that an edited file is encoded anew. */
  fingerprint: string;
}

/** Token ids of the three splits and of the pretraining pool, as cached in encoded.json. */
interface SpamEncoding {
  /** Label names by class id (absent in caches written before own data: ham, spam). */
  labelNames?: string[];
  pretrain: { ids: number[][] };
  train: { ids: number[][]; labels: number[] };
  dev: { ids: number[][]; labels: number[] };
  test: { ids: number[][]; labels: number[] };
}

/** "size:mtime" of a file, or of every file under a folder (sorted), for the cache key. */
function fingerprint(location: string): string {
  if (location === "" || !fs.existsSync(location)) return "";
  const stat = fs.statSync(location);
  if (!stat.isDirectory()) return `${stat.size}:${stat.mtimeMs}`;
  return fs
    .readdirSync(location, { recursive: true, encoding: "utf8" })
    .sort()
    .map((f) => `${f}=${fingerprint(path.join(location, f))}`)
    .join(",");
}

function dataOptions(config: Record<string, JsonValue>): SpamDataOptions {
  const trainFile = taskOption(config, "trainFile", "");
  const files = { trainFile, devFile: taskOption(config, "devFile", ""), testFile: taskOption(config, "testFile", "") };
  if (trainFile !== "") return ownDataOptions(config, files);
  const trainExamples = taskOption(config, "trainExamples", 256);
  const options = {
    ...files,
    textColumn: "",
    labelColumn: "",
    fingerprint: "",
    trainExamples,
    pretrainExamples: taskOption(config, "pretrainExamples", trainExamples),
    devExamples: taskOption(config, "devExamples", 96),
    testExamples: taskOption(config, "testExamples", 96),
    dataSeed: taskOption(config, "dataSeed", 0),
    maxLength: taskOption(config, "maxLength", 512),
    vocabSize: taskOption(config, "vocabSize", 2000),
    modelDir: taskOption(config, "modelDir", ""),
  };
  for (const key of ["trainExamples", "pretrainExamples", "devExamples", "testExamples", "maxLength", "vocabSize"] as const) {
    if (!(Number.isInteger(options[key]) && options[key] >= 2))
      throw new Error(`spam-longformer: task option "${key}" must be an integer >= 2, got ${options[key]}`);
  }
  if (options.pretrainExamples < options.trainExamples) {
    throw new Error(
      `spam-longformer: task option "pretrainExamples" (${options.pretrainExamples}) must be at least "trainExamples" (${options.trainExamples}): the fine-tuning e-mails are a subset of the pretraining pool`,
    );
  }
  return options;
}

/** The options of own data: every document of the files is used (the *Examples options do not apply). */
function ownDataOptions(config: Record<string, JsonValue>, files: { trainFile: string; devFile: string; testFile: string }): SpamDataOptions {
  const options = {
    ...files,
    textColumn: taskOption(config, "textColumn", "text"),
    labelColumn: taskOption(config, "labelColumn", "label"),
    fingerprint: [files.trainFile, files.devFile, files.testFile].map(fingerprint).join("|"),
    trainExamples: 0,
    pretrainExamples: 0,
    devExamples: 0,
    testExamples: 0,
    dataSeed: taskOption(config, "dataSeed", 0),
    maxLength: taskOption(config, "maxLength", 512),
    vocabSize: taskOption(config, "vocabSize", 2000),
    modelDir: taskOption(config, "modelDir", ""),
  };
  for (const key of ["maxLength", "vocabSize"] as const) {
    if (!(Number.isInteger(options[key]) && options[key] >= 2))
      throw new Error(`text-longformer: task option "${key}" must be an integer >= 2, got ${options[key]}`);
  }
  return options;
}

function cacheFolder(cacheDir: string, options: SpamDataOptions): string {
  const key = createHash("sha256").update(JSON.stringify(options)).digest("hex").slice(0, 12);
  return path.join(cacheDir, `${options.trainFile ? "text" : "spam"}-longformer-${key}`);
}

/** Labelled texts of one source with its splits (indices into `texts`). */
interface SplitDocuments {
  texts: string[];
  labels: number[];
  labelNames: string[];
  /** The training pool (pretraining corpus), the labelled fine-tuning subset of it, dev and test. */
  pool: number[];
  train: number[];
  dev: number[];
  test: number[];
}

/**
 * The user's files as one indexed corpus: the training file's label mapping for all files; a missing dev or test
 * file is a stratified 10% of the training file each. At least two classes, each in the training part.
 */
function loadOwnDocuments(options: SpamDataOptions): SplitDocuments {
  const loaded = loadTextDatasets(
    { train: options.trainFile, dev: options.devFile || undefined, test: options.testFile || undefined },
    { textColumn: options.textColumn, labelColumn: options.labelColumn },
  );
  const train = loaded.train;
  if (train.labelNames.length < 2) {
    throw new Error(
      `${options.trainFile}: only one class (${JSON.stringify(train.labelNames[0])}) in column "${options.labelColumn}"; a classifier needs at least two`,
    );
  }
  const texts = [...train.texts];
  const labels = [...train.labels];
  const append = (part: { texts: string[]; labels: number[] } | undefined) => {
    if (!part) return [];
    const start = texts.length;
    texts.push(...part.texts);
    labels.push(...part.labels);
    return part.texts.map((_, i) => start + i);
  };
  const dev = append(loaded.dev);
  const test = append(loaded.test);
  const held = (options.devFile ? 0 : 1) + (options.testFile ? 0 : 1);
  let pool = train.texts.map((_, i) => i);
  if (held > 0) {
    const n = pool.length;
    const part = Math.max(train.labelNames.length, Math.round(n * 0.1));
    if (n - held * part < train.labelNames.length)
      throw new Error(`${options.trainFile}: ${n} documents are too few to hold out a dev and test part; give --dev and --test files`);
    const split = stratifiedSplit(train.labels, {
      seed: options.dataSeed,
      fractions: { train: n - held * part, dev: options.devFile ? 0 : part, test: options.testFile ? 0 : part },
    });
    pool = split.train;
    if (!options.devFile) dev.push(...split.dev);
    if (!options.testFile) test.push(...split.test);
  }
  return { texts, labels, labelNames: train.labelNames, pool, train: pool, dev, test };
}

/** SpamAssassin's stratified subsets: the pool, its labelled `trainExamples` subset, dev and test. */
function loadSpamDocuments(options: SpamDataOptions): SplitDocuments {
  const total = options.pretrainExamples + options.devExamples + options.testExamples;
  const dataset = loadSpamAssassin({ limit: total, seed: options.dataSeed });
  const split = stratifiedSplit(dataset.labels, {
    seed: options.dataSeed,
    fractions: { train: options.pretrainExamples, dev: options.devExamples, test: options.testExamples },
  });
  const pool = split.train;
  const rest = pool.length - options.trainExamples;
  const subset =
    rest === 0
      ? { train: pool.map((_, k) => k) }
      : stratifiedSplit(
          pool.map((i) => dataset.labels[i]),
          { seed: options.dataSeed, fractions: { train: options.trainExamples, dev: 0, test: rest } },
        );
  return {
    texts: dataset.texts,
    labels: dataset.labels,
    labelNames: ["ham", "spam"],
    pool,
    train: subset.train.map((k) => pool[k]),
    dev: split.dev,
    test: split.test,
  };
}

/**
 * Loads a stratified subset of SpamAssassin, splits it into the training pool / dev / test, takes a stratified
 * `trainExamples` subset of the pool for fine-tuning, builds the tokenizer on the pool and encodes everything.
 */
function encodeDocuments(dataset: SplitDocuments, options: SpamDataOptions, log: (line: string) => void): { tokenizer: BpeTokenizer; encoding: SpamEncoding } {
  const { pool, train } = dataset;
  let tokenizer: BpeTokenizer;
  if (options.modelDir) {
    tokenizer = loadTokenizer(options.modelDir);
    log(`tokenizer: ${options.modelDir} (${tokenizer.vocabSize} tokens)`);
  } else {
    const started = Date.now();
    tokenizer = trainBpeTokenizer(
      pool.map((i) => dataset.texts[i]),
      { vocabSize: options.vocabSize },
    );
    log(
      `tokenizer: byte-level BPE with ${tokenizer.vocabSize} tokens trained on ${pool.length} ${options.trainFile ? "documents" : "e-mails"} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  const ids = (i: number) => tokenizer.encode(dataset.texts[i], { maxLength: options.maxLength }).ids;
  const encode = (indices: number[]) => ({ ids: indices.map(ids), labels: indices.map((i) => dataset.labels[i]) });
  return {
    tokenizer,
    encoding: { labelNames: dataset.labelNames, pretrain: { ids: pool.map(ids) }, train: encode(train), dev: encode(dataset.dev), test: encode(dataset.test) },
  };
}

/**
 * Checks once, before any run, that the tokenizer of `modelDir` fits its model: a token id at or above the config's
 * vocab_size would fail every run with an index error.
 */
function checkTokenizerFitsModel(modelDir: string, maxLength: number): void {
  const configFile = path.join(modelDir, "config.json");
  if (!fs.existsSync(configFile)) throw new Error(`--model ${modelDir}: ${configFile} not found (expected a Hugging Face Longformer checkpoint folder)`);
  const config = LongformerConfig.fromJSON(fs.readFileSync(configFile, "utf8"), configFile);
  // RoBERTa-style positions start after the padding index: a model with P positions takes P - 2 tokens.
  const positions = config.max_position_embeddings - 2;
  if (maxLength > positions) {
    throw new Error(
      `--max-length ${maxLength} is beyond what --model ${modelDir} can read: ${configFile} has max_position_embeddings ${config.max_position_embeddings}, i.e. at most ${positions} tokens`,
    );
  }
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
  if (options.modelDir) checkTokenizerFitsModel(options.modelDir, options.maxLength);
  const folder = cacheFolder(context.cacheDir, options);
  if (!fs.existsSync(path.join(folder, "encoded.json"))) {
    let documents: SplitDocuments;
    if (options.trainFile) {
      documents = loadOwnDocuments(options);
      context.log(
        `preparing ${options.trainFile}: ${documents.train.length} train / ${documents.dev.length} dev / ${documents.test.length} test documents, ` +
          `classes ${documents.labelNames.map((l) => JSON.stringify(l)).join(", ")}, max length ${options.maxLength}`,
      );
    } else {
      context.log(
        `preparing SpamAssassin: ${options.trainExamples} train (of a pool of ${options.pretrainExamples}) / ${options.devExamples} dev / ${options.testExamples} test e-mails, max length ${options.maxLength}`,
      );
      documents = loadSpamDocuments(options);
    }
    if (options.modelDir) checkClassCount(options.modelDir, documents.labelNames.length);
    const { tokenizer, encoding } = encodeDocuments(documents, options, context.log);
    fs.mkdirSync(folder, { recursive: true });
    tokenizer.save(path.join(folder, "tokenizer.json"));
    writeJsonAtomic(path.join(folder, "encoded.json"), encoding);
  }
  const pretraining = pretrainingOptions(config);
  if (pretraining && !fs.existsSync(path.join(pretrainedDir(folder, config, pretraining), "model.safetensors")))
    await pretrain(config, folder, pretraining, context.log);
}

/** A checkpoint's classification head must have one output per class of the data (its config's num_labels). */
function checkClassCount(modelDir: string, classes: number): void {
  const configFile = path.join(modelDir, "config.json");
  const config = LongformerConfig.fromJSON(fs.readFileSync(configFile, "utf8"), configFile);
  if (config.num_labels !== classes) {
    throw new Error(
      `--model ${modelDir}: ${configFile} has num_labels ${config.num_labels} but the data has ${classes} classes; use a checkpoint with ${classes} labels (or the small model trained from scratch)`,
    );
  }
}

/** How the small from-scratch model is pretrained (masked LM) before the study fine-tunes it (null: no pretraining). */
interface PretrainingOptions {
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
}

function pretrainingOptions(config: Record<string, JsonValue>): PretrainingOptions | null {
  const epochs = taskOption(config, "pretrainEpochs", 0);
  if (epochs === 0 || taskOption(config, "modelDir", "") !== "") return null;
  requirePositiveInteger(epochs, 'spam-longformer: task option "pretrainEpochs"');
  const batchSize = taskOption(config, "pretrainBatchSize", 8);
  requirePositiveInteger(batchSize, 'spam-longformer: task option "pretrainBatchSize"');
  return { epochs, learningRate: taskOption(config, "pretrainLearningRate", 1e-3), batchSize, seed: taskOption(config, "pretrainSeed", 0) };
}

/** The small Longformer's configuration from the task options (the same for pretraining and fine-tuning). */
function smallModelConfig(config: Record<string, JsonValue>, tokenizer: BpeTokenizer, numLabels: number): LongformerConfig {
  const hidden = taskOption(config, "hiddenSize", 64);
  const dropout = taskOption(config, "dropout", 0.1);
  return new LongformerConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: hidden,
    num_hidden_layers: taskOption(config, "layers", 1),
    num_attention_heads: taskOption(config, "heads", 4),
    intermediate_size: taskOption(config, "intermediateSize", 2 * hidden),
    max_position_embeddings: dataOptions(config).maxLength + 2,
    attention_window: taskOption(config, "attentionWindow", 64),
    hidden_dropout_prob: dropout,
    attention_probs_dropout_prob: dropout,
    pad_token_id: tokenizer.padId,
    num_labels: numLabels,
  });
}

/** Folder of the pretrained encoder: named by everything that decides it (model size and pretraining options). */
function pretrainedDir(folder: string, config: Record<string, JsonValue>, pretraining: PretrainingOptions): string {
  const model = ["hiddenSize", "layers", "heads", "intermediateSize", "attentionWindow", "dropout"].map((k) => config[k] ?? null);
  const key = createHash("sha256")
    .update(JSON.stringify({ recipe: "mlm+global-from-local", model, pretraining }))
    .digest("hex")
    .slice(0, 12);
  return path.join(folder, `pretrained-mlm-e${pretraining.epochs}-${key}`);
}

/**
 * Masked-LM pretraining uses no global attention (as HF's LongformerForMaskedLM), so the `*_global` projections
 * never get a gradient. As the Longformer paper does before fine-tuning with global attention, they start as
 * copies of the trained local projections (query -> query_global, key -> key_global, value -> value_global).
 */
function copyLocalToGlobalProjections(model: LongformerForMaskedLM): void {
  const params = new Map(model.namedParameters());
  for (const [name, variable] of params) {
    const local = /^(.*\.attention\.self\.)(query|key|value)_global\.(weight|bias)$/.exec(name);
    if (local) variable.assign(params.get(`${local[1]}${local[2]}.${local[3]}`)!);
  }
}

/**
 * Pretrains the small Longformer as a masked language model on the pretraining pool (dynamic 80/10/10
 * masking, seeded) and saves it as an HF LongformerForMaskedLM checkpoint with its TensorBoard log.
 */
async function pretrain(config: Record<string, JsonValue>, folder: string, pretraining: PretrainingOptions, log: (line: string) => void): Promise<void> {
  await initBackend();
  const started = Date.now();
  const tokenizer = loadTokenizer(path.join(folder, "tokenizer.json"));
  const encoding = JSON.parse(fs.readFileSync(path.join(folder, "encoded.json"), "utf8")) as SpamEncoding;
  const modelConfig = smallModelConfig(config, tokenizer, encoding.labelNames?.length ?? 2);
  const data = maskedLanguageModelingData(
    encoding.pretrain.ids.map((ids) => Int32Array.from(ids)),
    {
      maskTokenId: tokenizer.maskId,
      vocabSize: tokenizer.vocabSize,
      specialTokenIds: tokenizer.specialTokenIds,
      padId: tokenizer.padId,
      padToMultipleOf: modelConfig.maxWindow,
      seed: pretraining.seed,
    },
  );
  const tokens = encoding.pretrain.ids.reduce((n, ids) => n + ids.length, 0);
  log(
    `pretraining the small Longformer (${modelConfig.num_hidden_layers} layer(s), hidden ${modelConfig.hidden_size}) as a masked LM on ${data.size} ${taskOption(config, "trainFile", "") ? "documents" : "e-mails"} ` +
      `(${tokens} tokens): ${pretraining.epochs} epoch(s), batch ${pretraining.batchSize}, lr ${pretraining.learningRate}`,
  );
  const model = LongformerForMaskedLM.create(modelConfig, { seed: pretraining.seed });
  const dir = pretrainedDir(folder, config, pretraining);
  const trainer = new Trainer({
    model: model.asTrainableModel(),
    trainData: data,
    args: {
      perDeviceBatchSize: pretraining.batchSize,
      learningRate: pretraining.learningRate,
      epochs: pretraining.epochs,
      warmupRatio: 0.1,
      loggingSteps: 1,
      seed: pretraining.seed,
      progress: "none",
    },
    callbacks: [tensorBoardCallback(path.join(dir, "tensorboard"))],
  });
  try {
    const result = await trainer.train();
    copyLocalToGlobalProjections(model);
    model.savePretrained(dir);
    const history = result.history;
    log(
      `pretrained in ${((Date.now() - started) / 1000).toFixed(0)} s (${result.globalStep} steps): masked-LM loss ${history[0]?.loss.toFixed(2)} -> ` +
        `${history[history.length - 1]?.smoothedLoss.toFixed(2)} (smoothed; ln(vocab) = ${Math.log(tokenizer.vocabSize).toFixed(2)})`,
    );
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

/**
 * Loads the cached encoding and builds the classifier: the given checkpoint, or the pretrained encoder (both
 * with a fresh classification head seeded by `seed` when they have none), or a fresh model.
 */
function loadModelAndData(config: Record<string, JsonValue>, folder: string, seed: number) {
  const options = dataOptions(config);
  const tokenizer = loadTokenizer(path.join(folder, "tokenizer.json"));
  const encoding = JSON.parse(fs.readFileSync(path.join(folder, "encoded.json"), "utf8")) as SpamEncoding;
  const window = taskOption(config, "attentionWindow", 64);
  const batching = { padToMultipleOf: window, maxLength: options.maxLength, padId: tokenizer.padId, bucketByLength: true };
  const [train, dev, test] = [encoding.train, encoding.dev, encoding.test].map((part) => sequenceClassificationData(toEncoded(part), batching));
  const pretraining = pretrainingOptions(config);
  const checkpoint = options.modelDir || (pretraining ? pretrainedDir(folder, config, pretraining) : "");
  const model = checkpoint
    ? LongformerForSequenceClassification.fromFolder(checkpoint, { initClassifierHead: true, seed })
    : LongformerForSequenceClassification.create(smallModelConfig(config, tokenizer, encoding.labelNames?.length ?? 2), { seed });
  const classifier = model.asTrainableModel();
  const splits: SpamSplits = { train, dev, test };
  return { model, classifier, splits };
}

async function build(config: Record<string, JsonValue>, context: TaskContext): Promise<ExperimentSetup<unknown>> {
  await prepare(config, { cacheDir: context.cacheDir, log: () => {} });
  const folder = cacheFolder(context.cacheDir, dataOptions(config));
  const { model, classifier, splits } = loadModelAndData(config, folder, context.seed);
  const { train, dev, test } = splits;
  return {
    model: classifier,
    train,
    dev,
    test,
    tokensIn: (indices) => indices.reduce((sum, i) => sum + train.length(i), 0),
    batchPlanner: longformerBatchPlanner(model.config, dataOptions(config).maxLength),
    dispose: () => model.dispose(),
  };
}

/** The registered "spam-longformer" task (see the file comment for its options). */
export const spamLongformerTask: ExperimentTask = {
  name: "spam-longformer",
  description: "SpamAssassin ham vs spam with a Longformer classifier (small from scratch, or a Hugging Face checkpoint)",
  build,
  prepare,
};

/** The registered "text-longformer" task: the same recipe on the documents of `trainFile` (see the file comment). */
export const textLongformerTask: ExperimentTask = {
  name: "text-longformer",
  description: "your labelled documents (CSV, JSONL or a folder per class) with a Longformer classifier (small from scratch, or a Hugging Face checkpoint)",
  build,
  prepare,
};
