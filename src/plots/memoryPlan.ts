/** Predicted training memory against the per-device batch size, with the memory budget and the chosen batch (the batch planner's chart). */
import { VegaLiteChart } from "./chart";
import { ChartLayer, ChartLayoutOptions, noDataSpec, topLevel } from "./spec";

/** One predicted point: peak bytes of a training step at `batchSize`, with or without gradient checkpointing. */
export interface MemoryPlanPoint {
  batchSize: number;
  bytes: number;
  checkpointing: boolean;
}

/** Options of {@link memoryPlanChart}. */
export interface MemoryPlanOptions extends ChartLayoutOptions {
  /** The device's memory in bytes (drawn as a solid rule). */
  memoryBytes: number;
  /** What the prediction must stay under after the safety margin (dashed rule). */
  usableBytes?: number;
  /** The batch the plan chose (marked on its curve). */
  chosenBatchSize?: number;
  /** Which curve the chosen batch sits on. Default false. */
  checkpointing?: boolean;
  /** Subtitle line. */
  subtitle?: string;
}

const GIB = 1024 ** 3;

/** Lines of predicted GiB vs batch (one per checkpointing mode), rules at the budget, a point at the chosen batch. */
export function memoryPlanChart(points: readonly MemoryPlanPoint[], options: MemoryPlanOptions): VegaLiteChart {
  const title = options.title ?? "Predicted training memory per device";
  if (!(options.memoryBytes > 0)) throw new Error(`memoryPlanChart: option memoryBytes must be a positive number, got ${options.memoryBytes}`);
  if (points.length === 0) return new VegaLiteChart(noDataSpec(title, "no predicted points", options));
  const mode = (checkpointing: boolean) => (checkpointing ? "with gradient checkpointing" : "without checkpointing");
  const values = points.map((p) => ({ batchSize: p.batchSize, GiB: Number((p.bytes / GIB).toPrecision(4)), mode: mode(p.checkpointing) }));
  const rules = [{ GiB: options.memoryBytes / GIB, what: "device memory" }];
  if (options.usableBytes !== undefined) rules.push({ GiB: options.usableBytes / GIB, what: "budget after safety margin" });
  const x = { field: "batchSize", type: "quantitative" as const, title: "per-device batch size", axis: { tickMinStep: 1 } };
  const y = { field: "GiB", type: "quantitative" as const, title: "predicted peak memory (GiB)" };
  const layer: ChartLayer[] = [
    {
      data: { values },
      mark: { type: "line", point: true, strokeWidth: 1.8 },
      encoding: {
        x,
        y,
        color: { field: "mode", type: "nominal", title: null },
        tooltip: [x, { ...y, format: ".3f" }, { field: "mode", type: "nominal" as const }],
      },
    },
    {
      data: { values: rules },
      mark: { type: "rule", strokeWidth: 1.4, color: "#b22" },
      encoding: {
        y: { field: "GiB", type: "quantitative" },
        strokeDash: {
          field: "what",
          type: "nominal",
          title: null,
          scale: {
            domain: rules.map((r) => r.what),
            range: [
              [1, 0],
              [6, 4],
            ].slice(0, rules.length),
          },
        },
      },
    },
  ];
  const chosen = values.find((v) => v.batchSize === options.chosenBatchSize && v.mode === mode(options.checkpointing === true));
  if (chosen) {
    layer.push({
      data: { values: [{ ...chosen, label: `chosen: ${chosen.batchSize}` }] },
      mark: { type: "point", shape: "diamond", size: 160, filled: true, color: "#222" },
      encoding: { x: { field: "batchSize", type: "quantitative" }, y: { field: "GiB", type: "quantitative" }, tooltip: [{ field: "label", type: "nominal" }] },
    });
  }
  return new VegaLiteChart(topLevel(title, options.subtitle, { width: options.width ?? 520, height: options.height ?? 300, layer }));
}
