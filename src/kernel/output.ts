/** Routes what cells write and display to the kernel's iopub channel. */
import { clearOutput, display } from "../display";
import type { KernelDisplayHook, MimeBundle } from "../display";
import type { DisplayDataContent } from "./messages";

/** Publishes iopub messages on behalf of the currently executing request. */
export interface OutputSink {
  stream(name: "stdout" | "stderr", text: string): void;
  displayData(msgType: "display_data" | "update_display_data", content: DisplayDataContent): void;
  clearOutput(wait: boolean): void;
}

/** How often buffered stream text is sent (ipykernel's OutStream flushes every 0.2 s). */
const STREAM_FLUSH_MS = 200;
/** The most text one stream message carries; more is sent as several messages (split at line ends). */
const MAX_STREAM_MESSAGE = 1 << 20;

/** One run of stream text for one request. */
interface PendingText<Parent> {
  name: "stdout" | "stderr";
  parent: Parent;
  chunks: string[];
  length: number;
}

/**
 * Coalesces what cells write into few `stream` messages, as ipykernel's OutStream does: text is buffered and sent
 * every 200 ms, when the stream (stdout/stderr) or the request it belongs to changes, and whenever the kernel sends
 * anything else (a display, an error, the result, the idle status), so order is kept. A cell printing 100,000 lines
 * sends a handful of messages instead of 100,000. When the channel is backed up beyond `maxBacklogBytes` (a front-end
 * that does not keep up), text is dropped and a marker line says how much.
 */
export class StreamBuffer<Parent> {
  private pending: PendingText<Parent> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dropped = { lines: 0, bytes: 0 };

  constructor(
    private readonly send: (name: "stdout" | "stderr", text: string, parent: Parent) => void,
    private readonly backlogBytes: () => number,
    private readonly maxBacklogBytes = 256 << 20,
  ) {}

  /** Buffers `text` written to `name` by the cell of `parent`. */
  write(name: "stdout" | "stderr", text: string, parent: Parent): void {
    if (this.pending && (this.pending.name !== name || this.pending.parent !== parent)) this.flush();
    this.pending ??= { name, parent, chunks: [], length: 0 };
    this.pending.chunks.push(text);
    this.pending.length += text.length;
    this.timer ??= setTimer(() => this.flush(), STREAM_FLUSH_MS);
  }

  /** Sends the buffered text now. */
  flush(): void {
    if (this.timer) clearTimer(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    const text = pending.chunks.join("");
    if (this.backlogBytes() > this.maxBacklogBytes) {
      this.dropped.lines += text.split("\n").length - 1;
      this.dropped.bytes += Buffer.byteLength(text);
      return;
    }
    if (this.dropped.bytes > 0) {
      const { lines, bytes } = this.dropped;
      this.dropped = { lines: 0, bytes: 0 };
      this.send("stderr", `[tsml kernel: ${lines} lines (${bytes} bytes) of output were dropped here: the front-end did not keep up]\n`, pending.parent);
    }
    for (let start = 0; start < text.length;) {
      let end = Math.min(text.length, start + MAX_STREAM_MESSAGE);
      if (end < text.length) {
        const lineEnd = text.lastIndexOf("\n", end - 1);
        if (lineEnd > start) end = lineEnd + 1;
      }
      this.send(pending.name, text.slice(start, end), pending.parent);
      start = end;
    }
  }
}

// The real timer functions: cells' interrupted timers are skipped (interrupt.ts), the kernel's flush never is.
const setTimer = setTimeout;
const clearTimer = clearTimeout;

/** Replaces process.stdout/stderr writes with iopub `stream` messages; returns a logger to the real stderr. */
export function captureProcessOutput(sink: OutputSink): (message: string) => void {
  const realStderrWrite = process.stderr.write.bind(process.stderr);
  const decoder = new TextDecoder();
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    stream.write = (chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      const text = typeof chunk === "string" ? chunk : decoder.decode(chunk);
      if (text) sink.stream(name, text);
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") process.nextTick(done);
      return true;
    };
  }
  return (message: string) => void realStderrWrite(`[tsml kernel] ${message}\n`);
}

/**
 * Drops the one warning that the kernel itself causes in cells: Node's ExperimentalWarning for
 * `vm.USE_MAIN_CONTEXT_DEFAULT_LOADER`, which the kernel's loading of ES-module-only packages uses (see modules.ts).
 * Every other warning is shown as before.
 */
export function dropKernelLoaderWarning(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = (warning: unknown, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning instanceof Error ? warning.message : "";
    const option = rest[0];
    const type =
      typeof option === "string" ? option : ((option as { type?: unknown } | undefined)?.type ?? (warning instanceof Error ? warning.name : undefined));
    if (type === "ExperimentalWarning" && text.startsWith("vm.USE_MAIN_CONTEXT_DEFAULT_LOADER ")) return;
    emitWarning(warning, ...rest);
  };
}

/** Installs `globalThis.__tsmlKernel` (the display contract of src/display) and globals `display(value)`, `clearOutput(wait)`. */
export function installDisplayHook(sink: OutputSink): void {
  const content = (bundle: MimeBundle, displayId?: string): DisplayDataContent => ({
    data: toJupyterData(bundle),
    metadata: {},
    transient: displayId === undefined ? {} : { display_id: displayId },
  });
  const hook: KernelDisplayHook = {
    display: (bundle, displayId) => sink.displayData("display_data", content(bundle, displayId)),
    update: (bundle, displayId) => sink.displayData("update_display_data", content(bundle, displayId)),
    clear: (wait) => sink.clearOutput(wait),
  };
  Object.assign(globalThis, { __tsmlKernel: hook, display, clearOutput });
}

/** Makes a mime bundle JSON-safe: binary data (PNG bytes) becomes base64 as Jupyter expects. */
export function toJupyterData(bundle: MimeBundle): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(bundle)) {
    data[mime] = value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value;
  }
  return data;
}
