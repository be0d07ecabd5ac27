/**
 * The display contract between tsml's library code and the "TypeScript ML" kernel.
 *
 * A value whose `[Symbol.for("Jupyter.display")]()` method returns a mime bundle (or a Promise of one) is shown
 * from that bundle — the convention Deno's Jupyter kernel uses. Outside a kernel, `display` falls back to
 * printing the bundle's `text/plain`.
 */
import type { MimeBundle } from "./mimeBundle";
import { frameBundle, isDanfoFrame } from "./table";

export type { MimeBundle } from "./mimeBundle";

/** The symbol a displayable object implements (shared with Deno's kernel). */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** Anything that knows how to render itself as a mime bundle. */
export interface Displayable {
  /** The mime bundle the value is shown as. */
  [JUPYTER_DISPLAY](): MimeBundle | Promise<MimeBundle>;
}

/** What the running kernel installs on `globalThis.__tsmlKernel`. */
export interface KernelDisplayHook {
  /** Publishes a `display_data` message; with `displayId` it can be updated later. */
  display(bundle: MimeBundle, displayId?: string): void;
  /** Publishes an `update_display_data` message for an earlier display. */
  update(bundle: MimeBundle, displayId: string): void;
  /** Publishes a `clear_output` message for the running cell. */
  clear(wait: boolean): void;
}

/** A display that can be replaced in place (live charts, progress). */
export interface DisplayHandle {
  readonly displayId: string;
  /** Replaces the displayed output with `value`. */
  update(value: unknown): Promise<void>;
}

let counter = 0;

/** The kernel's hook, when this code runs inside the "TypeScript ML" kernel. */
export function kernelHook(): KernelDisplayHook | undefined {
  return (globalThis as { __tsmlKernel?: KernelDisplayHook }).__tsmlKernel;
}

/** True when running inside the "TypeScript ML" kernel. */
export function inKernel(): boolean {
  return kernelHook() !== undefined;
}

/** True when `value` implements the Jupyter.display protocol. */
export function isDisplayable(value: unknown): value is Displayable {
  return (
    value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as Record<symbol, unknown>)[JUPYTER_DISPLAY] === "function"
  );
}

/** Turns any value into a mime bundle: a Displayable's own bundle, a danfojs frame's table, else a readable text/plain form. */
export async function toMimeBundle(value: unknown): Promise<MimeBundle> {
  if (isDisplayable(value)) return await value[JUPYTER_DISPLAY]();
  if (isDanfoFrame(value)) return frameBundle(value);
  if (typeof value === "string") return { "text/plain": value };
  const { inspect } = await import("util");
  return { "text/plain": inspect(value, { depth: 4, colors: false, maxArrayLength: 50 }) };
}

/** Shows `value` in the notebook (or prints its text form) and returns a handle to update it in place. */
export async function display(value: unknown): Promise<DisplayHandle> {
  const displayId = `tsml-${process.pid}-${++counter}`;
  const bundle = await toMimeBundle(value);
  const hook = kernelHook();
  if (hook) hook.display(bundle, displayId);
  else console.log(String(bundle["text/plain"] ?? ""));
  return {
    displayId,
    update: async (next: unknown) => {
      const nextBundle = await toMimeBundle(next);
      const h = kernelHook();
      if (h) h.update(nextBundle, displayId);
      else console.log(String(nextBundle["text/plain"] ?? ""));
    },
  };
}

/** Clears the running cell's output in the notebook (no-op outside the kernel); `wait` defers it to the next output. */
export function clearOutput(wait = false): void {
  kernelHook()?.clear(wait);
}
