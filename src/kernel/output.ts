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

/** Replaces process.stdout/stderr writes with iopub `stream` messages; returns a logger to the real stderr. */
export function captureProcessOutput(sink: OutputSink): (message: string) => void {
  const realStderrWrite = process.stderr.write.bind(process.stderr);
  const decoder = new TextDecoder();
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      const text = typeof chunk === "string" ? chunk : decoder.decode(chunk);
      if (text) sink.stream(name, text);
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
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
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning instanceof Error ? warning.message : "";
    const option = rest[0];
    const type = typeof option === "string" ? option : (option as { type?: unknown } | undefined)?.type ?? (warning instanceof Error ? warning.name : undefined);
    if (type === "ExperimentalWarning" && text.startsWith("vm.USE_MAIN_CONTEXT_DEFAULT_LOADER ")) return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
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
