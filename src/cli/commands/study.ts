/**
 * `tsml study` (= `npm start`): the batch-size / gradient-accumulation study. Runs the grid in parallel worker
 * processes with progress on stderr, writes reports/<name>/report.html, results.csv and charts, and prints the
 * conclusion drawn from the measured numbers. Re-running the same command resumes: finished runs are skipped.
 */
import * as path from "path";
import type { RunEvent } from "../../experiments";
import { runStudy, studyTasks, type StudySize } from "../../study";
import { pretrainedFolder } from "../../hub";
import { resolveQueueUrl } from "../../queue";
import { fetchLongformerCheckpoint } from "../../models/longformer";
import { fetchTokenizerFiles } from "../../tokenizers";
import { formatNumber, requirePositiveInteger } from "../../util";
import { parseArgs } from "../args";
import type { Command } from "../main";

const USAGE = `usage: tsml study [--quick] [--seeds N] [--model DIR_OR_ID] [--workers N] [--name NAME] [--runs-dir DIR] [--reports-dir DIR] [--task NAME] [--queue URL | --queue-url-file FILE]

Why does the training loss fluctuate with a small batch, and does gradient accumulation fix it? Pretrains a small
Longformer as a masked language model (cached), then fine-tunes a classifier from it with batch 8, 8 x 4 and 8 x 8
accumulation, batch 1 and 1 x 8 (at learning rate 1e-3, and batch 8 — 1 per GPU x 8 GPUs — also at 1e-4 and 1e-5), each with
several seeds, then writes reports/<name>/report.html (self-contained; every figure with a 95% interval over seeds),
results.csv and charts/, and prints the conclusion. Every run writes TensorBoard event files under
<runs-dir>/<name>/<run>/tensorboard (tensorboard --logdir <runs-dir>).

  --quick            under 3 minutes on 2 cores instead of about 5 (TSML_SMALL=1: seconds, for CI)
  --seeds N          seeds per configuration (default 5, 3 with --quick)
  --model DIR_OR_ID  fine-tune this Hugging Face Longformer checkpoint (a folder, or a Hub repo id such as
                     allenai/longformer-base-4096, downloaded once into the huggingface_hub cache) instead of
                     a small one trained from scratch
  --workers N        parallel worker processes (default: number of cores)
  --queue URL        run the trials on a Redis queue instead (redis://HOST:PORT[/DB], rediss:// for TLS), served
                     by \`tsml worker\` on any machine that mounts the runs folder (environment.md); also when
                     $TSML_QUEUE_URL is set, which keeps the password out of the process list (ps)
  --queue-url-file FILE  the queue URL from the first line of FILE
  --name NAME        grid and report name (default "study", "study-quick" with --quick)
  --runs-dir DIR     where run folders go (default "runs"); an interrupted study resumes from there
  --reports-dir DIR  where reports go (default "reports")
  --task NAME        study task: ${studyTasks().join(", ")} (default spam-longformer)`;

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
    const { options } = parseArgs(argv, {
      quick: "boolean",
      seeds: "number",
      model: "string",
      workers: "number",
      queue: "string",
      "queue-url-file": "string",
      name: "string",
      "runs-dir": "string",
      "reports-dir": "string",
      task: "string",
      help: "boolean",
    });
    if (options.help) {
      console.log(USAGE);
      return 0;
    }
    const workers = options.workers as number | undefined;
    if (workers !== undefined) requirePositiveInteger(workers, "--workers");
    const seeds = options.seeds as number | undefined;
    if (seeds !== undefined) requirePositiveInteger(seeds, "--seeds");
    const size: StudySize = process.env.TSML_SMALL === "1" ? "small" : options.quick ? "quick" : "default";
    const progress = new StudyProgress(process.stderr);
    const started = Date.now();
    const model = options.model as string | undefined;
    const modelDir = model === undefined ? undefined : await pretrainedFolder(model, {}, async (repo) => {
      await fetchLongformerCheckpoint(repo);
      await fetchTokenizerFiles(repo);
    });
    const outcome = await runStudy({
      size,
      task: options.task as string | undefined,
      modelDir,
      seeds,
      runsDir: options["runs-dir"] as string | undefined,
      reportsDir: options["reports-dir"] as string | undefined,
      name: options.name as string | undefined,
      workers,
      queue: resolveQueueUrl(options.queue as string | undefined, options["queue-url-file"] as string | undefined),
      onEvent: (event) => progress.onEvent(event),
      log: (line) => progress.print(line),
      commandLine: process.argv.slice(),
    });
    const failed = outcome.grid.runs.filter((r) => r.status === "failed");
    const skipped = outcome.grid.runs.filter((r) => r.status === "skipped").length;
    console.log(`\n${outcome.results.length} runs finished${skipped ? ` (${skipped} from an earlier invocation)` : ""}, ${failed.length} failed; ${((Date.now() - started) / 1000).toFixed(0)} s.`);
    console.log("\nConclusion:");
    for (const finding of outcome.findings) console.log(`- ${finding.text}`);
    console.log(`\nReport: ${path.relative(process.cwd(), outcome.report.html) || outcome.report.html}`);
    console.log(`Results: ${path.relative(process.cwd(), outcome.report.csv)}`);
    for (const f of failed) console.error(`run ${f.id} failed: ${f.error}`);
    return failed.length ? 1 : 0;
  },
};
