/**
 * Ends an orphaned process (a kernel, a grid worker): a worker thread checks every `intervalMs` whether the process
 * that started this one is still there, and SIGKILLs this process when it is not. It runs on its own thread, so it
 * acts even while the main thread computes synchronously (`while (true) {}`, a WASM training step), and it is
 * unref'd, so it never keeps the process alive.
 *
 * The parent is `parentPid` when given; for a kernel, the PID in JPY_PARENT_PID when Jupyter set it (ignored when
 * that process is already gone at start: a stale value inherited from another session); else this process's parent
 * at start. It counts as gone when it no longer runs (a zombie counts as gone), or when this process was
 * re-parented (its parent pid changed).
 */
import { isMainThread, Worker, workerData } from "worker_threads";
import { currentParentPid, isProcessAlive, processIdentity, type ProcessIdentity } from "./processes";
import { isPositiveInteger } from "../util";

const WORKER_ROLE = "tsml-parent-watch";

interface WatchSettings {
  role: typeof WORKER_ROLE;
  watchedPid: number;
  parent: ProcessIdentity;
  initialPpid: number;
  intervalMs: number;
}

/** Options of `watchParentProcess`. */
export interface ParentWatchOptions {
  /** How often to look, in milliseconds (default 1000). */
  intervalMs?: number;
  /** The process whose end ends this one (default: JPY_PARENT_PID when alive, else the parent). */
  parentPid?: number;
}

/** Starts the watchdog thread (unref'd) that kills this process once its parent process is gone. */
export function watchParentProcess(options: ParentWatchOptions = {}): Worker {
  const fromJupyter = Number(process.env.JPY_PARENT_PID);
  const jupyter = isPositiveInteger(fromJupyter) ? processIdentity(fromJupyter) : undefined;
  const parentPid = options.parentPid ?? (jupyter && isProcessAlive(jupyter) ? jupyter.pid : currentParentPid());
  const settings: WatchSettings = {
    role: WORKER_ROLE,
    watchedPid: process.pid,
    parent: processIdentity(parentPid),
    initialPpid: currentParentPid(),
    intervalMs: options.intervalMs ?? 1000,
  };
  // The worker prints nothing; its own stdout/stderr keep it clear of the process's captured output.
  const worker = new Worker(__filename, { workerData: settings, stdout: true, stderr: true });
  worker.unref();
  return worker;
}

function pollParent(settings: WatchSettings): void {
  setInterval(() => {
    if (currentParentPid() !== settings.initialPpid || !isProcessAlive(settings.parent)) process.kill(settings.watchedPid, "SIGKILL");
  }, settings.intervalMs);
}

if (!isMainThread && (workerData as Partial<WatchSettings> | null)?.role === WORKER_ROLE) pollParent(workerData as WatchSettings);
