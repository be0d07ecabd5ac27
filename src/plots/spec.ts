/** Shared Vega-Lite building blocks: the spec types, the house style, readable field names and "no data" charts. */
import type { Config, TopLevelSpec } from "vega-lite";

/** A Vega-Lite spec as plain, editable JSON, typed by vega-lite's own `TopLevelSpec`. */
export type VegaLiteSpec = TopLevelSpec;

/** `Omit` applied to each member of a union (the built-in one would merge the spec kinds into one). */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What a builder writes itself: a spec without the boilerplate `topLevel` adds. */
export type ChartBody = OmitEach<TopLevelSpec, "$schema" | "title" | "config">;

/** A layered spec (loss curves, comparisons, fits). */
type LayeredSpec = Extract<TopLevelSpec, { layer: unknown }>;

/** One layer of a layered spec. */
export type ChartLayer = LayeredSpec["layer"][number];

/** The encoding channels of a single-view layer. */
export type ChartEncoding = NonNullable<Extract<ChartLayer, { mark: unknown }>["encoding"]>;

/** A data transform (calculate, aggregate, ...). */
export type ChartTransform = NonNullable<LayeredSpec["transform"]>[number];

/** The `$schema` every builder stamps on its spec (Jupyter's renderer keys on v5). */
export const VEGA_LITE_V5_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Fonts in preference order: DejaVu Sans ships with the package, so headless renders match the browser's. */
export const CHART_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** Size and title options every builder accepts. */
export interface ChartLayoutOptions {
  /** Chart title (each builder has a sensible default). */
  title?: string;
  /** Plot width in pixels. */
  width?: number;
  /** Plot height in pixels. */
  height?: number;
}

/** The house style shared by all charts (font, quiet grid, no view border). */
export function chartConfig(): Config {
  return {
    font: CHART_FONT,
    view: { stroke: null },
    axis: { gridColor: "#e8e8e8", domainColor: "#888", tickColor: "#888", labelFontSize: 11, titleFontSize: 12 },
    legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 300, titleLimit: 300 },
    title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: "#555", anchor: "start" },
  };
}

/** Top-level boilerplate ($schema, title, config, background) around a builder's body; subtitle lines are kept short. */
export function topLevel(title: string, subtitle: string | string[] | undefined, body: ChartBody): VegaLiteSpec {
  return {
    $schema: VEGA_LITE_V5_SCHEMA,
    title: subtitle ? { text: title, subtitle } : { text: title },
    background: "white",
    padding: 8,
    ...body,
    config: chartConfig(),
  };
}

/** A visible, valid chart saying there is nothing to plot and why (instead of an empty or broken spec). */
export function noDataSpec(title: string, reason: string, layout: ChartLayoutOptions = {}): VegaLiteSpec {
  return topLevel(title, undefined, {
    width: layout.width ?? 480,
    height: layout.height ?? 200,
    data: { values: [{ message: `no data: ${reason}` }] },
    mark: { type: "text", fontSize: 14, color: "#888" },
    encoding: { text: { field: "message", type: "nominal" } },
    usermeta: { tsmlNoData: true },
  });
}

const FIELD_LABELS: Record<string, string> = {
  step: "optimizer steps",
  examplesSeen: "examples seen",
  loss: "loss",
  lr: "learning rate",
  learningRate: "learning rate",
  gradNorm: "gradient norm",
  noiseScale: "gradient noise scale",
  effectiveBatchSize: "effective batch size",
  perDeviceBatchSize: "per-device batch size",
  gradientAccumulationSteps: "accumulation steps",
  seed: "seed",
  devF1: "dev F1",
  testF1: "test F1",
  devAccuracy: "dev accuracy",
  testAccuracy: "test accuracy",
  lossStd: "loss std (late training)",
  lossCv: "loss coefficient of variation",
};

/** A readable axis/legend title for a field name (known tsml fields, otherwise camelCase split into words). */
export function fieldLabel(field: string): string {
  return (
    FIELD_LABELS[field] ??
    field
      .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
      .replace(/[_-]+/g, " ")
      .toLowerCase()
  );
}

/** Rounds to `digits` significant digits so specs stay small without visible change. */
export function roundSignificant(value: number | null, digits = 6): number | null {
  if (value === null || !Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}

/** Upper-cases the first letter. */
export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
