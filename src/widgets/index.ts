/**
 * Jupyter widgets for tsml notebooks (ipywidgets 8's protocol, rendered by ipywidgets' own front-end): controls,
 * an Output area, links, `interact`, and a training dashboard.
 */
export * from "./protocol";
export { Widget, widgetById } from "./widget";
export type { Change, ModelSpec } from "./widget";
export * from "./controls";
export * from "./output";
export * from "./link";
export * from "./interact";
export * from "./dashboard";
