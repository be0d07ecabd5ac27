/**
 * The study report: charts (SVG, PNG and interactive HTML files), results.csv and one self-contained
 * report.html (charts inlined as SVG, no network needed) that records everything needed to rerun the study.
 */
import * as path from "path";
import { RESULT_COLUMNS, resultsCsv, type GridSpec, type Provenance, type RunHistory, type RunResult } from "../experiments";
import { ensureWritableFolder, writeFileAtomic } from "../io";
import { JUPYTER_DISPLAY, type Displayable } from "../display";
import { escapeHTML, fluctuationChart, lossCurveChart, metricComparisonChart, noiseScaleChart, runComparisonChart, svgToPNG, type LabelledRun, type VegaLiteChart } from "../plots";
import { formatInterval } from "../stats";
import { formatNumber } from "../util";
import { batchComparisonRuns, type ConfigurationSummary, type StudyFinding } from "./conclusion";

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

/** The charts of a study: loss curves, fluctuation vs effective batch, noise scale, metrics, the noisiest run. */
export function studyCharts(results: RunResult[], histories: RunHistory[]): StudyChart[] {
  const runs = labelled(histories);
  const table = results;
  const charts: StudyChart[] = [
    {
      name: "loss-curves-raw",
      caption: "Raw training loss of every run (no smoothing), against examples seen: small effective batches jump, large ones are smooth.",
      chart: runComparisonChart(runs, { colorBy: "effectiveBatchSize", x: "examplesSeen", smoothing: 0, title: "Raw training loss per run" }),
    },
    {
      name: "loss-curves-smoothed",
      caption: "The same runs with TensorBoard smoothing 0.9: the trends agree even where the raw curves do not.",
      chart: runComparisonChart(runs, { colorBy: "effectiveBatchSize", x: "examplesSeen", smoothing: 0.9, title: "Smoothed training loss per run" }),
    },
    {
      name: "fluctuation-vs-batch",
      caption: "Std of the raw step loss over the second half of each run against the effective batch (runs at one learning rate, every seed), with the mean and its 95% t-interval over the runs of each batch size, and the c/sqrt(B) law of averaging.",
      chart: fluctuationChart(batchComparisonRuns(results), { fluctuationField: "lossStd" }),
    },
    {
      name: "fluctuation-per-configuration",
      caption: "Loss std and coefficient of variation of every configuration, learning rates included: compare what the batch does with what the learning rate does.",
      chart: metricComparisonChart(table, { metrics: ["lossStd", "lossCv"], title: "Loss fluctuation per configuration" }),
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
  ];
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

function resultsTable(results: RunResult[], columns: readonly (keyof RunResult)[] = RESULT_COLUMNS): string {
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
  const head = ["configuration", "effective batch", "seeds", "loss std", "dev F1", "dev F1 bootstrap (dev e-mails)", "smoothed final loss", "noise scale (geometric mean)"];
  const rows = configurations.map((c) => {
    const boot = c.devF1Bootstrap ? `[${cell(c.devF1Bootstrap.low)}, ${cell(c.devF1Bootstrap.high)}]` : "";
    const cells = [c.label, String(c.effectiveBatchSize), String(c.lossStd.n), formatInterval(c.lossStd), formatInterval(c.devF1), boot, formatInterval(c.smoothedFinalLoss), Number.isFinite(c.noiseScale.mean) ? formatInterval(c.noiseScale) : ""];
    return `<tr>${cells.map((v, i) => `<td${i === 0 ? ' style="text-align:left"' : ""}>${escapeHTML(v)}</td>`).join("")}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHTML(h)}</th>`).join("")}</tr></thead><tbody>
${rows.join("\n")}
</tbody></table>`;
}

function html(input: StudyReportInput, svgs: { chart: StudyChart; svg: string }[]): string {
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
table { border-collapse: collapse; font-size: 12px; display: block; overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; }
figure { margin: 24px 0; } figcaption { color: #555; font-size: 14px; }
blockquote { border-left: 4px solid #1f5fa8; margin: 0; padding: 4px 12px; background: #f6f8fb; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; }
</style>
</head>
<body>
<h1>${escapeHTML(input.title)}</h1>
<blockquote>${escapeHTML(input.question)}</blockquote>
<h2>Conclusion (from the measured numbers)</h2>
<ul>
${input.findings.map((f) => `<li>${text(f.text)}</li>`).join("\n")}
</ul>
${input.sizes ? `<p>${escapeHTML(input.sizes)}</p>` : ""}
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
  const charts = studyCharts(input.results, input.histories);
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
