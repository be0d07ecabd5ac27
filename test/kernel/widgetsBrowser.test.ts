/**
 * Widgets in a real front-end: ipywidgets' own JavaScript (@jupyter-widgets/html-manager 1.0 with the controls 5 /
 * ipywidgets 8 models), bundled by esbuild, in headless Chromium, talking to the tsml kernel through a real Jupyter
 * server (Debian's classic Notebook server) with @jupyterlab/services. A cell makes a slider; it renders; a mouse
 * drag and a key press move it and the kernel sees the values; a kernel-side `value = 7` moves the rendered slider;
 * the dashboard's Stop button, clicked with the mouse, stops a running training.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CHROMIUM, openPage, PageSession, waitFor } from "../plots/chromium";
import { repoRoot, tempDir } from "../helpers";
import { installTestKernelspec } from "./harness";
import { NotebookServer, startNotebookServer } from "./notebookServer";

/** Why the test cannot run here, if it cannot (CI installs both). */
function missingComponent(): string | undefined {
  if (!fs.existsSync(CHROMIUM)) return `headless Chromium is not at ${CHROMIUM} (apt-get install -y chromium)`;
  const notebook = spawnSync("/usr/bin/python3", ["-c", "import notebook"], { encoding: "utf8" });
  if (notebook.status !== 0) return "the classic Notebook server is not installed for /usr/bin/python3 (apt-get install -y jupyter-notebook)";
  return undefined;
}

/** The page: the bundle and its CSS. */
function pageHtml(): string {
  return `<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <title>tsml widgets</title>
    <link rel="stylesheet" href="widgetsPage.css" />
    <style>
      body { font-family: sans-serif; margin: 16px; width: 900px; }
      .cell { margin: 8px 0; padding: 8px; border-left: 3px solid #ccc; }
    </style>
  </head>
  <body>
    <h3>ipywidgets' front-end &harr; tsml kernel (Jupyter server, @jupyterlab/services)</h3>
    <div id="cells"></div>
    <script src="widgetsPage.js"></script>
  </body>
</html>
`;
}

/** Bundles the page's script (and the widgets' CSS and fonts) into `dir`. */
async function buildPage(dir: string): Promise<void> {
  const source = path.join(repoRoot(), "test", "kernel", "browser");
  const esbuild = (await import("esbuild")) as typeof import("esbuild");
  const fonts = Object.fromEntries([".woff", ".woff2", ".ttf", ".eot", ".svg"].map((ext) => [ext, "dataurl" as const]));
  await esbuild.build({
    entryPoints: [path.join(source, "widgetsPage.js")],
    bundle: true,
    outfile: path.join(dir, "widgetsPage.js"),
    format: "iife",
    platform: "browser",
    loader: fonts,
    define: { "process.env.NODE_ENV": '"production"' },
    // html-manager sets webpack's public path for its own lazy chunks; esbuild bundles everything, so any value does.
    banner: { js: 'var __webpack_public_path__ = "";' },
    logLevel: "error",
  });
}

interface RunResult {
  status: string;
  texts: string[];
  /** The block the outputs went to: `#cell-<n>`. */
  cell: number;
}

describe("kernel: widgets in ipywidgets' own front-end (html-manager in headless Chromium, via a Jupyter server)", function () {
  this.timeout(300_000);
  let server: NotebookServer | undefined;
  let page: PageSession | undefined;
  const screenshots = process.env.TSML_SCREENSHOT_DIR ?? tempDir("tsml-widget-screenshots-");

  before(async function () {
    const missing = missingComponent();
    if (missing) {
      console.log(`skipped: ${missing}`);
      this.skip();
    }
    const spec = installTestKernelspec();
    const home = tempDir("tsml-widgets-server-");
    const notebooks = path.join(home, "notebooks");
    const pageDir = path.join(home, "page");
    fs.mkdirSync(notebooks);
    fs.mkdirSync(pageDir);
    await buildPage(pageDir);
    fs.writeFileSync(path.join(pageDir, "widgetsPage.html"), pageHtml());
    // Served as the server's static files: same origin as its API (its /files/ come in a CSP sandbox, an opaque
    // origin that may not call the API).
    server = await startNotebookServer(spec, notebooks, home, [`--NotebookApp.extra_static_paths=${JSON.stringify([pageDir])}`]);
    page = await openPage(`${server.base}/static/widgetsPage.html`);
    await page.cdp("Emulation.setDeviceMetricsOverride", { width: 1000, height: 900, deviceScaleFactor: 1, mobile: false });
    await waitFor(page, "typeof window.tsmlPage === 'object'", 60_000).catch(async (err: Error) => {
      const body = await page!.evaluate<string>("document.documentElement.outerHTML.slice(0, 2000)").catch(() => "");
      throw new Error(`${err.message}\npage: ${body}\npage errors: ${page!.errors.join("\n")}\nserver log:\n${server!.log().slice(-2000)}`);
    });
    await page.evaluate(`tsmlPage.start(${JSON.stringify(spec.name)}, ${JSON.stringify(server.token)})`);
  });

  after(async () => {
    await page?.evaluate("tsmlPage.shutdown()").catch(() => undefined);
    await page?.close();
    await server?.stop();
  });

  async function run(code: string): Promise<RunResult> {
    const result = await page!.evaluate<RunResult>(`tsmlPage.run(${JSON.stringify(code)})`);
    assert.strictEqual(result.status, "ok", `${code}\n${result.texts.join("\n")}\npage errors: ${page!.errors.join("\n")}`);
    return result;
  }

  /** The centre and right edge of `selector` in page coordinates (scrolled into view first). */
  async function centre(selector: string): Promise<{ x: number; y: number; right: number }> {
    return page!.evaluate(
      `(() => { const el = document.querySelector(${JSON.stringify(selector)}); el.scrollIntoView({ block: "center" }); const r = el.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2, right: r.right }; })()`,
    );
  }

  /** The text of `selector` in the page, or null when it is not there. */
  function textOf(selector: string): Promise<string | null> {
    return page!.evaluate(`(() => { const el = document.querySelector(${JSON.stringify(selector)}); return el && el.textContent.trim(); })()`);
  }

  async function mouse(type: "mousePressed" | "mouseMoved" | "mouseReleased", x: number, y: number): Promise<void> {
    await page!.cdp("Input.dispatchMouseEvent", { type, x, y, button: "left", buttons: type === "mouseReleased" ? 0 : 1, clickCount: 1 });
  }

  it("a slider renders; a mouse drag and a key press move it and the kernel sees the values; value = 7 in the kernel moves it", async () => {
    const { cell } = await run(
      'import { IntSlider } from "tsml";\nconst slider = new IntSlider({ value: 3, min: 0, max: 10, description: "layers" });\nslider',
    );
    const at = (selector: string) => `#cell-${cell} ${selector}`;
    const readout = async () => textOf(at(".widget-readout"));
    await waitFor(page!, `document.querySelector(${JSON.stringify(at(".widget-slider .widget-readout"))}) !== null`);
    assert.strictEqual(await readout(), "3");
    assert.strictEqual(await textOf(at(".widget-label")), "layers");

    // Drag the handle past the track's right end: the slider goes to its max.
    const handle = await centre(at(".noUi-handle"));
    const track = await centre(at(".noUi-target"));
    await mouse("mousePressed", handle.x, handle.y);
    for (let i = 1; i <= 5; i++) await mouse("mouseMoved", handle.x + ((track.right + 40 - handle.x) * i) / 5, handle.y);
    await mouse("mouseReleased", track.right + 40, handle.y);
    await waitFor(page!, `document.querySelector(${JSON.stringify(at(".widget-readout"))}).textContent === "10"`);
    assert.deepStrictEqual((await run("slider.value")).texts, ["10"], "the kernel sees the dragged value");

    // The keyboard: focus the handle and press the left arrow once (one step down).
    await page!.evaluate(`document.querySelector(${JSON.stringify(at(".noUi-handle"))}).focus(), true`);
    await page!.cdp("Input.dispatchKeyEvent", { type: "rawKeyDown", key: "ArrowLeft", code: "ArrowLeft", windowsVirtualKeyCode: 37 });
    await page!.cdp("Input.dispatchKeyEvent", { type: "keyUp", key: "ArrowLeft", code: "ArrowLeft", windowsVirtualKeyCode: 37 });
    await waitFor(page!, `document.querySelector(${JSON.stringify(at(".widget-readout"))}).textContent === "9"`);
    assert.deepStrictEqual((await run("slider.value")).texts, ["9"], "the kernel sees the key press");

    await run("slider.value = 7;");
    await waitFor(page!, `document.querySelector(${JSON.stringify(at(".widget-readout"))}).textContent === "7"`);
    const handlePosition = await page!.evaluate<string>(`document.querySelector(${JSON.stringify(at(".noUi-handle"))}).getAttribute("aria-valuenow")`);
    assert.strictEqual(Number(handlePosition), 7, "the rendered handle moved to the kernel's value");
    await page!.screenshot(path.join(screenshots, "widgets-slider.png"));
  });

  it("the dashboard's Stop button, clicked during a running training, stops it; the chart shows as SVG", async () => {
    const { cell } = await run(
      [
        'import * as tf from "@tensorflow/tfjs";',
        'import { Trainer, classifierFromFunction, trainingDashboard } from "tsml";',
        "type Batch = { x: tf.Tensor2D; y: tf.Tensor1D };",
        "const w = tf.variable(tf.zeros([2, 2]));",
        "const bias = tf.variable(tf.zeros([2]));",
        "const model = classifierFromFunction<Batch>([w, bias], (b) => tf.tidy(() => b.x.matMul(w).add(bias)), (b) => b.y);",
        'const trainData = { size: 64, collate: (idx: number[]) => ({ x: tf.tensor2d(idx.map((i) => [Math.sin(i), Math.cos(i)]), [idx.length, 2]), y: tf.tensor1d(idx.map((i) => (Math.sin(3 * i) > 0 ? 1 : 0)), "int32") }) };',
        'const dashboard = trainingDashboard({ title: "tiny classifier", chart: { minIntervalMs: 200, maxOverhead: 0.5 } });',
        "dashboard",
      ].join("\n"),
    );
    const at = (selector: string) => `#cell-${cell} ${selector}`;
    await waitFor(page!, `document.querySelector(${JSON.stringify(at(".widget-button"))}) !== null`);
    await page!.evaluate(
      `tsmlPage.start_run(${JSON.stringify('const trainer = new Trainer({ model, trainData, args: { perDeviceBatchSize: 8, maxSteps: 1_000_000, loggingSteps: 5, learningRate: 0.1, progress: "none" }, callbacks: [dashboard] });\nconst result = await trainer.train();\ntrainer.dispose();\nresult.stoppedReason')})`,
    );
    // Training runs: the status label counts steps and the chart is drawn (its SVG: this front-end has no Vega renderer).
    await waitFor(
      page!,
      `(() => { const label = document.querySelector(${JSON.stringify(at(".tsml-dashboard-status"))}); return /^step [0-9]{2,}\\//.test(label ? label.textContent : "") && document.querySelector(${JSON.stringify(at(".widget-output .jp-RenderedSVG img"))}) !== null; })()`,
      120_000,
    ).catch(async (err: Error) => {
      await page!.screenshot(path.join(screenshots, "widgets-dashboard-failed.png"));
      const shown = await page!.evaluate<string>(`document.querySelector("#cell-${cell}").innerHTML.slice(0, 3000)`);
      throw new Error(`${err.message}\nthe dashboard: ${shown}\npage errors: ${page!.errors.join("\n")}`);
    });
    // Two presses of the right arrow on the smoothing slider while training runs: ipywidgets' front-end sends the
    // second update only after the kernel's idle status for the first, so both reaching the kernel shows it comes.
    await page!.evaluate(`document.querySelector(${JSON.stringify(at(".widget-hslider .noUi-handle"))}).focus(), true`);
    for (let press = 0; press < 2; press++) {
      await page!.cdp("Input.dispatchKeyEvent", { type: "rawKeyDown", key: "ArrowRight", code: "ArrowRight", windowsVirtualKeyCode: 39 });
      await page!.cdp("Input.dispatchKeyEvent", { type: "keyUp", key: "ArrowRight", code: "ArrowRight", windowsVirtualKeyCode: 39 });
    }
    await waitFor(page!, `document.querySelector(${JSON.stringify(at(".widget-hslider .widget-readout"))}).textContent === "0.66"`);
    const button = await centre(at(".widget-button"));
    await page!.screenshot(path.join(screenshots, "widgets-dashboard-training.png"));
    await mouse("mousePressed", button.x, button.y);
    await mouse("mouseReleased", button.x, button.y);
    const result = await page!.evaluate<RunResult>("tsmlPage.running");
    assert.strictEqual(result.status, "ok", result.texts.join("\n"));
    assert.strictEqual(result.texts.length, 1, result.texts.join("\n"));
    assert.match(result.texts[0], /^"stopped from the dashboard's Stop button after step [0-9]+"$/);
    const stoppedAt = Number(/after step ([0-9]+)/.exec(result.texts[0])![1]);
    await waitFor(
      page!,
      `(() => { const b = document.querySelector(${JSON.stringify(at(".widget-button"))}); return b.disabled && b.textContent.trim() === "Stopped"; })()`,
    );
    assert.match(String(await textOf(at(".tsml-dashboard-status"))), new RegExp(`^step ${stoppedAt}/1000000 · .* · stopped$`));
    const smoothing = JSON.parse(
      (
        await run('JSON.stringify([dashboard.smoothing.value, (dashboard.chart.outputs[0].data as any)["application/vnd.vegalite.v5+json"].params[0].value])')
      ).texts[0].slice(1, -1),
    ) as number[];
    assert.ok(Math.abs(smoothing[0] - 0.66) < 1e-9, `the kernel got both slider moves: ${smoothing[0]}`);
    assert.strictEqual(smoothing[1], 0.66, "the chart was re-smoothed with the slider's value");
    await page!.screenshot(path.join(screenshots, "widgets-dashboard.png"));
    // @jupyterlab/services first asks for the v1 kernel websocket protocol, which Notebook 6.4 lacks, then connects without.
    const errors = page!.errors.filter((e) => !/favicon/.test(e) && !/Sent non-empty 'Sec-WebSocket-Protocol' header but no response was received/.test(e));
    assert.deepStrictEqual(errors, [], "no page errors");
  });
});
