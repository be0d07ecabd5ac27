/**
 * The worker process forked by `runGrid` for one run: it receives a RunJob over IPC, executes it, reports
 * RunEvents back to the parent and exits (0 when the run finished, 1 when it failed). It ends when its parent
 * does (a killed `tsml study` leaves no worker training into the runs folder), even in the middle of a step.
 */
import { currentParentPid, watchParentProcess } from "../supervision";
import { GRID_PID_VARIABLE } from "./gridPid";
import type { RunEvent, RunJob } from "./trial";

/** How often the worker looks for its parent, in milliseconds. */
const PARENT_POLL_MS = 200;

// Watch first: loading the training code (tfjs, the task) takes seconds on a busy machine. A grid that died even
// before this line ran has left this process re-parented already.
const gridPid = Number(process.env[GRID_PID_VARIABLE]) || process.ppid;
if (currentParentPid() !== gridPid) process.exit(1);
watchParentProcess({ parentPid: gridPid, intervalMs: PARENT_POLL_MS });
process.on("disconnect", () => process.exit(1));

const { executeRun } = require("./trial") as typeof import("./trial");

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
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      send({ type: "failed", runId: job.run.id, error: error instanceof Error ? error.message : String(error) });
      await delivered;
      process.exit(1);
    },
  );
});
