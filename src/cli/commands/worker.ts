/**
 * `tsml worker --queue redis://HOST:PORT`: serves the trials of sweeps started with `tsml study --queue` (or
 * `runGrid(..., { queue })`) on this machine until stopped with Ctrl-C or SIGTERM; the trials it was running then
 * resume from their checkpoints on another worker.
 */
import { resolveQueueUrl, startTrialWorker, DEFAULT_LOCK_SECONDS, QUEUE_URL_VARIABLE } from "../../queue";
import { requirePositiveInteger } from "../../util";
import { parseArgs } from "../args";
import type { Command } from "../command";

const USAGE = `usage: tsml worker [--queue URL | --queue-url-file FILE] [--concurrency N] [--runs-dir DIR] [--lock-seconds S] [--task-module FILE,...]

Pulls trials of experiment grids from a Redis queue and trains them into the shared runs folder, one process per
trial. Start one on every machine (see environment.md, "Sweeps on many machines").

  --queue URL        redis://[:PASSWORD@]HOST:PORT[/DB], or rediss://... for TLS (the password is never printed);
                     default: $TSML_QUEUE_URL, which keeps the password out of the process list (ps)
  --queue-url-file FILE  read the URL from the first line of FILE instead (e.g. a secret mounted read-only)
  --concurrency N    trials at once on this machine (default 1)
  --runs-dir DIR     the shared runs folder as mounted here (default "runs"): every trial is trained in a folder
                     inside it, placed as the coordinator placed it inside its own runs folder
  --lock-seconds S   how long a trial's job lock lasts without renewal (default ${DEFAULT_LOCK_SECONDS}): a trial of a
                     worker that died moves to another worker after about this long
  --task-module FILES  comma-separated task modules from outside tsml that jobs may ask this worker to load
                     (tsml's own tasks are always allowed; a job asking for any other module fails)`;

/** Longest wait, after Ctrl-C or SIGTERM, for the running trials to stop and Redis to let go. */
const CLOSE_SECONDS = 10;

/** The `worker` subcommand. */
export const command: Command = {
  summary: "serve the trials of sweeps on a Redis queue (tsml study --queue) on this machine",
  run: async (argv) => {
    const { options } = parseArgs(argv, {
      queue: "string",
      "queue-url-file": "string",
      concurrency: "number",
      "runs-dir": "string",
      "lock-seconds": "number",
      "task-module": "string",
      help: "boolean",
    });
    if (options.help) {
      console.log(USAGE);
      return 0;
    }
    const url = resolveQueueUrl(options.queue, options["queue-url-file"]);
    if (url === undefined)
      throw new Error(`no queue given: set ${QUEUE_URL_VARIABLE}, or pass --queue-url-file FILE or --queue URL (e.g. redis://localhost:6379)\n\n${USAGE}`);
    const concurrency = options.concurrency;
    if (concurrency !== undefined) requirePositiveInteger(concurrency, "--concurrency");
    const lockSeconds = options["lock-seconds"];
    if (lockSeconds !== undefined && !(lockSeconds >= 1)) throw new Error(`--lock-seconds must be at least 1, got ${lockSeconds}`);
    const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
    const taskModules = (options["task-module"] ?? "").split(",").filter((module) => module !== "");
    const worker = await startTrialWorker({ url, concurrency, runsDir: options["runs-dir"], lockSeconds, taskModules, log });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"));
      process.once("SIGTERM", () => resolve("SIGTERM"));
    });
    log(`${signal}: stopping ${worker.activeTrials()} running trial(s); they resume from their checkpoints on another worker`);
    // Closing waits for Redis; a second signal, or CLOSE_SECONDS without an answer, ends the worker anyway.
    const forced = new Promise<void>((resolve) => {
      setTimeout(resolve, CLOSE_SECONDS * 1000).unref();
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    await Promise.race([worker.close(), forced]);
    return signal === "SIGINT" ? 130 : 143;
  },
};
