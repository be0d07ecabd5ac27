/** Headless rendering: loads the ESM-only vega / vega-lite from CommonJS, renders SVG, rasterises PNG with resvg. */
import * as fs from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import { VegaLiteSpec } from "./spec";

/** The parts of the `vega` module this file uses. */
interface VegaModule {
  parse(spec: unknown): unknown;
  View: new (
    runtime: unknown,
    options: { renderer: string },
  ) => {
    toSVG(scaleFactor?: number): Promise<string>;
    finalize(): void;
  };
}

/** The parts of the `vega-lite` module this file uses. */
interface VegaLiteModule {
  compile(spec: unknown): { spec: Record<string, unknown> };
}

/** The loaded vega and vega-lite modules. */
export interface VegaModules {
  vega: VegaModule;
  vegaLite: VegaLiteModule;
}

/** A real dynamic `import()` that TypeScript's CommonJS output (and tslab's) leaves alone. */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- on purpose: a constant body, the only way to keep import() in CommonJS output
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

/** Imports an installed ESM package by file URL, resolved from this file so the notebook's folder does not matter. */
function importPackage(name: string): Promise<unknown> {
  return importEsm(pathToFileURL(require.resolve(name)).href);
}

let modules: Promise<VegaModules> | undefined;

/** Loads vega 6 and vega-lite 6 (ESM-only, top-level await) once and caches them. */
export function loadVega(): Promise<VegaModules> {
  modules ??= Promise.all([importPackage("vega"), importPackage("vega-lite")]).then(
    ([vega, vegaLite]) => ({ vega: vega as VegaModule, vegaLite: vegaLite as VegaLiteModule }),
    (error: unknown) => {
      modules = undefined;
      throw new Error(`could not load vega / vega-lite: ${(error as Error).message}`);
    },
  );
  return modules;
}

/** Compiles a Vega-Lite spec to a Vega spec. */
export async function compileVegaLite(spec: VegaLiteSpec): Promise<Record<string, unknown>> {
  const { vegaLite } = await loadVega();
  return vegaLite.compile(spec).spec;
}

/** Renders a Vega-Lite spec to an SVG string headlessly (no browser, no canvas). */
export async function renderVegaLiteSVG(spec: VegaLiteSpec): Promise<string> {
  const { vega, vegaLite } = await loadVega();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Options for rasterising. */
export interface RasterOptions {
  /** Pixel density: 2 gives a crisp image for screens and READMEs. Default 1. */
  scale?: number;
}

/** A rasterised image: straight RGBA bytes, row-major. */
export interface RasterImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** The folder of an installed npm package (works for packages whose "exports" hide package.json). */
export function packageDir(name: string): string {
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = path.join(base, name);
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
  }
  throw new Error(`npm package "${name}" is not installed (looked in node_modules folders above ${__dirname})`);
}

/** The TTF files shipped with npm `dejavu-fonts-ttf` that charts use. */
export function chartFontFiles(): string[] {
  const dir = path.join(packageDir("dejavu-fonts-ttf"), "ttf");
  return ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansMono.ttf", "DejaVuSerif.ttf"].map((file) => path.join(dir, file));
}

type ResvgModule = typeof import("@resvg/resvg-js");
let resvgModule: ResvgModule | undefined;

function resvgFor(svg: string, options: RasterOptions) {
  const scale = options.scale ?? 1;
  if (!(scale > 0 && scale <= 8)) throw new Error(`scale must be in (0, 8], got ${scale}`);
  resvgModule ??= require("@resvg/resvg-js") as ResvgModule;
  return new resvgModule.Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    font: {
      fontFiles: chartFontFiles(),
      loadSystemFonts: false,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
      serifFamily: "DejaVu Serif",
      monospaceFamily: "DejaVu Sans Mono",
    },
  });
}

/** Rasterises an SVG string to PNG bytes with resvg, using the bundled DejaVu fonts. */
export function svgToPNG(svg: string, options: RasterOptions = {}): Buffer {
  return resvgFor(svg, options).render().asPng();
}

/** Rasterises an SVG string to raw RGBA pixels (for checks and custom encoders). */
export function svgToPixels(svg: string, options: RasterOptions = {}): RasterImage {
  const image = resvgFor(svg, options).render();
  return { width: image.width, height: image.height, pixels: new Uint8Array(image.pixels) };
}
