/**
 * The study report: charts (SVG, PNG and interactive HTML files), results.csv and one self-contained
 * report.html (charts inlined as SVG, no network needed) that records everything needed to rerun the study.
 */
import * as path from "path";
import { RESULT_COLUMNS, resultsCsv, type GridSpec, type Provenance, type RunHistory, type RunResult } from "../experiments";
import { ensureWritableFolder, writeFileAtomic } from "../io";
import { JUPYTER_DISPLAY, type Displayable } from "../display";
import {
  escapeHTML,
  fluctuationChart,
  lossCurveChart,
  metricComparisonChart,
  noiseScaleChart,
  seedBandChart,
  stepsExamplesChart,
  svgToPNG,
  type LabelledRun,
  type SeedBandPoint,
  type VegaLiteChart,
} from "../plots";
import { formatInterval, logTInterval } from "../stats";
import { formatNumber } from "../util";
import { batchComparisonRuns, type ConfigurationSummary, type StudyFinding } from "./conclusion";
import { stepsToTarget, type CriticalBatchStudy } from "./criticalBatch";

/** Everything a report shows. */
export interface StudyReportInput {
  title: string;
  /** The question the study answers, shown first. */
  question: string;
  spec: GridSpec;
  results: RunResult[];
  histories: RunHistory[];
  findings: StudyFinding[];
  /** Each configuration over its seeds (mean [95% CI]); shown as a table when given. */
  configurations?: ConfigurationSummary[];
  /** One sentence stating the data, model and run sizes. */
  sizes?: string;
  /** Steps / examples to the target per batch at its best rate, and the B_crit fit. */
  criticalBatch?: CriticalBatchStudy;
  /** What every run shared, e.g. "equal examples (2 epoch(s) each; ...)". */
  budget?: string;
  provenance: Provenance;
  /** Runs that did not finish, with the reason. */
  failures: { id: string; error: string }[];
  wallTimeSeconds: number;
  /** Shell command that reruns the study. */
  rerunCommand: string;
}

/** A named chart of the report. */
export interface StudyChart {
  name: string;
  caption: string;
  chart: VegaLiteChart;
}

/** Files written by `writeStudyReport`. */
export interface StudyReportFiles {
  html: string;
  csv: string;
  charts: string[];
}

function labelled(histories: RunHistory[]): LabelledRun[] {
  return histories.map((h) => ({ run: h.run, config: h.config, history: h.history }));
}

/** "batch 8 x 4 (B = 32)": the group label of a configuration. */
const groupLabel = (c: { perDeviceBatchSize: number; gradientAccumulationSteps: number; effectiveBatchSize: number }) =>
  `batch ${c.perDeviceBatchSize} x ${c.gradientAccumulationSteps} (B = ${c.effectiveBatchSize})`;

/**
 * The smoothed training loss of each configuration at its best rate: per logged step, the geometric mean over seeds
 * and its 95% t-interval on the log scale (a loss is positive: the band never goes below 0), against `x`.
 */
export function seedBands(histories: RunHistory[], critical: CriticalBatchStudy, x: "step" | "examplesSeen", maxPoints = 150): SeedBandPoint[] {
  return critical.batches.flatMap((b) => {
    const runs = histories.filter(
      (h) =>
        h.config.perDeviceBatchSize === b.perDeviceBatchSize &&
        h.config.gradientAccumulationSteps === b.gradientAccumulationSteps &&
        h.config.learningRate === b.bestLearningRate,
    );
    const length = Math.min(...runs.map((h) => h.history.length));
    if (runs.length === 0 || !(length > 0)) return [];
    const stride = Math.max(1, Math.ceil(length / maxPoints));
    const points: SeedBandPoint[] = [];
    for (let k = 0; k < length; k += stride) {
      const ci = logTInterval(runs.map((h) => h.history[k].smoothedLoss));
      points.push({ group: groupLabel(b), x: runs[0].history[k][x], mean: ci.mean, low: ci.low, high: ci.high });
    }
    return points;
  });
}

/** The charts of a study: curves per batch (examples and steps), steps vs examples with the B_crit fit, fluctuation, noise scale, metrics. */
export function studyCharts(results: RunResult[], histories: RunHistory[], critical?: CriticalBatchStudy): StudyChart[] {
  const table = results;
  const charts: StudyChart[] = [];
  if (critical) {
    const band = "line: geometric mean over seeds at each configuration's best learning rate; band: 95% t-interval on the log scale";
    for (const [x, title] of [
      ["examplesSeen", "examples seen"],
      ["step", "optimizer steps"],
    ] as const) {
      charts.push({
        name: x === "step" ? "loss-by-batch-steps" : "loss-by-batch-examples",
        caption: `Smoothed training loss per configuration against ${title} (${band}). Equal examples puts the batches side by side as the budget does; steps show what a big batch buys per update.`,
        chart: seedBandChart(seedBands(histories, critical, x), {
          title: `Smoothed training loss vs ${title}`,
          xTitle: title,
          yTitle: "smoothed training loss",
          groupTitle: "configuration",
          subtitle: band,
          logY: true,
        }),
      });
    }
    const points = critical.batches.flatMap((b) =>
      histories
        .filter(
          (h) =>
            h.config.perDeviceBatchSize === b.perDeviceBatchSize &&
            h.config.gradientAccumulationSteps === b.gradientAccumulationSteps &&
            h.config.learningRate === b.bestLearningRate,
        )
        .flatMap((h) => {
          const hit = stepsToTarget(h.history, critical.targetLoss, critical.windowExamples);
          return hit ? [{ batch: b.effectiveBatchSize, ...hit }] : [];
        }),
    );
    charts.push({
      name: "steps-vs-examples",
      caption: `Optimizer steps S against examples E each run took to reach the target loss ${formatNumber(critical.targetLoss)}, with the fitted hyperbola (S/S_min − 1)(E/E_min − 1) = 1 of McCandlish et al. (2018). ${critical.fitNote}.`,
      chart: stepsExamplesChart(points, {
        fit: critical.fit ?? undefined,
        subtitle: `target: training loss ${formatNumber(critical.targetLoss)} (mean over windows of ${critical.windowExamples} examples)`,
      }),
    });
  }
  charts.push(
    {
      name: "fluctuation-vs-batch",
      caption:
        "Std of the raw step loss over the second half of each run against the effective batch (runs at one learning rate, every seed), with the mean and its 95% t-interval over the runs of each batch size, and the c/sqrt(B) law of averaging.",
      chart: fluctuationChart(batchComparisonRuns(results), { fluctuationField: "lossStd" }),
    },
    {
      name: "noise-scale",
      caption: "Gradient noise scale B_simple during training (runs with accumulation) against each run's effective batch (dashed).",
      chart: noiseScaleChart(labelled(histories.filter((h) => Number(h.config.gradientAccumulationSteps) > 1))),
    },
    {
      name: "metrics",
      caption: "Dev and test F1 / accuracy per configuration: fluctuation in the loss does not have to show in the metrics.",
      chart: metricComparisonChart(table, { title: "Dev and test metrics per configuration" }),
    },
    {
      name: "throughput",
      caption: "Training throughput (examples per second) of every run: a small micro-batch costs time per example, whatever the accumulation.",
      chart: metricComparisonChart(table, { metrics: ["examplesPerSecond"], title: "Throughput per configuration (examples/s)" }),
    },
  );
  const noisiest = results.length ? results.reduce((a, b) => (b.lossStd > a.lossStd ? b : a)) : undefined;
  const history = noisiest && histories.find((h) => h.run === noisiest.runId);
  if (noisiest && history) {
    charts.push({
      name: "noisiest-run",
      caption: `The noisiest run (${noisiest.runId}): raw loss behind its smoothed curve.`,
      chart: lossCurveChart(history.history, { title: `Loss of ${noisiest.runId}`, x: "examplesSeen" }),
    });
  }
  return charts;
}

/** Shown for a value that was not measured (null, NaN, missing). */
export const MISSING_VALUE = "—";

/** Escaped text, or the missing-value mark for null/undefined. */
function text(value: string | null | undefined): string {
  return typeof value === "string" ? escapeHTML(value) : MISSING_VALUE;
}

function cell(value: string | number | null | undefined): string {
  if (typeof value !== "number") return text(value);
  return Number.isFinite(value) ? formatNumber(value, 4) : MISSING_VALUE;
}

/** Columns of the report's results table (results.csv has all of RESULT_COLUMNS): the ones that fit a page. */
export const REPORT_COLUMNS: (keyof RunResult)[] = RESULT_COLUMNS.filter(
  (c) => !["task", "devAccuracy", "testAccuracy", "lossCv", "tokensPerSecond"].includes(c),
);

function resultsTable(results: RunResult[], columns: readonly (keyof RunResult)[] = REPORT_COLUMNS): string {
  const head = columns.map((c) => `<th>${escapeHTML(c)}</th>`).join("");
  const rows = results.map((r) => `<tr>${columns.map((c) => `<td>${cell(r[c])}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** The results as a notebook table (HTML, with aligned text as the plain fallback). */
export function resultsDisplay(results: RunResult[], columns: readonly (keyof RunResult)[] = RESULT_COLUMNS): Displayable {
  const text = [columns.join("\t"), ...results.map((r) => columns.map((c) => cell(r[c])).join("\t"))].join("\n");
  return { [JUPYTER_DISPLAY]: () => ({ "text/html": resultsTable(results, columns), "text/plain": text }) };
}

/** The configurations table: every figure as mean [95% CI] over seeds; dev F1 also with its bootstrap interval over dev examples. */
function configurationsTable(configurations: ConfigurationSummary[]): string {
  const head = [
    "configuration",
    "effective batch",
    "seeds",
    "loss std",
    "dev F1",
    "dev F1 bootstrap (dev examples)",
    "smoothed final loss",
    "noise scale (geometric mean)",
  ];
  const rows = configurations.map((c) => {
    const boot = c.devF1Bootstrap ? `[${cell(c.devF1Bootstrap.low)}, ${cell(c.devF1Bootstrap.high)}]` : "";
    const cells = [
      c.label,
      String(c.effectiveBatchSize),
      String(c.lossStd.n),
      formatInterval(c.lossStd),
      formatInterval(c.devF1),
      boot,
      formatInterval(c.smoothedFinalLoss),
      Number.isFinite(c.noiseScale.mean) ? formatInterval(c.noiseScale) : "",
    ];
    return `<tr>${cells.map((v, i) => `<td${i === 0 ? ' style="text-align:left"' : ""}>${escapeHTML(v)}</td>`).join("")}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHTML(h)}</th>`).join("")}</tr></thead><tbody>
${rows.join("\n")}
</tbody></table>`;
}

/** Per configuration at its best rate: dev F1, steps and examples to the target, throughput. */
function batchTable(critical: CriticalBatchStudy): string {
  const head = ["configuration", "best lr (of)", "dev F1", `steps to loss ${formatNumber(critical.targetLoss)}`, "examples to it", "reached", "examples/s"];
  const rows = critical.batches.map((b) => {
    const cells = [
      groupLabel(b),
      `${formatNumber(b.bestLearningRate, 3, 1e-2)} (${b.rates.length})`,
      formatInterval(b.devF1),
      b.steps.n ? formatInterval(b.steps) : MISSING_VALUE,
      b.examples.n ? formatInterval(b.examples) : MISSING_VALUE,
      `${b.runs - b.notReached.length} of ${b.runs}`,
      formatInterval(b.examplesPerSecond),
    ];
    return `<tr>${cells.map((v, i) => `<td${i === 0 ? ' style="text-align:left"' : ""}>${escapeHTML(v)}</td>`).join("")}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHTML(h)}</th>`).join("")}</tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table>`;
}

function html(input: StudyReportInput, svgs: { chart: StudyChart; svg: string }[]): string {
  const answer = input.findings.filter((f) => f.topic === "answer");
  const recommendation = input.findings.filter((f) => f.topic === "recommendation");
  const evidence = input.findings.filter((f) => f.topic !== "answer" && f.topic !== "recommendation");
  const p = input.provenance;
  const failures = input.failures.length
    ? `<h2>Runs that did not finish</h2><ul>${input.failures.map((f) => `<li><code>${text(f.id)}</code>: ${text(f.error)}</li>`).join("")}</ul>`
    : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHTML(input.title)}</title>
<style>
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; line-height: 1.45; }
table { border-collapse: collapse; font-size: 11px; max-width: 100%; }
th, td { border: 1px solid #ddd; padding: 2px 4px; text-align: right; overflow-wrap: anywhere; }
th { white-space: normal; }
th { background: #f4f4f4; }
figure { margin: 24px 0; } figcaption { color: #555; font-size: 14px; }
blockquote { border-left: 4px solid #1f5fa8; margin: 0; padding: 4px 12px; background: #f6f8fb; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; }
</style>
</head>
<body>
<h1>${escapeHTML(input.title)}</h1>
<blockquote>${escapeHTML(input.question)}</blockquote>
<h2 id="answer">Answer</h2>
${answer.map((f) => `<p>${text(f.text)}</p>`).join("\n")}
${recommendation.length ? `<h2 id="recommendation">Recommendation for your setup</h2>\n${recommendation.map((f) => `<p>${text(f.text)}</p>`).join("\n")}` : ""}
<h2 id="evidence">Evidence (from the measured numbers)</h2>
${input.budget ? `<p><b>Budget:</b> every run had ${escapeHTML(input.budget)}.</p>` : ""}
<ul>
${evidence.map((f) => `<li>${text(f.text)}</li>`).join("\n")}
</ul>
${input.sizes ? `<p>${escapeHTML(input.sizes)}</p>` : ""}
${input.criticalBatch ? `<h2>Each configuration at its best learning rate</h2>\n${batchTable(input.criticalBatch)}` : ""}
${input.configurations?.length ? `<h2>Configurations (mean [95% t-interval] over seeds)</h2>\n${configurationsTable(input.configurations)}` : ""}
<h2>Results</h2>
<p>${input.results.length} finished runs in ${cell(Math.round(input.wallTimeSeconds))} s of wall time (${MISSING_VALUE}: not measured). Loss std / CV: raw per-step training loss over the second half of each run's optimizer steps (at least its last 4 steps).</p>
${resultsTable(input.results)}
${failures}
<h2>Charts</h2>
${svgs.map(({ chart, svg }) => `<figure id="${chart.name}">${svg}<figcaption>${escapeHTML(chart.caption)} (<a href="charts/${chart.name}.html">interactive</a>, <a href="charts/${chart.name}.png">PNG</a>)</figcaption></figure>`).join("\n")}
<h2>Reproduce</h2>
<p>Same command, same seeds, same backend: identical numbers (timings aside).</p>
<pre>${escapeHTML(input.rerunCommand)}</pre>
<p>tsml ${text(p.tsmlVersion)} · tfjs ${text(p.tfjsVersion)} · node ${text(p.nodeVersion)} · backend ${text(p.backend?.name ?? "chosen per worker (see each run's config.json)")} ·
git ${text(p.gitCommit ?? "not a git checkout")}${p.gitDirty ? " (with uncommitted changes)" : ""} · ${text(p.platform)}, ${cell(p.cpus)} cores · ${text(p.createdAt)}</p>
<h3>Grid</h3>
<pre>${escapeHTML(JSON.stringify(input.spec, null, 2))}</pre>
<h3>Provenance</h3>
<pre>${escapeHTML(JSON.stringify(p, null, 2))}</pre>
</body>
</html>
`;
}

/** Writes report.html, results.csv and charts/<name>.{svg,png,html} into `outDir`. */
export async function writeStudyReport(outDir: string, input: StudyReportInput): Promise<StudyReportFiles> {
  const chartDir = path.join(outDir, "charts");
  ensureWritableFolder(chartDir, "report charts folder");
  const charts = studyCharts(input.results, input.histories, input.criticalBatch);
  const svgs: { chart: StudyChart; svg: string }[] = [];
  const files: string[] = [];
  for (const chart of charts) {
    const svg = await chart.chart.toSVG();
    svgs.push({ chart, svg });
    const base = path.join(chartDir, chart.name);
    writeFileAtomic(`${base}.svg`, svg);
    writeFileAtomic(`${base}.png`, svgToPNG(svg));
    writeFileAtomic(`${base}.html`, chart.chart.toHTML());
    files.push(`${base}.svg`, `${base}.png`, `${base}.html`);
  }
  const csv = path.join(outDir, "results.csv");
  writeFileAtomic(csv, resultsCsv(input.results));
  const htmlFile = path.join(outDir, "report.html");
  writeFileAtomic(htmlFile, html(input, svgs));
  return { html: htmlFile, csv, charts: files };
}
