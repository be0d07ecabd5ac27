/** trimChartOutputs: large Vega-Lite JSON goes, the static image stays; and every notebook in notebooks/ is small. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { lossCurveChart, VEGA_LITE_MIME } from "../../src/plots";
import { DEFAULT_MAX_CHART_DATA_BYTES, trimChartOutputs, type Notebook, type NotebookOutput } from "../../src/notebook";
import { repoRoot } from "../helpers";

/** The size limit of a notebook saved with its outputs (GitHub renders it; a reader downloads it). */
const MAX_NOTEBOOK_BYTES = 500 * 1024;

const chartOutput = (data: Record<string, unknown>): NotebookOutput => ({ output_type: "execute_result", execution_count: 1, data, metadata: {} });

describe("notebook: trimChartOutputs", () => {
  it("drops the Vega-Lite JSON of a large chart that has an SVG, and leaves small charts and charts without an image alone", () => {
    const history = Array.from({ length: 1000 }, (_, i) => ({ step: i + 1, loss: 1 / (i + 1) + (i % 7) * 0.01 }));
    const big = lossCurveChart(history).spec;
    const small = lossCurveChart(history.slice(0, 5)).spec;
    assert.ok(JSON.stringify(big).length > DEFAULT_MAX_CHART_DATA_BYTES && JSON.stringify(small).length < DEFAULT_MAX_CHART_DATA_BYTES);
    const nb: Notebook = {
      cells: [
        {
          cell_type: "code",
          id: "big",
          metadata: {},
          source: "",
          outputs: [chartOutput({ [VEGA_LITE_MIME]: big, "image/svg+xml": "<svg/>", "text/plain": "chart" })],
        },
        { cell_type: "code", id: "small", metadata: {}, source: "", outputs: [chartOutput({ [VEGA_LITE_MIME]: small, "image/svg+xml": "<svg/>" })] },
        { cell_type: "code", id: "no-image", metadata: {}, source: "", outputs: [chartOutput({ [VEGA_LITE_MIME]: big })] },
        { cell_type: "markdown", metadata: {}, source: "text" },
      ],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5,
    };
    assert.deepEqual(trimChartOutputs(nb), ["big"]);
    const dataOf = (i: number) => (nb.cells[i].outputs![0] as { data: Record<string, unknown> }).data;
    assert.deepEqual(Object.keys(dataOf(0)), ["image/svg+xml", "text/plain"]);
    assert.ok(VEGA_LITE_MIME in dataOf(1) && VEGA_LITE_MIME in dataOf(2));
    assert.deepEqual(trimChartOutputs(nb), [], "trimming twice trims nothing more");
    assert.throws(() => trimChartOutputs(nb, -1), /maxBytes must be a number >= 0, got -1/);
  });

  it(`every notebook in notebooks/ is under ${MAX_NOTEBOOK_BYTES / 1024} KB with its outputs (else: node scripts/trim-notebook-charts.js)`, () => {
    const dir = path.join(repoRoot(), "notebooks");
    const notebooks = fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb"));
    assert.ok(notebooks.length >= 4, notebooks.join(", "));
    const large = notebooks.map((f) => [f, fs.statSync(path.join(dir, f)).size] as const).filter(([, size]) => size > MAX_NOTEBOOK_BYTES);
    assert.deepEqual(large, []);
  });
});
