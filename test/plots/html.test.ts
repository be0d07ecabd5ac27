/** The self-contained HTML export opened in headless Chromium: renders offline, no console errors, slider works. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import { lossCurveChart, runComparisonChart } from "../../src/plots";
import { tempDir } from "../helpers";
import { openPage, PageSession, waitFor } from "./chromium";
import { testHistory } from "./support";

describe("plots: HTML export in headless Chromium", function () {
  this.timeout(90000);
  let dir: string;
  let page: PageSession | undefined;
  before(() => (dir = tempDir()));
  afterEach(async () => {
    await page?.close();
    page = undefined;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is self-contained (no external scripts or CDN)", () => {
    const html = lossCurveChart(testHistory(50)).toHTML();
    assert.doesNotMatch(html, /<script[^>]+src=/);
    assert.doesNotMatch(html, /cdn\.jsdelivr|unpkg\.com/);
    assert.ok(html.length > 500000, "vega, vega-lite and vega-embed are inlined");
  });

  it("renders the loss curve with marks and a working smoothing slider", async () => {
    const file = path.join(dir, "loss.html");
    await lossCurveChart(testHistory(150)).save(file);
    page = await openPage(pathToFileURL(file).href);
    const paths = await waitFor<number>(page, `document.querySelectorAll("#vis svg path").length`);
    assert.ok(paths >= 2, `${paths} svg paths`);
    const smoothedPath = `[...document.querySelectorAll("#vis svg g.mark-line path")].map((p) => p.getAttribute("d")).join("|")`;
    const before = await page.evaluate<string>(smoothedPath);
    const slider = await page.evaluate<string>(
      `(() => { const s = document.querySelector("#vis input[type=range]"); s.value = "0.99"; s.dispatchEvent(new Event("input", { bubbles: true })); return s.value; })()`,
    );
    assert.strictEqual(slider, "0.99");
    await waitFor<boolean>(page, `(${smoothedPath}) !== ${JSON.stringify(before)}`);
    assert.deepStrictEqual(page.errors, []);
  });

  it("renders the run comparison and its x-axis selector", async () => {
    const runs = [8, 32].map((b) => ({ run: `B${b}`, config: { effectiveBatchSize: b }, history: testHistory(80, b) }));
    const file = path.join(dir, "runs.html");
    await runComparisonChart(runs).save(file);
    page = await openPage(pathToFileURL(file).href);
    await waitFor<number>(page, `document.querySelectorAll("#vis svg g.mark-line path").length`);
    const options = await page.evaluate<string[]>(`[...document.querySelectorAll("#vis select option")].map((o) => o.textContent)`);
    assert.deepStrictEqual(options, ["optimizer steps", "examples seen"]);
    assert.deepStrictEqual(page.errors, []);
  });
});
