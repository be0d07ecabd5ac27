/**
 * The Jupyter widgets message protocol, version 2.1 (ipywidgets 8): comm targets, model modules, the display mime
 * type, and binary buffers in widget state.
 * https://github.com/jupyter-widgets/ipywidgets/blob/main/packages/schema/messages.md
 */

/** The comm target a widget's model opens (one comm per widget). */
export const WIDGET_TARGET = "jupyter.widget";
/** The comm target a front-end opens to fetch every widget's state at once (`request_states`). */
export const WIDGET_CONTROL_TARGET = "jupyter.widget.control";
/** The widget protocol version, sent in each comm_open's metadata. */
export const WIDGET_PROTOCOL_VERSION = "2.1.0";
/** The mime type that displays a widget. */
export const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
/** How `IPY_MODEL_<id>` strings refer to other widgets in a state. */
export const MODEL_REFERENCE_PREFIX = "IPY_MODEL_";

/** ipywidgets 8's controls model module (sliders, buttons, boxes, ...) and its version. */
export const CONTROLS_MODULE = { module: "@jupyter-widgets/controls", version: "2.0.0" } as const;
/** ipywidgets 8's base model module (layouts, styles) and its version. */
export const BASE_MODULE = { module: "@jupyter-widgets/base", version: "2.0.0" } as const;
/** ipywidgets 8's Output model module and its version. */
export const OUTPUT_MODULE = { module: "@jupyter-widgets/output", version: "1.0.0" } as const;

/** A path into a state object: keys and list indices. */
export type BufferPath = (string | number)[];

/** A state split for the wire: JSON without the binary parts, the paths they were at, and the buffers. */
export interface SplitState {
  state: Record<string, unknown>;
  buffer_paths: BufferPath[];
  buffers: Uint8Array[];
}

/**
 * Takes the binary values (typed arrays, ArrayBuffers, DataViews) out of `state`, anywhere in it, as the protocol
 * wants: a buffer in an object is removed from it, one in a list is replaced by null; their paths are returned.
 */
export function removeBuffers(state: Record<string, unknown>): SplitState {
  const buffer_paths: BufferPath[] = [];
  const buffers: Uint8Array[] = [];
  const walk = (value: unknown, path: BufferPath): unknown => {
    const bytes = asBytes(value);
    if (bytes) {
      buffer_paths.push(path);
      buffers.push(bytes);
      return undefined;
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]) ?? null);
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const kept = walk(item, [...path, key]);
        if (kept !== undefined || !asBytes(item)) out[key] = kept;
      }
      return out;
    }
    return value;
  };
  return { state: walk(state, []) as Record<string, unknown>, buffer_paths, buffers };
}

/** Puts received binary buffers back into `state` at their paths (the inverse of `removeBuffers`). */
export function putBuffers(state: Record<string, unknown>, bufferPaths: unknown, buffers: Uint8Array[]): void {
  if (!Array.isArray(bufferPaths)) return;
  if (bufferPaths.length > buffers.length) {
    throw new Error(`a widget message names ${bufferPaths.length} buffer paths but carries ${buffers.length} buffers`);
  }
  bufferPaths.forEach((path, i) => {
    if (!Array.isArray(path) || path.length === 0) throw new Error(`a widget message has the invalid buffer path ${JSON.stringify(path)}`);
    const keys = path as (string | number)[];
    let target = state as Record<string | number, unknown>;
    for (const key of keys.slice(0, -1)) {
      target[key] ??= typeof key === "number" ? [] : {};
      target = target[key] as Record<string | number, unknown>;
    }
    target[keys[keys.length - 1]] = buffers[i];
  });
}

function asBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
