/**
 * ipywidgets' controls, typed: sliders, a dropdown, a checkbox, a button, text, labels, HTML, progress bars, boxes
 * and a play button, each with the model and view names of `@jupyter-widgets/controls` 2.0.0 (ipywidgets 8), so
 * ipywidgets' own front-end renders them.
 *
 * @example
 * import { IntSlider, display } from "tsml";
 * const slider = new IntSlider({ value: 3, min: 0, max: 10, description: "layers" });
 * slider.observe("value", (change) => console.log(`layers: ${change.new}`));
 * void display(slider);
 */
import { BASE_MODULE, CONTROLS_MODULE } from "./protocol";
import { Widget } from "./widget";
import type { ModelSpec } from "./widget";

/** The CSS layout of a widget's view (`@jupyter-widgets/base` LayoutModel); unset fields keep the default. */
export interface LayoutOptions {
  width?: string;
  height?: string;
  margin?: string;
  padding?: string;
  border?: string;
  display?: string;
  flex?: string;
  justifyContent?: string;
  alignItems?: string;
  visibility?: string;
}

const LAYOUT_FIELDS: (keyof LayoutOptions)[] = [
  "width",
  "height",
  "margin",
  "padding",
  "border",
  "display",
  "flex",
  "justifyContent",
  "alignItems",
  "visibility",
];

/** A widget's layout model, referenced by the widget's `layout` field. */
export interface Layout extends Required<{ [K in keyof LayoutOptions]: string | null }> {}
export class Layout extends Widget {
  /** A layout with the given CSS properties (the others null: the front-end's defaults). */
  constructor(options: LayoutOptions = {}) {
    super(
      { modelModule: BASE_MODULE, modelName: "LayoutModel", viewModule: BASE_MODULE, viewName: "LayoutView" },
      Object.fromEntries(LAYOUT_FIELDS.map((name) => [name, options[name] ?? null])),
    );
  }
}

/** A widget's style model (`SliderStyleModel`, `ButtonStyleModel`, ...): the `style` field of a control. */
export class Style extends Widget {
  /** A style model of `modelName` with its fields (`descriptionWidth`, `buttonColor`, `barColor`, ...). */
  constructor(modelName: string, fields: Record<string, unknown>) {
    super({ modelModule: CONTROLS_MODULE, modelName, viewModule: BASE_MODULE, viewName: "StyleView" }, fields);
  }
}

/** What every control takes: a label, a tooltip, disabled, and its layout. */
export interface ControlOptions {
  description?: string;
  tooltip?: string | null;
  disabled?: boolean;
  layout?: LayoutOptions;
}

/** The fields every control has. */
export interface ControlFields {
  description: string;
  tooltip: string | null;
  disabled: boolean;
  readonly layout: Layout;
  readonly style: Style;
}

const DESCRIPTION_STYLE = { descriptionWidth: "" };

/** The fields and wire-only state every control starts with. */
function controlFields(options: ControlOptions, styleModel: string, style: Record<string, unknown> = DESCRIPTION_STYLE): Record<string, unknown> {
  return {
    description: options.description ?? "",
    tooltip: options.tooltip ?? null,
    disabled: options.disabled ?? false,
    layout: new Layout(options.layout),
    style: new Style(styleModel, style),
  };
}

const DOM_STATE = { _dom_classes: [], tabbable: null, description_allow_html: false };

function controlSpec(name: string, viewName = `${name}View`): ModelSpec {
  return { modelModule: CONTROLS_MODULE, modelName: `${name}Model`, viewModule: CONTROLS_MODULE, viewName };
}

/** A slider's options (`value` is clamped into [min, max]). */
export interface SliderOptions extends ControlOptions {
  value?: number;
  min?: number;
  max?: number;
  step?: number;
  orientation?: "horizontal" | "vertical";
  /** Show the value beside the slider. */
  readout?: boolean;
  /** A d3-format string for the readout (`"d"`, `".2f"`, `".3g"`). */
  readoutFormat?: string;
  /** Send every move while dragging (else only the final value). */
  continuousUpdate?: boolean;
}

/** The fields of a slider. */
export interface SliderFields extends ControlFields {
  value: number;
  min: number;
  max: number;
  step: number;
  orientation: "horizontal" | "vertical";
  readout: boolean;
  readoutFormat: string;
  continuousUpdate: boolean;
  behavior: string;
}

function sliderFields(options: SliderOptions, defaults: { min: number; max: number; step: number; readoutFormat: string }): Record<string, unknown> {
  const min = options.min ?? defaults.min;
  const max = options.max ?? defaults.max;
  if (!(min <= max)) throw new Error(`a slider needs min <= max, got min ${min} and max ${max}`);
  const value = Math.min(max, Math.max(min, options.value ?? min));
  return {
    ...controlFields(options, "SliderStyleModel", { descriptionWidth: "", handleColor: null }),
    value,
    min,
    max,
    step: options.step ?? defaults.step,
    orientation: options.orientation ?? "horizontal",
    readout: options.readout ?? true,
    readoutFormat: options.readoutFormat ?? defaults.readoutFormat,
    continuousUpdate: options.continuousUpdate ?? true,
    behavior: "drag-tap",
  };
}

/** A slider of integers. */
export interface IntSlider extends SliderFields {}
export class IntSlider extends Widget {
  /** An integer slider (default range 0–100, step 1). */
  constructor(options: SliderOptions = {}) {
    super(controlSpec("IntSlider"), sliderFields(options, { min: 0, max: 100, step: 1, readoutFormat: "d" }), DOM_STATE);
  }

  protected override coerce(name: string, value: unknown): unknown {
    return name === "value" ? Math.round(clamp(Number(value), this.min, this.max)) : value;
  }
}

/** A slider of real numbers. */
export interface FloatSlider extends SliderFields {}
export class FloatSlider extends Widget {
  /** A real-valued slider (default range 0–10, step 0.1). */
  constructor(options: SliderOptions = {}) {
    super(controlSpec("FloatSlider"), sliderFields(options, { min: 0, max: 10, step: 0.1, readoutFormat: ".2f" }), DOM_STATE);
  }

  protected override coerce(name: string, value: unknown): unknown {
    return name === "value" ? clamp(Number(value), this.min, this.max) : value;
  }
}

/** A log slider's options: `min`, `max` and `step` are exponents of `base`; `value` is the number itself. */
export interface LogSliderOptions extends SliderOptions {
  base?: number;
}

/** A slider over decades (learning rates): its position is log_base(value). */
export interface FloatLogSlider extends SliderFields {
  base: number;
}
export class FloatLogSlider extends Widget {
  /** A log-scale slider: value in [base^min, base^max] (default 10^0–10^4, step 0.1 in the exponent). */
  constructor(options: LogSliderOptions = {}) {
    const base = options.base ?? 10;
    const min = options.min ?? 0;
    const max = options.max ?? 4;
    const value = clamp(options.value ?? base ** min, base ** min, base ** max);
    super(
      controlSpec("FloatLogSlider"),
      { ...sliderFields({ ...options, value: min }, { min, max, step: 0.1, readoutFormat: ".3g" }), value, base },
      DOM_STATE,
    );
  }

  protected override coerce(name: string, value: unknown): unknown {
    return name === "value" ? clamp(Number(value), this.base ** this.min, this.base ** this.max) : value;
  }
}

/** A dropdown's options: the labels and the selected one. */
export interface DropdownOptions extends ControlOptions {
  options: readonly string[];
  /** The selected label (default: the first). */
  value?: string;
}

/** A dropdown list; the front-end syncs the selected `index`, `value` is its label. */
export interface Dropdown extends ControlFields {
  index: number | null;
}
export class Dropdown extends Widget {
  /** A dropdown of `options.options` with `options.value` selected. */
  constructor(options: DropdownOptions) {
    const labels = [...options.options];
    const index = options.value === undefined ? (labels.length > 0 ? 0 : null) : labels.indexOf(options.value);
    if (index === -1) throw new Error(`Dropdown: value ${JSON.stringify(options.value)} is not one of the options ${JSON.stringify(labels)}`);
    super(controlSpec("Dropdown"), { ...controlFields(options, "DescriptionStyleModel"), index }, { ...DOM_STATE, _options_labels: labels });
  }

  /** The labels to choose from. */
  get options(): readonly string[] {
    return this.getHidden("_options_labels") as string[];
  }

  /** The selected label (undefined when nothing is selected). */
  get value(): string | undefined {
    return this.index === null ? undefined : this.options[this.index];
  }

  set value(label: string | undefined) {
    const index = label === undefined ? -1 : this.options.indexOf(label);
    if (label !== undefined && index < 0) throw new Error(`Dropdown: ${JSON.stringify(label)} is not one of the options ${JSON.stringify(this.options)}`);
    this.index = index < 0 ? null : index;
  }

  /** Calls `handler` with the new label after the selection changes; returns a function that stops it. */
  onChange(handler: (value: string | undefined) => void): () => void {
    return this.observe("index", () => handler(this.value));
  }
}

/** A checkbox's options. */
export interface CheckboxOptions extends ControlOptions {
  value?: boolean;
  /** Indent the box to line up with sliders' descriptions. */
  indent?: boolean;
}

/** A checkbox. */
export interface Checkbox extends ControlFields {
  value: boolean;
  indent: boolean;
}
export class Checkbox extends Widget {
  /** A checkbox, unchecked unless `value` is true. */
  constructor(options: CheckboxOptions = {}) {
    super(
      controlSpec("Checkbox"),
      {
        ...controlFields(options, "CheckboxStyleModel", { descriptionWidth: "", background: null }),
        value: options.value ?? false,
        indent: options.indent ?? true,
      },
      DOM_STATE,
    );
  }
}

/** A button's options. */
export interface ButtonOptions extends ControlOptions {
  /** "primary", "success", "info", "warning", "danger" or "". */
  buttonStyle?: "primary" | "success" | "info" | "warning" | "danger" | "";
  /** A Font Awesome icon name ("stop", "play"). */
  icon?: string;
}

/** A button; `onClick` handlers run when it is clicked in the front-end. */
export interface Button extends ControlFields {
  buttonStyle: string;
  icon: string;
}
export class Button extends Widget {
  /** A button labelled `options.description`. */
  constructor(options: ButtonOptions = {}) {
    super(
      controlSpec("Button"),
      {
        ...controlFields(options, "ButtonStyleModel", {
          buttonColor: null,
          fontFamily: null,
          fontSize: null,
          fontStyle: null,
          fontVariant: null,
          fontWeight: null,
          textColor: null,
          textDecoration: null,
        }),
        buttonStyle: options.buttonStyle ?? "",
        icon: options.icon ?? "",
      },
      { _dom_classes: [], tabbable: null },
    );
  }

  /** Calls `handler` on each click; returns a function that stops it. */
  onClick(handler: (button: Button) => void): () => void {
    return this.onCustomMessage((content) => {
      if ((content as { event?: unknown } | null)?.event === "click") handler(this);
    });
  }
}

/** A text box's options. */
export interface TextOptions extends ControlOptions {
  value?: string;
  placeholder?: string;
  continuousUpdate?: boolean;
}

/** A one-line text box. */
export interface Text extends ControlFields {
  value: string;
  placeholder: string;
  continuousUpdate: boolean;
}
export class Text extends Widget {
  /** A text box holding `options.value`. */
  constructor(options: TextOptions = {}) {
    super(
      controlSpec("Text"),
      {
        ...controlFields(options, "TextStyleModel", { descriptionWidth: "", background: null, fontSize: null, textColor: null }),
        value: options.value ?? "",
        placeholder: options.placeholder ?? "",
        continuousUpdate: options.continuousUpdate ?? true,
      },
      DOM_STATE,
    );
  }

  /** Calls `handler` when the user presses Enter in the box; returns a function that stops it. */
  onSubmit(handler: (value: string) => void): () => void {
    return this.onCustomMessage((content) => {
      if ((content as { event?: unknown } | null)?.event === "submit") handler(this.value);
    });
  }
}

const TEXT_STYLE = {
  descriptionWidth: "",
  background: null,
  fontFamily: null,
  fontSize: null,
  fontStyle: null,
  fontVariant: null,
  fontWeight: null,
  textColor: null,
  textDecoration: null,
};

/** A line of text. */
export interface Label extends ControlFields {
  value: string;
}
export class Label extends Widget {
  /** A label showing `value`. */
  constructor(value = "", options: ControlOptions = {}) {
    super(controlSpec("Label"), { ...controlFields(options, "LabelStyleModel", TEXT_STYLE), value }, { ...DOM_STATE, placeholder: "" });
  }
}

/** HTML shown as is. */
export interface HTML extends ControlFields {
  value: string;
}
export class HTML extends Widget {
  /** A widget showing the HTML `value`. */
  constructor(value = "", options: ControlOptions = {}) {
    super(
      controlSpec("HTML"),
      { ...controlFields(options, "HTMLStyleModel", { descriptionWidth: "", background: null, fontSize: null, textColor: null }), value },
      { ...DOM_STATE, placeholder: "" },
    );
  }
}

/** A progress bar's options. */
export interface ProgressOptions extends ControlOptions {
  value?: number;
  min?: number;
  max?: number;
  /** "success", "info", "warning", "danger" or "". */
  barStyle?: "success" | "info" | "warning" | "danger" | "";
  orientation?: "horizontal" | "vertical";
}

/** A progress bar. */
export interface Progress extends ControlFields {
  value: number;
  min: number;
  max: number;
  barStyle: string;
  orientation: "horizontal" | "vertical";
}
export class Progress extends Widget {
  /** A progress bar from `min` to `max` (default 0–100); `integer` makes it an IntProgress, else a FloatProgress. */
  constructor(options: ProgressOptions & { integer?: boolean } = {}) {
    const min = options.min ?? 0;
    const max = options.max ?? 100;
    super(
      { ...controlSpec(options.integer ? "IntProgress" : "FloatProgress"), viewName: "ProgressView" },
      {
        ...controlFields(options, "ProgressStyleModel", { descriptionWidth: "", barColor: null }),
        value: clamp(options.value ?? min, min, max),
        min,
        max,
        barStyle: options.barStyle ?? "",
        orientation: options.orientation ?? "horizontal",
      },
      DOM_STATE,
    );
  }

  protected override coerce(name: string, value: unknown): unknown {
    return name === "value" ? clamp(Number(value), this.min, this.max) : value;
  }
}

/** A progress bar of integers (ipywidgets' IntProgress). */
export class IntProgress extends Progress {
  /** An integer progress bar from `min` to `max`. */
  constructor(options: ProgressOptions = {}) {
    super({ ...options, integer: true });
  }
}

/** A progress bar of real numbers (ipywidgets' FloatProgress). */
export class FloatProgress extends Progress {
  /** A real-valued progress bar from `min` to `max`. */
  constructor(options: ProgressOptions = {}) {
    super({ ...options, integer: false });
  }
}

/** A box's fields: the widgets in it. */
export interface BoxFields {
  children: Widget[];
  /** "success", "info", "warning", "danger" or "". */
  boxStyle: string;
  readonly layout: Layout;
}

function boxFields(children: Widget[], layout?: LayoutOptions): Record<string, unknown> {
  return { children: [...children], boxStyle: "", layout: new Layout(layout) };
}

/** Widgets side by side. */
export interface HBox extends BoxFields {}
export class HBox extends Widget {
  /** A row of `children`. */
  constructor(children: Widget[] = [], options: { layout?: LayoutOptions } = {}) {
    super(controlSpec("HBox"), boxFields(children, options.layout), { _dom_classes: [], tabbable: null, tooltip: null });
  }
}

/** Widgets one above the other. */
export interface VBox extends BoxFields {}
export class VBox extends Widget {
  /** A column of `children`. */
  constructor(children: Widget[] = [], options: { layout?: LayoutOptions } = {}) {
    super(controlSpec("VBox"), boxFields(children, options.layout), { _dom_classes: [], tabbable: null, tooltip: null });
  }
}

/** A play button's options: it counts `value` from `min` to `max` every `interval` ms while playing. */
export interface PlayOptions extends ControlOptions {
  value?: number;
  min?: number;
  max?: number;
  step?: number;
  /** Milliseconds between steps. */
  interval?: number;
  repeat?: boolean;
}

/** A play/pause button that animates an integer (link it to a slider). */
export interface Play extends ControlFields {
  value: number;
  min: number;
  max: number;
  step: number;
  interval: number;
  playing: boolean;
  repeat: boolean;
  showRepeat: boolean;
}
export class Play extends Widget {
  /** A player counting from `min` to `max` (default 0–100, every 100 ms). */
  constructor(options: PlayOptions = {}) {
    const min = options.min ?? 0;
    const max = options.max ?? 100;
    super(
      controlSpec("Play"),
      {
        ...controlFields(options, "DescriptionStyleModel"),
        value: clamp(options.value ?? min, min, max),
        min,
        max,
        step: options.step ?? 1,
        interval: options.interval ?? 100,
        playing: false,
        repeat: options.repeat ?? false,
        showRepeat: true,
      },
      DOM_STATE,
    );
  }
}

function clamp(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) throw new Error(`a widget value must be a finite number, got ${value}`);
  return Math.min(max, Math.max(min, value));
}
