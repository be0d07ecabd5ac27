/**
 * The worker process forked by `runGrid` for one run: it receives a RunJob over IPC, executes it, reports
 * RunEvents back to the parent and exits (0 when the run finished, 1 when it failed). It ends when its parent
 * does (a killed `tsml study` leaves no worker training into the runs folder), even in the middle of a step.
 */
import { watchParentProcess } from "../supervision";
import { executeRun, type RunEvent, type RunJob } from "./trial";

/** How often the worker looks for its parent, in milliseconds. */
const PARENT_POLL_MS = 200;

watchParentProcess({ parentPid: process.ppid, intervalMs: PARENT_POLL_MS });
process.on("disconnect", () => process.exit(1));

let delivered: Promise<void> = Promise.resolve();

/** Sends `event` to the parent; `delivered` resolves once every event sent so far has left the process. */
function send(event: RunEvent): void {
  const sent = new Promise<void>((resolve) => (process.send ? process.send(event, undefined, {}, () => resolve()) : resolve()));
  delivered = delivered.then(() => sent);
}

process.once("message", (job: RunJob) => {
  executeRun(job, send).then(
    async () => {
      await delivered;
      process.exit(0);
    },
    async (error: unknown) => {
      console.error(error instanceof Error ? error.stack ?? error.message : String(error));
      send({ type: "failed", runId: job.run.id, error: error instanceof Error ? error.message : String(error) });
      await delivered;
      process.exit(1);
    },
  );
});
