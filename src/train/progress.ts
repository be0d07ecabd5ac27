/** Progress display: a bar on a terminal (stderr), a live-updating output in a notebook, throttled. */
import { display, inKernel, JUPYTER_DISPLAY, type DisplayHandle, type MimeBundle } from "../display";
import type { ProgressMode } from "./args";

/** What the progress display shows after an optimizer step. */
export interface ProgressInfo {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  learningRate: number;
  examplesPerSecond: number;
  elapsedSeconds: number;
}

/** Receives progress after every step; `close` shows the final state. */
export interface ProgressReporter {
  /** Shows the progress after a step (throttled). */
  update(info: ProgressInfo): Promise<void>;
  /** Shows the final state. */
  close(): Promise<void>;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** One line such as `[#####-----] 50/100 50% | epoch 0.50 | loss 0.4321 | lr 1.0e-4 | 123.4 ex/s | 0m10s<0m10s`. */
export function formatProgressLine(info: ProgressInfo, width = 24): string {
  const fraction = info.totalSteps > 0 ? Math.min(1, info.step / info.totalSteps) : 0;
  const filled = Math.round(fraction * width);
  const remaining = info.step > 0 ? (info.elapsedSeconds / info.step) * (info.totalSteps - info.step) : NaN;
  return (
    `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${info.step}/${info.totalSteps} ${Math.floor(fraction * 100)}%` +
    ` | epoch ${info.epoch.toFixed(2)} | loss ${info.loss.toPrecision(4)} | lr ${info.learningRate.toExponential(1)}` +
    ` | ${info.examplesPerSecond.toFixed(1)} ex/s | ${duration(info.elapsedSeconds)}<${duration(remaining)}`
  );
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function progressBundle(info: ProgressInfo): { [JUPYTER_DISPLAY](): MimeBundle } {
  const line = formatProgressLine(info);
  return {
    [JUPYTER_DISPLAY]: () => ({
      "text/plain": line,
      "text/html": `<div><progress value="${info.step}" max="${info.totalSteps}" style="width:40%"></progress> <code>${escapeHtml(line.slice(line.indexOf("]") + 2))}</code></div>`,
    }),
  };
}

/** Calls `show` at most every `intervalMs` (the latest info wins); `flush` shows the pending info now. */
class Throttled {
  private last = -Infinity;
  private pending: ProgressInfo | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly show: (info: ProgressInfo) => Promise<void>,
  ) {}

  async offer(info: ProgressInfo): Promise<void> {
    this.pending = info;
    if (Date.now() - this.last >= this.intervalMs) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.pending) return;
    const info = this.pending;
    this.pending = undefined;
    this.last = Date.now();
    await this.show(info);
  }
}

/** A live display in the notebook, updated in place at most every `intervalMs`. */
function notebookProgress(intervalMs: number): ProgressReporter {
  let handle: DisplayHandle | undefined;
  const throttled = new Throttled(intervalMs, async (info) => {
    if (handle) await handle.update(progressBundle(info));
    else handle = await display(progressBundle(info));
  });
  return { update: (info) => throttled.offer(info), close: () => throttled.flush() };
}

/** A single-line bar rewritten with `\r` on a terminal stream. */
function terminalProgress(stream: NodeJS.WriteStream, intervalMs: number): ProgressReporter {
  let shown = false;
  const throttled = new Throttled(intervalMs, (info) => {
    shown = true;
    stream.write(`\r${formatProgressLine(info)}\x1b[K`);
    return Promise.resolve();
  });
  return {
    update: (info) => throttled.offer(info),
    close: async () => {
      await throttled.flush();
      if (shown) stream.write("\n");
    },
  };
}

/** The reporter for `mode`; "auto" picks the notebook inside the kernel, a bar when stderr is a TTY, else none. */
export function createProgressReporter(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const chosen = mode !== "auto" ? mode : inKernel() ? "notebook" : stream.isTTY ? "bar" : "none";
  if (chosen === "notebook") return notebookProgress(500);
  if (chosen === "bar") return terminalProgress(stream, 100);
  return { update: async () => {}, close: async () => {} };
}
