/**
 * Every notebook in notebooks/ in a real browser: classic Jupyter Notebook (Debian `jupyter-notebook`) serves a
 * temporary copy of notebooks/, headless Chromium opens each one and runs Kernel > Restart & Run All. Every cell must
 * run without an error or stderr output and every chart must be drawn; a live training chart must be drawn as SVG
 * while its cell is still running; tables (tsml's results, a danfojs DataFrame) must show as HTML tables.
 * Screenshots (mid-training and of each finished notebook) go to $TSML_SCREENSHOT_DIR or a temporary folder, logged.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { openPage, PageSession, waitFor } from "../plots/chromium";
import { repoRoot, tempDir } from "../helpers";
import { installTestKernelspec, TestKernelspec } from "./harness";
import { startNotebookServer, type NotebookServer } from "./notebookServer";

const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";
const NOTEBOOKS_DIR = path.join(repoRoot(), "notebooks");
const NOTEBOOKS = fs
  .readdirSync(NOTEBOOKS_DIR)
  .filter((f) => f.endsWith(".ipynb"))
  .sort();

/** The code of a notebook's code cells, joined. */
function notebookCode(name: string): string {
  const cells = JSON.parse(fs.readFileSync(path.join(NOTEBOOKS_DIR, name), "utf8")).cells as { cell_type: string; source: string | string[] }[];
  return cells
    .filter((c) => c.cell_type === "code")
    .map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source))
    .join("\n");
}

/**
 * A notebook with a live training chart runs at its full size (notebook 02: 81 steps, several seconds of training,
 * long enough to watch the chart while the cell runs); the others with TSML_SMALL=1 (notebook 01's full study alone
 * runs for many minutes).
 */
const hasLiveChart = (name: string) => /\bliveChart\(/.test(notebookCode(name));

/** What the page reports about every code cell. */
interface CellReport {
  prompt: number | string | null;
  running: boolean;
  errors: string[];
  /** stderr text and the DOM's error/stderr output areas (classic Notebook's .output_error / .output_stderr). */
  stderr: string[];
  domErrors: number;
  /** For each output that is a chart (carries Vega-Lite): the drawn SVG's size and its number of shapes. */
  charts: { width: number; height: number; shapes: number }[];
  /** For each output with text/html holding a <table>: the rendered table's class and number of body rows. */
  tables: { className: string; rows: number }[];
}

/** Page-side: every code cell's prompt, state, error outputs, drawn charts and tables (Jupyter 6's `Jupyter.notebook`). */
const REPORT_CELLS = `(() => {
  const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === "code");
  return cells.map((cell) => {
    const outputs = cell.output_area.outputs;
    const areas = Array.from(cell.output_area.element[0].querySelectorAll(":scope > .output_area"));
    const charts = [];
    const tables = [];
    outputs.forEach((output, i) => {
      if (output.data && output.data[${JSON.stringify(VEGA_LITE_MIME)}]) {
        const svg = areas[i] && areas[i].querySelector("svg");
        const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
        charts.push({ width: box.width, height: box.height, shapes: svg ? svg.querySelectorAll("path, rect, line, circle, text").length : 0 });
      }
      const html = output.data && output.data["text/html"];
      if (html && /<table/.test([].concat(html).join(""))) {
        const table = areas[i] && areas[i].querySelector(".output_html table");
        tables.push({ className: table ? table.className : "(not rendered)", rows: table ? table.querySelectorAll("tbody tr").length : 0 });
      }
    });
    const errors = outputs.filter((o) => o.output_type === "error").map((o) => o.ename + ": " + o.evalue);
    const stderr = outputs.filter((o) => o.output_type === "stream" && o.name === "stderr").map((o) => o.text);
    const domErrors = cell.output_area.element[0].querySelectorAll(".output_error, .output_stderr").length;
    const prompt = cell.input_prompt_number === undefined ? null : cell.input_prompt_number;
    return { prompt, running: cell.element[0].classList.contains("running"), errors, stderr, domErrors, charts, tables };
  });
})()`;

/**
 * Page-side: the index of a code cell that is running (marked busy, "In [*]") and shows a live chart as SVG in a
 * display it updates (an output carrying Vega-Lite and SVG, drawn), with the SVG's size and number of shapes.
 */
const LIVE_CHART_WHILE_RUNNING = `(() => {
  const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === "code");
  for (let index = 0; index < cells.length; index++) {
    const cell = cells[index];
    const prompt = cell.element[0].querySelector(".input_prompt").textContent.replace(/\\s+/g, " ");
    if (!cell.element[0].classList.contains("running") || !prompt.includes("[*]")) continue;
    const areas = Array.from(cell.output_area.element[0].querySelectorAll(":scope > .output_area"));
    for (let i = 0; i < cell.output_area.outputs.length; i++) {
      const output = cell.output_area.outputs[i];
      if (output.output_type !== "display_data" || !output.data || !output.data[${JSON.stringify(VEGA_LITE_MIME)}] || !output.data["image/svg+xml"]) continue;
      const svg = areas[i] && areas[i].querySelector(".output_svg svg");
      if (!svg) continue;
      const box = svg.getBoundingClientRect();
      if (box.width < 50 || box.height < 50) continue;
      cell.element[0].scrollIntoView({ block: "start" });
      return { index, prompt: prompt.trim(), width: box.width, height: box.height, shapes: svg.querySelectorAll("path, rect, line, circle, text").length };
    }
  }
  return null;
})()`;

/** Page-side: whether code cell `index` still runs, and the text its live chart's SVG and progress line show. */
const LIVE_CHART_STATE = (index: number) => `(() => {
  const cell = Jupyter.notebook.get_cells().filter((c) => c.cell_type === "code")[${index}];
  const svg = cell.output_area.element[0].querySelector(".output_svg svg");
  const progress = cell.output_area.element[0].querySelector(".output_html code");
  const points = svg ? Array.from(svg.querySelectorAll("text")).map((t) => t.textContent).find((t) => /\\d+ points/.test(t)) : undefined;
  return { running: cell.element[0].classList.contains("running"), svg: svg ? svg.textContent : "", points: points ? points.split(" · ")[0] : "", progress: progress ? progress.textContent : "" };
})()`;

/** Page-side: appends a code cell with `code` at the bottom, runs it, and scrolls to it. */
const appendAndRun = (code: string) =>
  `(() => { const cell = Jupyter.notebook.insert_cell_at_bottom("code"); cell.set_text(${JSON.stringify(code)}); cell.code_mirror.refresh(); cell.execute(); cell.element[0].scrollIntoView(); return true; })()`;

describe("kernel: every notebook in classic Jupyter Notebook, in headless Chromium (Restart & Run All)", function () {
  this.timeout(600_000);
  const screenshots = process.env.TSML_SCREENSHOT_DIR ?? tempDir("tsml-notebook-screenshots-");
  let spec: TestKernelspec;
  let home: string;
  let server: NotebookServer | undefined;
  let page: PageSession | undefined;

  before(() => {
    console.log(`      screenshots: ${screenshots}`);
    spec = installTestKernelspec();
    home = tempDir("tsml-notebook-server-");
    fs.cpSync(NOTEBOOKS_DIR, path.join(home, "notebooks"), { recursive: true });
  });

  afterEach(async () => {
    await page?.close();
    await server?.stop();
    page = server = undefined;
  });

  it("finds the notebooks, one of them with a live training chart", () => {
    assert.ok(NOTEBOOKS.includes("00-kernel-tour.ipynb"), NOTEBOOKS.join(", "));
    assert.ok(NOTEBOOKS.some(hasLiveChart), `a notebook trains with liveChart: ${NOTEBOOKS.join(", ")}`);
  });

  for (const name of NOTEBOOKS) {
    const live = hasLiveChart(name);
    it(`${name}${live ? " (full size)" : " (TSML_SMALL=1)"}: every cell without an error, every chart drawn${live ? ", the live chart as SVG during training" : ""}`, async () => {
      const env = { ...spec.env, ...(live ? {} : { TSML_SMALL: "1" }) };
      if (live) delete env.TSML_SMALL;
      server = await startNotebookServer({ ...spec, env }, path.join(home, "notebooks"), home);
      const { base, token } = server;
      page = await openPage(`${base}/notebooks/${encodeURIComponent(name)}?token=${token}`);
      await page.cdp("Emulation.setDeviceMetricsOverride", { width: 1280, height: 1000, deviceScaleFactor: 1, mobile: false });
      await waitFor(page, "typeof Jupyter !== 'undefined' && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()", 90_000);
      const codeCells = await page.evaluate<number>("Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code').length");
      assert.ok(codeCells > 0, "the notebook has code cells");
      const stem = name.replace(/\.ipynb$/, "");
      const fail = async (err: Error): Promise<never> => {
        const report = await page!.evaluate<CellReport[]>(REPORT_CELLS).catch(() => []);
        await page!.screenshot(path.join(screenshots, `${stem}-failed.png`)).catch(() => undefined);
        throw new Error(
          `${err.message}\ncells: ${JSON.stringify(report)}\npage errors: ${page!.errors.join("\n")}\nserver log:\n${server!.log().slice(-3000)}`,
        );
      };

      // Start from a clean page (no saved prompts or outputs), then Kernel > Restart & Run All without the dialog.
      await page.evaluate("Jupyter.notebook.clear_all_output(), true");
      await page.evaluate("Jupyter.notebook.restart_run_all({ confirm: false }), true");
      if (live) {
        const seen = await waitFor<{ index: number; prompt: string; width: number; height: number; shapes: number }>(
          page,
          LIVE_CHART_WHILE_RUNNING,
          300_000,
        ).catch(fail);
        assert.strictEqual(seen.prompt, "In [*]:", "the training cell is marked busy");
        assert.ok(seen.shapes > 5, `the live chart has marks and axes while training: ${JSON.stringify(seen)}`);
        // A screenshot each time the chart changes while the cell runs, kept only if the cell still ran after it was
        // taken (a picture of training in progress, not of its end): NAME-training-1.png, -2, ...
        type LiveState = { running: boolean; svg: string; points: string; progress: string };
        const shot = (n: number) => path.join(screenshots, `${stem}-training-${n}.png`);
        const pending = path.join(screenshots, `${stem}-mid-training.pending.png`);
        const kept: LiveState[] = [];
        let drawn = "";
        for (
          let state = await page.evaluate<LiveState>(LIVE_CHART_STATE(seen.index));
          state.running;
          state = await page.evaluate<LiveState>(LIVE_CHART_STATE(seen.index))
        ) {
          if (state.svg && state.svg !== drawn) {
            drawn = state.svg;
            await page.screenshot(pending);
            if ((await page.evaluate<LiveState>(LIVE_CHART_STATE(seen.index))).running) {
              kept.push(state);
              fs.renameSync(pending, shot(kept.length));
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        fs.rmSync(pending, { force: true });
        console.log(
          `      ${name}: the live chart while training: ${kept.map((s) => `${s.points} (${s.progress.split(" | ")[0]})`).join(", ")}; ${shot(1)} ... ${shot(kept.length)}`,
        );
        assert.ok(kept.length > 0, "a screenshot shows the live chart while the training cell still runs");
      }
      const done = `(() => { const r = ${REPORT_CELLS}; return (r.every((c) => typeof c.prompt === "number") || r.some((c) => c.errors.length > 0)) && Jupyter.notebook.kernel.is_connected() && document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null; })()`;
      await waitFor(page, done, 480_000).catch(fail);
      const report = await page.evaluate<CellReport[]>(REPORT_CELLS);
      assert.strictEqual(report.length, codeCells);
      assert.deepStrictEqual(
        report.flatMap((c) => c.errors),
        [],
        "no cell shows an error",
      );
      assert.deepStrictEqual(
        report.flatMap((c) => c.stderr),
        [],
        "no cell writes to stderr",
      );
      assert.strictEqual(
        report.reduce((n, c) => n + c.domErrors, 0),
        0,
        "no error or stderr output area on the page",
      );
      assert.deepStrictEqual(
        report.map((c) => c.prompt),
        Array.from({ length: codeCells }, (_, i) => i + 1),
        "one execution count per cell, in order, after the restart",
      );
      for (const chart of report.flatMap((c) => c.charts)) {
        assert.ok(chart.width > 50 && chart.height > 50, `a chart is drawn at a visible size: ${JSON.stringify(chart)}`);
        assert.ok(chart.shapes > 5, `a chart has marks and axes: ${JSON.stringify(chart)}`);
      }
      for (const table of report.flatMap((c) => c.tables)) {
        assert.ok(table.rows > 0, `an HTML table output is rendered as a table with rows: ${JSON.stringify(table)}`);
      }
      if (/\btrainer\.historyFrame\(\)/.test(notebookCode(name))) {
        // The notebook's own training history as a danfojs DataFrame, the value of a new cell: a pandas-style table.
        await page.evaluate(appendAndRun("trainer.historyFrame()"));
        const frame = await waitFor<{ className: string; rows: number; footer: string }>(
          page,
          `(() => { const cells = Jupyter.notebook.get_cells(); const last = cells[cells.length - 1]; const table = last.output_area.element[0].querySelector(".output_html table.dataframe"); return table && typeof last.input_prompt_number === "number" ? { className: table.className, rows: table.querySelectorAll("tbody tr").length, footer: table.parentElement.textContent.slice(-80) } : null; })()`,
          60_000,
        ).catch(fail);
        assert.ok(frame.rows > 5, `the history frame shows its rows (head and tail): ${JSON.stringify(frame)}`);
        assert.match(frame.footer, /\d+ rows × \d+ columns/, "with pandas' dimensions line");
        const after = await page.evaluate<CellReport[]>(REPORT_CELLS);
        assert.deepStrictEqual(after.at(-1)!.errors, [], "the DataFrame cell runs without an error");
        await page.evaluate("(() => { const cells = Jupyter.notebook.get_cells(); cells[cells.length - 1].element[0].scrollIntoView(); return true; })()");
        await page.screenshot(path.join(screenshots, `${stem}-dataframe.png`));
      }
      // The whole notebook in one picture: a window as tall as the notebook (classic Notebook scrolls inside #site).
      const height = await page.evaluate<number>("document.querySelector('#header').offsetHeight + document.querySelector('#notebook').scrollHeight");
      await page.cdp("Emulation.setDeviceMetricsOverride", { width: 1280, height: Math.min(height + 40, 30_000), deviceScaleFactor: 1, mobile: false });
      await page.evaluate("new Promise((resolve) => setTimeout(() => { document.querySelector('#site').scrollTop = 0; resolve(true); }, 500))");
      await page.screenshot(path.join(screenshots, `${stem}-done.png`));
    });
  }
});
