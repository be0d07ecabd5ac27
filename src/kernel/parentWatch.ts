/**
 * Ends an orphaned kernel: a worker thread checks every second whether the process that started the kernel is still
 * there, and SIGKILLs the kernel when it is not. It runs on its own thread, so it acts even while a cell blocks the
 * main event loop (`while (true) {}`), and it is unref'd, so it never keeps the kernel alive.
 *
 * The parent is the PID in JPY_PARENT_PID when Jupyter set it (ignored when that process is already gone at start:
 * a stale value inherited from another session), else the kernel's parent at start. It counts as gone when
 * `process.kill(pid, 0)` finds no such process, or when the kernel's own parent PID changed (it was re-parented).
 */
import { isMainThread, Worker, workerData } from "worker_threads";

const WORKER_ROLE = "tsml-parent-watch";

interface WatchSettings {
  role: typeof WORKER_ROLE;
  kernelPid: number;
  parentPid: number;
  initialPpid: number;
  intervalMs: number;
}

/** Starts the watchdog thread (unref'd) that kills this process once its parent process is gone. */
export function watchParentProcess(intervalMs = 1000): Worker {
  const fromJupyter = Number(process.env.JPY_PARENT_PID);
  const settings: WatchSettings = {
    role: WORKER_ROLE,
    kernelPid: process.pid,
    parentPid: Number.isInteger(fromJupyter) && fromJupyter > 0 && isAlive(fromJupyter) ? fromJupyter : process.ppid,
    initialPpid: process.ppid,
    intervalMs,
  };
  // The worker prints nothing; its own stdout/stderr keep it clear of the kernel's captured process output.
  const worker = new Worker(__filename, { workerData: settings, stdout: true, stderr: true });
  worker.unref();
  return worker;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function pollParent(settings: WatchSettings): void {
  setInterval(() => {
    if (process.ppid !== settings.initialPpid || !isAlive(settings.parentPid)) process.kill(settings.kernelPid, "SIGKILL");
  }, settings.intervalMs);
}

if (!isMainThread && (workerData as Partial<WatchSettings> | null)?.role === WORKER_ROLE) pollParent(workerData as WatchSettings);
