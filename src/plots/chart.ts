/** The Chart object: a plain Vega-Lite spec that renders to SVG / PNG / HTML and displays itself in notebooks. */
import * as path from "path";
import { writeFileAtomic } from "../io";
import { JUPYTER_DISPLAY, MimeBundle } from "../display";
import { vegaLiteToHTML } from "./html";
import { RasterOptions, renderVegaLiteSVG, svgToPNG } from "./render";
import { VegaLiteSpec } from "./spec";

/** Mime type of Vega-Lite v5 specs in Jupyter (JupyterLab, VS Code, nbconvert). */
export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

/** What a chart's mime bundle should contain. */
export interface ChartBundleOptions {
  /** Include the headless `image/svg+xml` rendering (for nbconvert HTML, GitHub and frontends without Vega). */
  svg?: boolean;
  /** Include the interactive `application/vnd.vegalite.v5+json` spec. */
  vegaLite?: boolean;
}

/** A Vega-Lite chart: `spec` is plain JSON you may inspect and edit before rendering. */
export class VegaLiteChart {
  /** The Vega-Lite v5 spec (plain JSON). */
  readonly spec: VegaLiteSpec;

  /** Wraps a Vega-Lite spec. */
  constructor(spec: VegaLiteSpec) {
    if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
      throw new Error(`VegaLiteChart: spec must be a Vega-Lite JSON object, got ${Array.isArray(spec) ? "an array" : typeof spec}`);
    }
    this.spec = spec;
  }

  /** The chart's title text, if any. */
  get title(): string | undefined {
    const title = this.spec.title;
    if (typeof title === "string") return title;
    const text = (title as { text?: unknown } | undefined)?.text;
    return typeof text === "string" ? text : undefined;
  }

  /** Renders to an SVG string headlessly. */
  toSVG(): Promise<string> {
    return renderVegaLiteSVG(this.spec);
  }

  /** Renders to PNG bytes (resvg with the bundled DejaVu fonts). */
  async toPNG(options: RasterOptions = {}): Promise<Buffer> {
    return svgToPNG(await this.toSVG(), options);
  }

  /** A self-contained interactive HTML page (vega, vega-lite, vega-embed inlined; works offline). */
  toHTML(): string {
    return vegaLiteToHTML(this.spec, this.title ?? "tsml chart");
  }

  /** Writes the chart to `file`; the extension picks the format: .svg, .png, .html or .json (the spec). */
  async save(file: string, options: RasterOptions = {}): Promise<string> {
    const ext = path.extname(file).toLowerCase();
    let content: string | Buffer;
    if (ext === ".svg") content = await this.toSVG();
    else if (ext === ".png") content = await this.toPNG(options);
    else if (ext === ".html" || ext === ".htm") content = this.toHTML();
    else if (ext === ".json") content = JSON.stringify(this.spec, null, 2);
    else throw new Error(`VegaLiteChart.save: unsupported extension "${ext}" in ${file}; use .svg, .png, .html or .json`);
    writeFileAtomic(file, content);
    return file;
  }

  /** One-line text form (what plain terminals and `text/plain` show). */
  toString(): string {
    const rows = countDataRows(this.spec);
    return `VegaLiteChart "${this.title ?? "untitled"}" (${rows} data rows; display in a notebook or save as .svg/.png/.html)`;
  }

  /** A mime bundle with the interactive spec, the headless SVG and a text form. */
  async toMimeBundle(options: ChartBundleOptions = {}): Promise<MimeBundle> {
    const bundle: MimeBundle = {};
    if (options.vegaLite ?? true) bundle[VEGA_LITE_MIME] = this.spec;
    if (options.svg ?? true) bundle["image/svg+xml"] = await this.toSVG();
    bundle["text/plain"] = this.toString();
    return bundle;
  }

  /** Jupyter display protocol: one bundle with Vega-Lite v5 JSON, SVG and text/plain. */
  [JUPYTER_DISPLAY](): Promise<MimeBundle> {
    return this.toMimeBundle();
  }
}

/** Wraps a Vega-Lite spec in a displayable, exportable chart (like Altair's `alt.Chart.from_dict`). */
export function chart(spec: VegaLiteSpec): VegaLiteChart {
  return new VegaLiteChart(spec);
}

/** Number of inline data rows anywhere in the spec (top level, layers, datasets). */
function countDataRows(spec: unknown): number {
  if (spec === null || typeof spec !== "object") return 0;
  if (Array.isArray(spec)) return spec.reduce((sum: number, s) => sum + countDataRows(s), 0);
  const node = spec as Record<string, unknown>;
  let rows = 0;
  const values = (node.data as { values?: unknown } | undefined)?.values;
  if (Array.isArray(values)) rows += values.length;
  if (node.datasets && typeof node.datasets === "object") {
    for (const set of Object.values(node.datasets)) if (Array.isArray(set)) rows += set.length;
  }
  for (const key of ["layer", "spec", "hconcat", "vconcat", "concat"]) rows += countDataRows(node[key]);
  return rows;
}
