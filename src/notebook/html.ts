/**
 * A notebook as one self-contained HTML page (no network): code, stream text, rich outputs (HTML, SVG, PNG, JPEG,
 * plain text) and errors, with the ANSI colours of tracebacks and streams as styled spans; markdown cells are shown
 * as their text.
 */
import { escapeHTML } from "../plots";
import { ansiToHTML } from "../util";
import { Notebook, NotebookOutput, cellSource } from "./format";

const STYLE = `
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
.cell { margin: 1rem 0; }
.markdown { white-space: pre-wrap; line-height: 1.45; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; }
.input { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 4px; padding: .5rem; }
.prompt { color: #6a737d; font-size: .8rem; }
.output { padding: .3rem .5rem; overflow-x: auto; }
.stderr { background: #fff5f5; }
.error { background: #fdecea; color: #8a1c1c; }
img, svg { max-width: 100%; }
`;

/** Mime types shown, richest first. */
const RICH_MIMES = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "text/plain"];

/** The whole notebook as an HTML page titled `title`. */
export function notebookToHTML(nb: Notebook, title: string): string {
  const cells = nb.cells.map((cell) => {
    const source = cellSource(cell);
    if (cell.cell_type !== "code") return `<div class="cell markdown">${escapeHTML(source)}</div>`;
    const prompt = `<div class="prompt">In [${cell.execution_count ?? " "}]:</div>`;
    const outputs = (cell.outputs ?? []).map(outputToHTML).join("\n");
    return `<div class="cell">${prompt}<pre class="input">${escapeHTML(source)}</pre>${outputs}</div>`;
  });
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHTML(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${cells.join("\n")}
</body>
</html>
`;
}

/** One output as HTML. */
export function outputToHTML(output: NotebookOutput): string {
  switch (output.output_type) {
    case "stream":
      return `<pre class="output ${output.name}">${ansiToHTML(output.text)}</pre>`;
    case "error":
      return `<pre class="output error">${ansiToHTML(output.traceback.length ? output.traceback.join("\n") : `${output.ename}: ${output.evalue}`)}</pre>`;
    default: {
      const mime = RICH_MIMES.find((m) => output.data[m] !== undefined);
      if (!mime) return "";
      const data = output.data[mime];
      const text = Array.isArray(data) ? data.join("") : String(data);
      if (mime === "text/html" || mime === "image/svg+xml") return `<div class="output">${text}</div>`;
      if (mime === "image/png" || mime === "image/jpeg")
        return `<div class="output"><img src="data:${mime};base64,${text.replace(/\s/g, "")}" alt="output"></div>`;
      return `<pre class="output">${ansiToHTML(text)}</pre>`;
    }
  }
}
