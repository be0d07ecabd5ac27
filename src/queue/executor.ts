/** The trial executor of a grid on a queue: `runGrid(spec, { executor: queueExecutor(url) })`. */
import { createFolder } from "../io";
import type { TrialExecutor } from "../experiments";
import { maskQueueArguments, probeRedis } from "./connection";
import { runTrialsOnQueue, type QueueRunOptions } from "./coordinator";

/** Options of `queueExecutor` (those of `runTrialsOnQueue` that the grid does not give). */
export type QueueExecutorOptions = Pick<QueueRunOptions, "attempts" | "connectTimeoutSeconds" | "display">;

/**
 * Runs a grid's trials as jobs on the Redis queue at `url` (redis://HOST:PORT[/DB], rediss:// for TLS), trained by
 * `tsml worker` processes on any machine that mounts the runs folder. An unreachable queue fails `runGrid` at once;
 * the queue's password is never recorded.
 */
export function queueExecutor(url: string, options: QueueExecutorOptions = {}): TrialExecutor {
  return {
    check: () => probeRedis(url, options.connectTimeoutSeconds),
    recordedCommandLine: (argv) => maskQueueArguments(argv, url),
    run: (jobs, context) => {
      for (const job of jobs) createFolder(job.runDir, `run ${job.run.id} folder`);
      return runTrialsOnQueue(jobs, { ...options, url, runsDir: context.runsDir, env: context.env, onEvent: context.onEvent, log: context.log });
    },
  };
}
