/** Rendering and display: SVG/PNG with real drawn content and text, the Jupyter mime bundle, save() by extension. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { JUPYTER_DISPLAY } from "../../src/display";
import { chart, lossCurveChart, svgToPixels, VEGA_LITE_MIME } from "../../src/plots";
import { tempDir } from "../helpers";
import { testHistory } from "./support";

/** Number of distinct colours, non-white pixels and dark pixels of an RGBA image. */
function pixelStats(pixels: Uint8Array): { colours: number; nonWhite: number; dark: number } {
  const colours = new Set<number>();
  let nonWhite = 0;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
    colours.add((r << 16) | (g << 8) | b);
    if (r < 250 || g < 250 || b < 250) nonWhite++;
    if (r + g + b < 200) dark++;
  }
  return { colours: colours.size, nonWhite, dark };
}

describe("plots: rendering", () => {
  const lossChart = lossCurveChart(testHistory(200), { title: "Loss" });

  it("renders a PNG with drawn lines, several colours and visible text", async () => {
    const png = await lossChart.toPNG();
    assert.deepStrictEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const svg = await lossChart.toSVG();
    const image = svgToPixels(svg);
    const stats = pixelStats(image.pixels);
    assert.ok(image.width > 400 && image.height > 250, `size ${image.width}x${image.height}`);
    assert.ok(stats.nonWhite > 0.03 * image.width * image.height, `only ${stats.nonWhite} drawn pixels`);
    assert.ok(stats.colours >= 20, `only ${stats.colours} colours`);
    // The same SVG with every <text> element removed: the difference is the text the fonts drew.
    const withoutText = pixelStats(svgToPixels(svg.replace(/<text[^>]*>[^<]*<\/text>/g, "")).pixels);
    assert.ok(svg.includes("<text"), "the SVG has text elements");
    assert.ok(stats.dark - withoutText.dark > 500, `text adds only ${stats.dark - withoutText.dark} dark pixels`);
  });

  it("scales PNG output", async () => {
    const svg = await lossChart.toSVG();
    const one = svgToPixels(svg);
    const two = svgToPixels(svg, { scale: 2 });
    assert.deepStrictEqual([two.width, two.height], [one.width * 2, one.height * 2]);
    assert.throws(() => svgToPixels(svg, { scale: 0 }), /scale must be in \(0, 8\]/);
  });

  it("displays as one Jupyter bundle with Vega-Lite v5 JSON, headless SVG and text", async () => {
    const bundle = await lossChart[JUPYTER_DISPLAY]();
    assert.deepStrictEqual(Object.keys(bundle).sort(), ["application/vnd.vegalite.v5+json", "image/svg+xml", "text/plain"]);
    assert.strictEqual(VEGA_LITE_MIME, "application/vnd.vegalite.v5+json");
    assert.strictEqual(bundle[VEGA_LITE_MIME], lossChart.spec);
    assert.match(bundle["image/svg+xml"] as string, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(bundle["text/plain"] as string, /VegaLiteChart "Loss" \(200 data rows/);
  });

  it("saves by extension and rejects unknown extensions", async () => {
    const dir = tempDir();
    for (const ext of ["svg", "png", "html", "json"]) await lossChart.save(path.join(dir, `chart.${ext}`));
    assert.match(fs.readFileSync(path.join(dir, "chart.svg"), "utf8"), /^<svg/);
    assert.strictEqual(fs.readFileSync(path.join(dir, "chart.png")).readUInt32BE(0), 0x89504e47);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(dir, "chart.json"), "utf8")), JSON.parse(JSON.stringify(lossChart.spec)));
    await assert.rejects(lossChart.save(path.join(dir, "chart.pdf")), /unsupported extension ".pdf"/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("wraps hand-written specs and rejects non-objects", async () => {
    const c = chart({ data: { values: [{ a: 1 }, { a: 3 }] }, mark: "bar", encoding: { x: { field: "a", type: "quantitative" } } });
    assert.match(await c.toSVG(), /<svg/);
    assert.throws(() => chart([] as never), /spec must be a Vega-Lite JSON object, got an array/);
  });
});
