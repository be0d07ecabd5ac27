/**
 * The tour notebook in a real browser: classic Jupyter Notebook (Debian `jupyter-notebook`) serves a temporary copy
 * of notebooks/, headless Chromium opens 00-kernel-tour.ipynb and runs Kernel > Restart & Run All, and every cell
 * must run without an error output and every chart must be drawn.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { openPage, PageSession, waitFor } from "../plots/chromium";
import { repoRoot, tempDir } from "../helpers";
import { installTestKernelspec } from "./harness";
import { startNotebookServer, type NotebookServer } from "./notebookServer";

const NOTEBOOK = "00-kernel-tour.ipynb";
const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

/** What the page reports about every code cell after Run All. */
interface CellReport {
  prompt: number | string | null;
  errors: string[];
  /** For each output that is a chart (carries Vega-Lite): the drawn SVG's size and its number of shapes. */
  charts: { width: number; height: number; shapes: number }[];
}

/** Page-side: every code cell's prompt, error outputs and drawn charts (Jupyter 6's global `Jupyter.notebook`). */
const REPORT_CELLS = `(() => {
  const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === "code");
  return cells.map((cell) => {
    const outputs = cell.output_area.outputs;
    const areas = Array.from(cell.output_area.element[0].querySelectorAll(":scope > .output_area"));
    const charts = [];
    outputs.forEach((output, i) => {
      if (!output.data || !output.data[${JSON.stringify(VEGA_LITE_MIME)}]) return;
      const svg = areas[i] && areas[i].querySelector("svg");
      const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      charts.push({ width: box.width, height: box.height, shapes: svg ? svg.querySelectorAll("path, rect, line, circle, text").length : 0 });
    });
    const errors = outputs.filter((o) => o.output_type === "error").map((o) => o.ename + ": " + o.evalue);
    return { prompt: cell.input_prompt_number === undefined ? null : cell.input_prompt_number, errors, charts };
  });
})()`;

describe("kernel: the tour notebook in classic Jupyter Notebook, in headless Chromium (Restart & Run All)", function () {
  this.timeout(300_000);
  let server: NotebookServer | undefined;
  let page: PageSession | undefined;

  after(async () => {
    await page?.close();
    await server?.stop();
  });

  it(`runs ${NOTEBOOK}: every cell without an error, every chart drawn`, async () => {
    const spec = installTestKernelspec();
    const home = tempDir("tsml-notebook-server-");
    const notebooks = path.join(home, "notebooks");
    fs.cpSync(path.join(repoRoot(), "notebooks"), notebooks, { recursive: true });
    server = await startNotebookServer({ ...spec, env: { ...spec.env, TSML_SMALL: "1" } }, notebooks, home);
    const { base, token } = server;

    page = await openPage(`${base}/notebooks/${NOTEBOOK}?token=${token}`);
    await waitFor(page, "typeof Jupyter !== 'undefined' && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()", 90_000);
    const codeCells = await page.evaluate<number>("Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code').length");
    assert.ok(codeCells > 0, "the notebook has code cells");
    // Start from a clean page (no saved prompts or outputs), then Kernel > Restart & Run All without the dialog.
    await page.evaluate("Jupyter.notebook.clear_all_output(), true");
    await page.evaluate("Jupyter.notebook.restart_run_all({ confirm: false }), true");
    const done = `(() => { const r = ${REPORT_CELLS}; return r.every((c) => typeof c.prompt === "number") && Jupyter.notebook.kernel.is_connected() && document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null; })()`;
    try {
      await waitFor(page, done, 240_000);
    } catch (err) {
      const report = await page.evaluate<CellReport[]>(REPORT_CELLS).catch(() => []);
      throw new Error(
        `${(err as Error).message}\ncells: ${JSON.stringify(report)}\npage errors: ${page.errors.join("\n")}\nserver log:\n${server.log().slice(-3000)}`,
      );
    }
    const report = await page.evaluate<CellReport[]>(REPORT_CELLS);
    assert.strictEqual(report.length, codeCells);
    const prompts = report.map((c) => c.prompt);
    assert.deepStrictEqual(
      prompts,
      Array.from({ length: codeCells }, (_, i) => i + 1),
      "one execution count per cell, in order, after the restart",
    );
    assert.deepStrictEqual(
      report.flatMap((c) => c.errors),
      [],
      "no cell shows an error",
    );
    const charts = report.flatMap((c) => c.charts);
    assert.ok(charts.length >= 2, `the tour shows at least two charts (a chart result and a live chart), found ${charts.length}`);
    for (const chart of charts) {
      assert.ok(chart.width > 50 && chart.height > 50, `a chart is drawn at a visible size: ${JSON.stringify(chart)}`);
      assert.ok(chart.shapes > 5, `a chart has marks and axes: ${JSON.stringify(chart)}`);
    }
  });
});
