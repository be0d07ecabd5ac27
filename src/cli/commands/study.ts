/**
 * `tsml study` (= `npm start`): the batch-size / gradient-accumulation study. Runs the grid in parallel worker
 * processes with progress on stderr, writes reports/<name>/report.html, results.csv and charts, and prints the
 * conclusion drawn from the measured numbers. Re-running the same command resumes: finished runs are skipped.
 */
import * as path from "path";
import type { RunEvent } from "../../experiments";
import { readStudyGridFile, runStudy, studyTasks, type StudyGridOptions, type StudySize } from "../../study";
import { pretrainedFolder } from "../../hub";
import { resolveQueueUrl } from "../../queue";
import { fetchLongformerCheckpoint } from "../../models/longformer";
import { fetchTokenizerFiles } from "../../tokenizers";
import { formatNumber, requirePositiveInteger } from "../../util";
import { parseArgs, type ParsedArgs } from "../args";
import type { Command } from "../command";

const USAGE = `usage: tsml study [--size small|quick|full] [--train FILE [--dev FILE] [--test FILE] --text-column C --label-column L]
                  [--model DIR_OR_ID] [--max-length N] [--grid FILE | --batch LIST --accumulation LIST --devices N --lr LIST
                  --seeds N --epochs N|--examples N|--steps N --target-loss X --target-dev-f1 X]
                  [--workers N] [--name NAME] [--runs-dir DIR] [--reports-dir DIR] [--task NAME] [--queue URL | --queue-url-file FILE]

Why does the training loss fluctuate with a small batch, and is it a problem? Fine-tunes a Longformer classifier with
every per-device batch x accumulation of the grid, each at several learning rates (re-tuned per effective batch) and
seeds, all at one budget; measures the optimizer steps and examples each batch needs to reach a target loss and fits
the critical batch B_crit (McCandlish et al. 2018) beside the gradient noise scale B_simple; then writes
reports/<name>/report.html (the answer first, then a recommendation for 8 GPUs, then the evidence; every figure with a
95% interval over seeds), results.csv and charts/, and prints the answer. Every run writes TensorBoard event files
under <runs-dir>/<name>/<run>/tensorboard. Re-running the same command resumes.

Default (SpamAssassin): a small Longformer pretrained as a masked LM on 2,048 e-mails (cached), fine-tuned on 512 with
batch {1, 8} x accumulation {1, 8}, learning rates 3e-4, 1e-3, 3e-3, 3 seeds, 2 epochs each (about 5 minutes on 2 cores).

Data (default: SpamAssassin):
  --train FILE        your labelled documents: .csv, .tsv, .jsonl, or a folder with one sub-folder per class
  --dev FILE          dev documents (default: 10% of --train, stratified); labels mapped as in --train
  --test FILE         test documents (default: another 10% of --train)
  --text-column C     column of the text (default "text")
  --label-column L    column of the label (default "label"); at least two classes
  --model DIR_OR_ID   fine-tune this Hugging Face Longformer checkpoint with its own tokenizer (a folder, or a Hub
                      repo id such as allenai/longformer-base-4096, downloaded once) instead of a small one
                      trained from scratch
  --max-length N      tokens per document (default 128); at most the model's positions
Grid (flags override --grid FILE; lists are comma-separated):
  --grid FILE         a JSON or YAML (.yaml/.yml) file with perDeviceBatch, accumulation, devices, learningRates, seeds,
                      budget {epochs|examples|steps}, target {loss, devF1}
  --batch LIST        per-device batches (default 1,8)
  --accumulation LIST accumulation steps (default 1,8)
  --devices N         simulated data-parallel devices: a micro-batch of batch x N (default 1)
  --lr LIST           learning rates tried for every batch (default 3e-4,1e-3,3e-3; 3 or more to re-tune per batch)
  --seeds N           seeds per configuration (default 3; 2 with --size quick)
  --epochs N          budget: equal examples, N epochs each (default 2)
  --examples N        budget: equal examples, N each (steps = N / effective batch)
  --steps N           budget: equal optimizer steps, N each
  --target-loss X     smoothed training loss to reach (default: one every configuration reached)
  --target-dev-f1 X   dev F1 to reach (needs dev evaluation during training)
Running:
  --size S            small (seconds, for CI), quick (under 3 minutes) or full (default; TSML_SMALL=1 = small,
                      --quick = quick)
  --workers N         parallel worker processes (default: number of cores)
  --queue URL         run the trials on a Redis queue instead (redis://HOST:PORT[/DB], rediss:// for TLS), served
                      by \`tsml worker\` on any machine that mounts the runs folder (environment.md); also when
                      $TSML_QUEUE_URL is set, which keeps the password out of the process list (ps)
  --queue-url-file FILE  the queue URL from the first line of FILE
  --name NAME         grid and report name (default "study", "study-quick", "study-small")
  --runs-dir DIR      where run folders go (default "runs"); an interrupted study resumes from there
  --reports-dir DIR   where reports go (default "reports")
  --task NAME         study task: ${studyTasks().join(", ")} (default spam-longformer, text-longformer with --train)`;

/** The options of `tsml study`. */
const OPTIONS = {
  size: "string",
  quick: "boolean",
  train: "string",
  dev: "string",
  test: "string",
  "text-column": "string",
  "label-column": "string",
  model: "string",
  "max-length": "number",
  grid: "string",
  batch: "string",
  accumulation: "string",
  devices: "number",
  lr: "string",
  seeds: "number",
  epochs: "number",
  examples: "number",
  steps: "number",
  "target-loss": "number",
  "target-dev-f1": "number",
  workers: "number",
  queue: "string",
  "queue-url-file": "string",
  name: "string",
  "runs-dir": "string",
  "reports-dir": "string",
  task: "string",
  help: "boolean",
} as const;

/** A comma-separated list of positive numbers (`--lr 1e-5,3e-5`), checked. */
function numberList(text: string | undefined, flag: string, integer: boolean): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(",").map((v) => v.trim());
  for (const v of values) {
    const n = Number(v);
    if (v === "" || !(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw new Error(`${flag} expects a comma-separated list of ${integer ? "positive integers" : "positive numbers"}, got ${JSON.stringify(text)}`);
    }
  }
  return values.map(Number);
}

/** The study size from --size, --quick or TSML_SMALL=1. */
function studySize(size: string | undefined, quick: boolean | undefined): StudySize {
  if (size !== undefined) {
    const sizes: Record<string, StudySize> = { small: "small", quick: "quick", full: "default", default: "default" };
    if (!(size in sizes)) throw new Error(`--size must be small, quick or full, got ${JSON.stringify(size)}`);
    return sizes[size];
  }
  return process.env.TSML_SMALL === "1" ? "small" : quick ? "quick" : "default";
}

/** The grid: the --grid file's fields with the flags on top. */
function gridFromOptions(options: ParsedArgs<typeof OPTIONS>["options"]): StudyGridOptions {
  const grid: StudyGridOptions = options.grid ? readStudyGridFile(options.grid) : {};
  const batch = numberList(options.batch, "--batch", true);
  const accumulation = numberList(options.accumulation, "--accumulation", true);
  const learningRates = numberList(options.lr, "--lr", false);
  if (batch) grid.perDeviceBatch = batch;
  if (accumulation) grid.accumulation = accumulation;
  if (batch || accumulation) delete grid.configurations;
  if (learningRates) grid.learningRates = learningRates;
  if (options.devices !== undefined) {
    requirePositiveInteger(options.devices, "--devices");
    grid.devices = options.devices;
  }
  const budgets = (["epochs", "examples", "steps"] as const).filter((k) => options[k] !== undefined);
  if (budgets.length > 1) throw new Error(`give one budget: --${budgets.join(" or --")}, not both`);
  for (const k of budgets) {
    const value = options[k];
    requirePositiveInteger(value, `--${k}`);
    grid.budget = { [k]: value } as unknown as StudyGridOptions["budget"];
  }
  if (options["target-loss"] !== undefined || options["target-dev-f1"] !== undefined) {
    grid.target = { ...grid.target };
    if (options["target-loss"] !== undefined) grid.target.loss = options["target-loss"];
    if (options["target-dev-f1"] !== undefined) grid.target.devF1 = options["target-dev-f1"];
  }
  return grid;
}

/** Shows which runs are in progress, on one rewritten line on a terminal or a line every 10 s otherwise. */
class StudyProgress {
  private readonly active = new Map<string, { step: number; total: number; loss: number }>();
  private finished = 0;
  private lastLine = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  onEvent(event: RunEvent): void {
    if (event.type === "started") {
      const resumed = event.resumedFromStep ? ` (resuming from step ${event.resumedFromStep})` : "";
      this.print(`started ${event.runId}: ${event.totalSteps} steps on ${event.backend}${resumed}`);
      this.active.set(event.runId, { step: event.resumedFromStep ?? 0, total: event.totalSteps, loss: NaN });
    } else if (event.type === "progress") {
      this.active.set(event.runId, { step: event.step, total: event.totalSteps, loss: event.loss });
      this.status();
    } else if (event.type === "finished") {
      this.active.delete(event.runId);
      this.finished++;
      const m = event.metrics;
      this.print(
        `finished ${event.runId} in ${m.wallTimeSeconds.toFixed(0)} s: dev F1 ${formatNumber(m.dev?.f1)}, loss std ${formatNumber(m.fluctuation.std)}` +
          (m.noiseScale !== null ? `, noise scale ${formatNumber(m.noiseScale)}` : ""),
      );
    } else {
      this.active.delete(event.runId);
      this.print(`FAILED ${event.runId}: ${event.error}`);
    }
  }

  private status(): void {
    const now = Date.now();
    const tty = this.stream.isTTY === true;
    if (now - this.lastLine < (tty ? 200 : 10_000)) return;
    this.lastLine = now;
    const parts = [...this.active].map(([id, s]) => `${id} ${s.step}/${s.total} loss ${Number.isFinite(s.loss) ? s.loss.toFixed(3) : "-"}`);
    const line = `[${this.finished} done] ${parts.join(" | ")}`;
    if (tty) this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
    else this.stream.write(line + "\n");
  }

  /** Prints a message on its own line (clearing a status line first). */
  print(message: string): void {
    if (this.stream.isTTY) this.stream.write("\r\x1b[K");
    this.stream.write(message + "\n");
  }
}

/** The `study` subcommand. */
export const command: Command = {
  summary: "why does my loss fluctuate? batch size vs gradient accumulation study with report",
  run: async (argv) => {
    const { options } = parseArgs(argv, OPTIONS);
    if (options.help) {
      console.log(USAGE);
      return 0;
    }
    if (options.workers !== undefined) requirePositiveInteger(options.workers, "--workers");
    if (options.seeds !== undefined) requirePositiveInteger(options.seeds, "--seeds");
    if (options["max-length"] !== undefined) requirePositiveInteger(options["max-length"], "--max-length");
    const size = studySize(options.size, options.quick);
    const data =
      options.train === undefined
        ? undefined
        : { train: options.train, dev: options.dev, test: options.test, textColumn: options["text-column"], labelColumn: options["label-column"] };
    for (const flag of ["dev", "test", "text-column", "label-column"] as const) {
      if (!data && options[flag] !== undefined) throw new Error(`--${flag} needs --train FILE (your training documents)`);
    }
    const grid = gridFromOptions(options);
    const progress = new StudyProgress(process.stderr);
    const started = Date.now();
    const model = options.model;
    const modelDir =
      model === undefined
        ? undefined
        : await pretrainedFolder(model, {}, async (repo) => {
            await fetchLongformerCheckpoint(repo);
            await fetchTokenizerFiles(repo);
          });
    const outcome = await runStudy({
      size,
      task: options.task,
      data,
      maxLength: options["max-length"],
      modelDir,
      grid,
      seeds: options.seeds,
      runsDir: options["runs-dir"],
      reportsDir: options["reports-dir"],
      name: options.name,
      workers: options.workers,
      queue: resolveQueueUrl(options.queue, options["queue-url-file"]),
      onEvent: (event) => progress.onEvent(event),
      log: (line) => progress.print(line),
      commandLine: process.argv.slice(),
    });
    const failed = outcome.grid.runs.filter((r) => r.status === "failed");
    const skipped = outcome.grid.runs.filter((r) => r.status === "skipped").length;
    console.log(
      `\n${outcome.results.length} runs finished${skipped ? ` (${skipped} from an earlier invocation)` : ""}, ${failed.length} failed; ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    );
    console.log("\nAnswer:");
    for (const finding of outcome.findings) console.log(`- ${finding.text}`);
    console.log(`\nReport: ${path.relative(process.cwd(), outcome.report.html) || outcome.report.html}`);
    console.log(`Results: ${path.relative(process.cwd(), outcome.report.csv)}`);
    for (const f of failed) console.error(`run ${f.id} failed: ${f.error}`);
    return failed.length ? 1 : 0;
  },
};
