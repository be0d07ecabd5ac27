/**
 * Keeps saved notebooks small: a chart output carries its data twice, as Vega-Lite JSON (interactive in Jupyter) and
 * as a static SVG or PNG (what GitHub, nbconvert and classic Notebook show). A loss curve with its smoothing slider
 * holds every precomputed smoothing of every point (1000 points x 34 weights: 740 KB in notebook 01). Trimming drops
 * the Vega-Lite JSON of such large outputs and keeps the static image; running the cell again brings the
 * interactive chart back.
 */
import { VEGA_LITE_MIME } from "../plots";
import type { Notebook } from "./format";

/** Vega-Lite JSON above this many bytes is dropped by default (the charts of the notebooks are 7 to 740 KB). */
export const DEFAULT_MAX_CHART_DATA_BYTES = 50_000;

/** Static renderings a trimmed chart output keeps. */
const STATIC_MIMES = ["image/svg+xml", "image/png"];

/**
 * Drops, in place, the Vega-Lite JSON of every chart output whose JSON is larger than `maxBytes` and that also carries
 * a static SVG or PNG; returns the ids (or indices) of the cells trimmed. Example: `trimChartOutputs(readNotebook(f))`.
 */
export function trimChartOutputs(nb: Notebook, maxBytes: number = DEFAULT_MAX_CHART_DATA_BYTES): string[] {
  if (!(maxBytes >= 0)) throw new Error(`trimChartOutputs: maxBytes must be a number >= 0, got ${maxBytes}`);
  const trimmed: string[] = [];
  nb.cells.forEach((cell, index) => {
    for (const output of cell.outputs ?? []) {
      if (output.output_type !== "display_data" && output.output_type !== "execute_result") continue;
      const spec = output.data[VEGA_LITE_MIME];
      if (spec === undefined || !STATIC_MIMES.some((mime) => mime in output.data)) continue;
      if (Buffer.byteLength(JSON.stringify(spec)) <= maxBytes) continue;
      delete output.data[VEGA_LITE_MIME];
      trimmed.push(cell.id ?? String(index));
    }
  });
  return trimmed;
}
