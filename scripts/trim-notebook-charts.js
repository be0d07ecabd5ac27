#!/usr/bin/env node
// Drops the large Vega-Lite JSON of chart outputs that also carry an SVG/PNG (src/notebook/trimCharts.ts), so that
// saved notebooks stay small: `node scripts/trim-notebook-charts.js notebooks/*.ipynb` (after `npm run build`).
const fs = require("fs");
const { readNotebook, writeNotebook, trimChartOutputs } = require("../dist/src/notebook");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/trim-notebook-charts.js NOTEBOOK.ipynb...");
  process.exit(2);
}
for (const file of files) {
  const before = fs.statSync(file).size;
  const nb = readNotebook(file);
  const trimmed = trimChartOutputs(nb);
  if (trimmed.length > 0) writeNotebook(file, nb);
  console.log(`${file}: ${before} -> ${fs.statSync(file).size} bytes (${trimmed.length} chart outputs trimmed)`);
}
