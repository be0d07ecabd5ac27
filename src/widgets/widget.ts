/**
 * The kernel side of a Jupyter widget: a model whose state is kept in sync with ipywidgets' front-end models over
 * one comm (protocol 2.1), as ipywidgets' `Widget` does. Typed fields are accessors (`slider.value = 7` sends an
 * `update`); front-end changes arrive as `update` messages, set the field and call `observe` handlers.
 * Outside a kernel a widget keeps its state locally and displays as text.
 */
import { JUPYTER_DISPLAY, kernelComms } from "../display";
import type { CommChannel, CommMessage, Displayable, MimeBundle } from "../display";
import { MODEL_REFERENCE_PREFIX, putBuffers, removeBuffers, WIDGET_CONTROL_TARGET, WIDGET_PROTOCOL_VERSION, WIDGET_TARGET, WIDGET_VIEW_MIME } from "./protocol";

/** Which front-end classes render a model: `_model_module`, `_model_name`, `_view_name`, ... */
export interface ModelSpec {
  modelModule: { module: string; version: string };
  modelName: string;
  viewModule: { module: string; version: string } | null;
  viewName: string | null;
}

/** What an `observe` handler gets: the field, its old and new value, and the widget. */
export interface Change<W, K extends keyof W> {
  name: K;
  old: W[K];
  new: W[K];
  owner: W;
}

/** The widgets of this process by model id (a front-end's `request_states` lists them all). */
const WIDGETS_KEY = Symbol.for("tsml.widgets");
function openWidgets(): Map<string, Widget> {
  const g = globalThis as { [WIDGETS_KEY]?: Map<string, Widget> };
  return (g[WIDGETS_KEY] ??= new Map<string, Widget>());
}

let localIds = 0;

/** A widget model; subclasses declare their fields with an interface of the same name (declaration merging). */
export class Widget implements Displayable {
  /** The model id: the comm id, which `IPY_MODEL_<id>` references and the view's `model_id` name. */
  readonly modelId: string;
  private readonly spec: ModelSpec;
  /** The synced state, by wire name (snake_case). */
  private readonly state: Record<string, unknown>;
  private readonly comm: CommChannel | undefined;
  private readonly observers = new Map<string, Set<(change: Change<never, never>) => void>>();
  private readonly customHandlers = new Set<(content: unknown, buffers: Uint8Array[]) => void>();
  /** The field being set from a front-end message (not sent back as an `update`). */
  private receiving: string | undefined;
  private closedLocally = false;

  /**
   * Creates the model with `fields` (camelCase names, synced as snake_case) and `hidden` wire-only state; opens its
   * comm when running in the kernel.
   */
  protected constructor(spec: ModelSpec, fields: Record<string, unknown>, hidden: Record<string, unknown> = {}) {
    this.spec = spec;
    this.state = {
      _model_module: spec.modelModule.module,
      _model_module_version: spec.modelModule.version,
      _model_name: spec.modelName,
      _view_module: spec.viewModule?.module ?? null,
      _view_module_version: spec.viewModule?.version ?? "",
      _view_name: spec.viewName,
      _view_count: null,
      ...hidden,
    };
    for (const [name, value] of Object.entries(fields)) {
      this.state[toWireName(name)] = value;
      Object.defineProperty(this, name, {
        enumerable: true,
        get: () => this.state[toWireName(name)],
        set: (next: unknown) => this.setField(name, next),
      });
    }
    const comms = kernelComms();
    if (comms) {
      const { state, buffer_paths, buffers } = this.wireState();
      this.comm = comms.open(
        WIDGET_TARGET,
        { data: { state, buffer_paths }, metadata: { version: WIDGET_PROTOCOL_VERSION }, buffers },
        {
          onMessage: (message) => this.onMessage(message),
          onClose: () => this.forget(),
        },
      );
      this.modelId = this.comm.commId;
    } else {
      this.modelId = `local-${process.pid}-${++localIds}`;
    }
    openWidgets().set(this.modelId, this);
  }

  /** Calls `handler` after `name` changes (from the front-end or from code); returns a function that stops it. */
  observe<K extends keyof this & string>(name: K, handler: (change: Change<this, K>) => void): () => void {
    if (!(toWireName(name) in this.state)) throw new Error(`${this.spec.modelName} has no field ${JSON.stringify(name)} to observe`);
    const set = this.observers.get(name) ?? new Set();
    this.observers.set(name, set);
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Sends a custom message to the front-end model (ipywidgets' `Widget.send`). */
  send(content: unknown, buffers: Uint8Array[] = []): void {
    this.comm?.send({ method: "custom", content }, buffers);
  }

  /** Calls `handler` for each custom message from the front-end; returns a function that stops it. */
  onCustomMessage(handler: (content: unknown, buffers: Uint8Array[]) => void): () => void {
    this.customHandlers.add(handler);
    return () => this.customHandlers.delete(handler);
  }

  /** Adds a CSS class to the widget's views (ipywidgets' `add_class`). */
  addClass(className: string): this {
    const classes = this.state._dom_classes;
    if (!Array.isArray(classes)) throw new Error(`${this.spec.modelName} has no view to add the CSS class ${JSON.stringify(className)} to`);
    if (!classes.includes(className)) this.setHidden("_dom_classes", [...(classes as unknown[]), className]);
    return this;
  }

  /** Closes the widget: the front-end removes its views. */
  close(): void {
    this.closedLocally = true;
    this.comm?.close();
    this.forget();
  }

  /** True once the widget (or its front-end) closed it. */
  get closed(): boolean {
    return this.closedLocally || (this.comm?.closed ?? false);
  }

  /** The whole state as the protocol sends it: JSON with widget references as `IPY_MODEL_<id>`, buffers apart. */
  wireState(): ReturnType<typeof removeBuffers> {
    return removeBuffers(this.serializedState());
  }

  /** The state with widget references as `IPY_MODEL_<id>` and binary values in place. */
  serializedState(): Record<string, unknown> {
    return serialize(this.state) as Record<string, unknown>;
  }

  /** The model's module, name and version, as `update_states` and the saved widget state name them. */
  modelInfo(): { model_name: string; model_module: string; model_module_version: string } {
    return { model_name: this.spec.modelName, model_module: this.spec.modelModule.module, model_module_version: this.spec.modelModule.version };
  }

  /** The display: the widget's view (and a text line for clients without widgets). */
  [JUPYTER_DISPLAY](): MimeBundle {
    return {
      [WIDGET_VIEW_MIME]: { version_major: 2, version_minor: 0, model_id: this.modelId },
      "text/plain": this.describe(),
    };
  }

  /** A one-line text form (`IntSlider(value=3, ...)`). */
  describe(): string {
    const fields = Object.keys(this)
      .filter((key) => Object.getOwnPropertyDescriptor(this, key)?.get && isShort(this.state[toWireName(key)]))
      .map((key) => `${key}=${JSON.stringify(this.state[toWireName(key)])}`);
    return `${this.spec.modelName.replace(/Model$/, "")}(${fields.join(", ")})`;
  }

  /** Sets a wire-only field (one without an accessor) and sends it. */
  protected setHidden(wireName: string, value: unknown): void {
    this.apply(wireName, wireName, value, true);
  }

  /** A wire-only field's value. */
  protected getHidden(wireName: string): unknown {
    return this.state[wireName];
  }

  /** Makes `value` valid for `name` before it is stored (clamping, rounding); the default keeps it. */
  protected coerce(_name: string, value: unknown): unknown {
    return value;
  }

  private setField(name: string, value: unknown): void {
    this.apply(name, toWireName(name), this.coerce(name, value), this.receiving !== toWireName(name));
  }

  private apply(name: string, wireName: string, value: unknown, sendUpdate: boolean): void {
    const old = this.state[wireName];
    if (sameValue(old, value)) return;
    this.state[wireName] = value;
    if (sendUpdate) this.sendUpdate(wireName, value);
    const change = { name, old, new: value, owner: this };
    for (const handler of [...(this.observers.get(name) ?? [])]) (handler as (c: typeof change) => void)(change);
  }

  private sendUpdate(wireName: string, value: unknown): void {
    if (!this.comm || this.comm.closed) return;
    const split = removeBuffers(serialize({ [wireName]: value }) as Record<string, unknown>);
    this.comm.send({ method: "update", state: split.state, buffer_paths: split.buffer_paths }, split.buffers);
  }

  private onMessage(message: CommMessage): void {
    const method = message.data.method;
    if (method === "update") {
      const state = isObject(message.data.state) ? message.data.state : {};
      putBuffers(state, message.data.buffer_paths, message.buffers);
      // As ipywidgets 8 does: echo the accepted state to every front-end, so other views of the model follow.
      const echo = removeBuffers(serialize(state) as Record<string, unknown>);
      this.comm?.send({ method: "echo_update", state: echo.state, buffer_paths: echo.buffer_paths }, echo.buffers);
      for (const [wireName, raw] of Object.entries(state)) this.receive(wireName, deserialize(raw));
    } else if (method === "request_state") {
      const { state, buffer_paths, buffers } = this.wireState();
      this.comm?.send({ method: "update", state, buffer_paths }, buffers);
    } else if (method === "custom") {
      for (const handler of [...this.customHandlers]) handler(message.data.content, message.buffers);
    }
  }

  /** Applies one field the front-end changed. */
  private receive(wireName: string, value: unknown): void {
    const name = toFieldName(wireName);
    const hasAccessor = Object.getOwnPropertyDescriptor(this, name)?.set !== undefined;
    if (!hasAccessor) {
      if (wireName in this.state) this.apply(wireName, wireName, value, false);
      return;
    }
    this.receiving = wireName;
    try {
      this.setField(name, value);
    } finally {
      this.receiving = undefined;
    }
    // A value the kernel changed while accepting it (clamped) goes back to the front-end.
    if (!sameValue(this.state[wireName], value)) this.sendUpdate(wireName, this.state[wireName]);
  }

  private forget(): void {
    openWidgets().delete(this.modelId);
  }
}

/** The widget with `modelId`, if it is open in this process. */
export function widgetById(modelId: string): Widget | undefined {
  return openWidgets().get(modelId);
}

/**
 * Serves a front-end's `request_states` on the `jupyter.widget.control` comm (ipywidgets 8): one `update_states`
 * with every open widget's state, buffers apart, so a reloaded page or a new client shows the live widgets.
 */
function installWidgetControl(): void {
  kernelComms()?.registerTarget(WIDGET_CONTROL_TARGET, (channel) => ({
    onMessage: (message) => {
      if (message.data.method !== "request_states") return;
      const states: Record<string, unknown> = {};
      for (const widget of openWidgets().values()) states[widget.modelId] = { ...widget.modelInfo(), state: widget.serializedState() };
      const split = removeBuffers(states);
      channel.send({ method: "update_states", states: split.state, buffer_paths: split.buffer_paths }, split.buffers);
    },
  }));
}

// As ipywidgets does on import: once a kernel has loaded the widgets (a cell imported tsml), it answers the
// front-end's `jupyter.widget.control` comm. Outside a kernel there are no comms and this does nothing.
installWidgetControl();

/** Widgets become `IPY_MODEL_<id>` references; binary values stay (removeBuffers takes them out). */
function serialize(value: unknown): unknown {
  if (value instanceof Widget) return `${MODEL_REFERENCE_PREFIX}${value.modelId}`;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map(serialize);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, serialize(v)]));
  return value;
}

/** `IPY_MODEL_<id>` references to open widgets become the widgets. */
function deserialize(value: unknown): unknown {
  if (typeof value === "string" && value.startsWith(MODEL_REFERENCE_PREFIX)) return widgetById(value.slice(MODEL_REFERENCE_PREFIX.length)) ?? value;
  if (Array.isArray(value)) return value.map(deserialize);
  return value;
}

/** `readoutFormat` -> `readout_format`. */
function toWireName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `readout_format` -> `readoutFormat`. */
function toFieldName(wireName: string): string {
  return wireName.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Widget || b instanceof Widget || ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return false;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function isShort(value: unknown): boolean {
  return value === null || typeof value === "number" || typeof value === "boolean" || (typeof value === "string" && value.length <= 40);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) && !(value instanceof Widget);
}
