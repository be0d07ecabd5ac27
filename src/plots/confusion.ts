/** Confusion matrix heatmap: rows are true classes, columns predictions; colour is the share of the true class. */
import { VegaLiteChart } from "./chart";
import { describe } from "./records";
import { ChartEncoding, ChartLayoutOptions, noDataSpec, topLevel } from "./spec";

/** A square count matrix, as nested arrays or anything with `arraySync()` (a tf.Tensor2D). */
export type ConfusionMatrixInput =
  | readonly (readonly number[])[]
  | {
      /** The counts as nested arrays. */
      arraySync(): unknown;
    };

/** Options of {@link confusionMatrixChart}. */
export interface ConfusionMatrixOptions extends ChartLayoutOptions {
  /** Class names in matrix order. Default "0", "1", ... */
  labels?: readonly string[];
}

const WHERE = "confusionMatrixChart";

/** Validates and returns the matrix as nested number arrays. */
function toMatrix(input: ConfusionMatrixInput): number[][] {
  const raw = Array.isArray(input) ? input : (input as { arraySync(): unknown }).arraySync?.();
  if (!Array.isArray(raw)) throw new Error(`${WHERE}: expected a square matrix of counts, got ${describe(input)}`);
  return raw.map((row: unknown, i: number) => {
    if (!Array.isArray(row) || row.length !== raw.length) {
      throw new Error(`${WHERE}: row ${i} must have ${raw.length} entries (a square matrix), got ${describe(row)}`);
    }
    return row.map((v: unknown, j: number) => {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
        throw new Error(`${WHERE}: entry [${i}][${j}] must be a finite count >= 0, got ${describe(v)}`);
      }
      return v;
    });
  });
}

/** Heatmap of a confusion matrix with counts written in the cells and row-normalised colour. */
export function confusionMatrixChart(matrix: ConfusionMatrixInput, options: ConfusionMatrixOptions = {}): VegaLiteChart {
  const title = options.title ?? "Confusion matrix";
  const counts = toMatrix(matrix);
  if (counts.length === 0) return new VegaLiteChart(noDataSpec(title, "the confusion matrix is empty", options));
  const labels = options.labels ?? counts.map((_, i) => String(i));
  if (labels.length !== counts.length || new Set(labels).size !== labels.length) {
    throw new Error(`${WHERE}: option labels must be ${counts.length} distinct names, got [${labels.join(", ")}]`);
  }
  const total = counts.flat().reduce((s, v) => s + v, 0);
  const correct = counts.reduce((s, row, i) => s + row[i], 0);
  const cells = counts.flatMap((row, i) => {
    const rowTotal = row.reduce((s, v) => s + v, 0);
    return row.map((count, j) => ({ actual: labels[i], predicted: labels[j], count, share: rowTotal > 0 ? count / rowTotal : 0 }));
  });
  const size = Math.max(160, Math.min(480, 70 * counts.length));
  const x: ChartEncoding["x"] = { field: "predicted", type: "nominal", sort: [...labels], title: "predicted", axis: { labelAngle: 0, orient: "top" } };
  const y: ChartEncoding["y"] = { field: "actual", type: "nominal", sort: [...labels], title: "true class" };
  return new VegaLiteChart(
    topLevel(title, `${total} examples · accuracy ${total > 0 ? ((100 * correct) / total).toFixed(1) : "n/a"}% · colour: share of the true class`, {
      width: options.width ?? size,
      height: options.height ?? size,
      data: { values: cells },
      encoding: { x, y },
      layer: [
        {
          mark: { type: "rect", stroke: "white", strokeWidth: 1 },
          encoding: {
            color: { field: "share", type: "quantitative", title: "share of row", scale: { scheme: "blues", domain: [0, 1] }, legend: { format: ".0%" } },
            tooltip: [
              { field: "actual", type: "nominal", title: "true" },
              { field: "predicted", type: "nominal" },
              { field: "count", type: "quantitative" },
              { field: "share", type: "quantitative", format: ".1%" },
            ],
          },
        },
        {
          mark: { type: "text", fontSize: 13 },
          encoding: {
            text: { field: "count", type: "quantitative" },
            color: { condition: { test: "datum.share > 0.5", value: "white" }, value: "#222" },
          },
        },
      ],
    }),
  );
}
