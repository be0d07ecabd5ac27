/**
 * The Output widget (`@jupyter-widgets/output` 1.0.0): what a cell (or a widget callback) displays and prints
 * while `capture` runs goes into the widget instead of the cell's output. As ipywidgets does it, the kernel sets
 * the model's `msg_id` to the running request's id; the front-end then routes that request's outputs into the
 * widget (and keeps them in its `outputs`, which the saved widget state carries).
 *
 * @example
 * import { Output, display } from "tsml";
 * const out = new Output();
 * void display(out);
 * void out.capture(() => console.log("inside the widget"));
 */
import { clearOutput, kernelComms } from "../display";
import { OUTPUT_MODULE } from "./protocol";
import { Widget } from "./widget";
import type { LayoutOptions } from "./controls";
import { Layout } from "./controls";

/** An output area as a widget. */
export interface Output {
  /** The outputs the front-end captured (Jupyter output dicts). */
  outputs: Record<string, unknown>[];
  readonly layout: Layout;
}
export class Output extends Widget {
  private captures = 0;

  /** An empty output area. */
  constructor(options: { layout?: LayoutOptions } = {}) {
    super(
      { modelModule: OUTPUT_MODULE, modelName: "OutputModel", viewModule: OUTPUT_MODULE, viewName: "OutputView" },
      { outputs: [], layout: new Layout(options.layout) },
      { _dom_classes: [], tabbable: null, tooltip: null, msg_id: "" },
    );
  }

  /** Runs `body` with its displays and prints going into this widget; resolves with what `body` returned. */
  async capture<T>(body: () => T | Promise<T>): Promise<T> {
    const msgId = kernelComms()?.currentMessageId() ?? "";
    this.captures++;
    this.setHidden("msg_id", msgId);
    try {
      return await body();
    } finally {
      if (--this.captures === 0) this.setHidden("msg_id", "");
    }
  }

  /** Clears the widget's outputs (with `wait`, when the next output arrives: no flicker). */
  async clear(wait = false): Promise<void> {
    await this.capture(() => clearOutput(wait));
  }
}
