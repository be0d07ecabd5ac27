/** Self-contained HTML export: vega, vega-lite and vega-embed inlined from node_modules, no CDN, works offline. */
import * as fs from "fs";
import * as path from "path";
import { packageDir } from "./render";
import { VegaLiteSpec } from "./spec";

const LIBRARIES: ReadonlyArray<readonly [pkg: string, file: string]> = [
  ["vega", "build/vega.min.js"],
  ["vega-lite", "build/vega-lite.min.js"],
  ["vega-embed", "build/vega-embed.min.js"],
];

let inlinedScripts: string | undefined;

/** The three UMD bundles as inline <script> tags, read once from node_modules. */
function libraryScripts(): string {
  inlinedScripts ??= LIBRARIES.map(([pkg, file]) => {
    const full = path.join(packageDir(pkg), file);
    const code = fs.readFileSync(full, "utf8").replace(/<\/script/gi, "<\\/script");
    return `<script>/* ${pkg} */\n${code}\n</script>`;
  }).join("\n");
  return inlinedScripts;
}

/** JSON safe to place inside a <script> element. */
function scriptSafeJSON(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHTML(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

/** A complete HTML page rendering `spec` interactively (sliders and selectors work) without network access. */
export function vegaLiteToHTML(spec: VegaLiteSpec, pageTitle = "tsml chart"): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHTML(pageTitle)}</title>
<style>body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 16px; }</style>
${libraryScripts()}
</head>
<body>
<div id="vis"></div>
<script>
vegaEmbed("#vis", ${scriptSafeJSON(spec)}, { renderer: "svg", actions: { export: true, source: true, compiled: false, editor: false } })
  .catch(function (error) { console.error("tsml chart failed to render: " + error); });
</script>
</body>
</html>
`;
}
