/**
 * `tsml run`: a notebook executed headless in a fresh kernel with papermill's conventions — the parameters injected
 * after the cell tagged "parameters", the outputs saved, and on a failing cell its error saved, the later cells left
 * unrun and a non-zero exit.
 */
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { cellSource, readNotebook } from "../../src/notebook";
import type { Notebook } from "../../src/notebook";
import { repoRoot, tempDir } from "../helpers";

function tsml(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repoRoot(), "dist", "src", "cli", "main.js"), "run", ...args], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const code = (source: string, tags?: string[]) => ({ cell_type: "code" as const, metadata: tags ? { tags } : {}, source, outputs: [], execution_count: null });

const NOTEBOOK: Notebook = {
  nbformat: 4,
  nbformat_minor: 4,
  metadata: { kernelspec: { name: "tsml", display_name: "TypeScript ML", language: "typescript" } },
  cells: [
    { cell_type: "markdown", metadata: {}, source: "# A parameterised notebook" },
    code('const steps = 2;\nconst label = "default";', ["parameters"]),
    code("console.log(`label=${label} steps=${steps * 10}`);"),
    code('if (steps > 5) throw new Error(`steps = ${steps} is too many`);\nconsole.log("checked");'),
    code('console.log("after");'),
  ],
};

describe("tsml run", function () {
  this.timeout(300_000);
  const dir = tempDir("tsml-run-");
  const input = path.join(dir, "params.ipynb");
  fs.writeFileSync(input, JSON.stringify(NOTEBOOK));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const textOf = (nb: Notebook, i: number) => (nb.cells[i].outputs ?? []).map((o) => (o.output_type === "stream" ? o.text : "")).join("");

  it("injects -p values after the parameters cell, saves the outputs and an HTML page, and exits 0", async () => {
    const out = path.join(dir, "out.ipynb");
    const html = path.join(dir, "out.html");
    const run = await tsml(input, "-p", "steps=3", "-p", "label=from the command line", "-o", out, "--html", html);
    assert.equal(run.code, 0, run.stderr);
    const nb = readNotebook(out);
    assert.equal(nb.cells.length, NOTEBOOK.cells.length + 1);
    assert.deepEqual(nb.cells[2].metadata.tags, ["injected-parameters"]);
    assert.equal(cellSource(nb.cells[2]), '// Parameters\nconst steps = 3;\nconst label = "from the command line";');
    assert.equal(textOf(nb, 3), "label=from the command line steps=30\n");
    assert.equal(textOf(nb, 5), "after\n");
    assert.match(fs.readFileSync(html, "utf8"), /label=from the command line steps=30/);
    // one progress line per code cell
    assert.equal(run.stderr.split("\n").filter((l) => /^\[\d+\/5\] cell \d+ ok/.test(l)).length, 5, run.stderr);
  });

  it("saves the error of a failing cell in the output notebook, leaves the later cells unrun and exits 1", async () => {
    const out = path.join(dir, "failed.ipynb");
    const html = path.join(dir, "failed.html");
    const run = await tsml(input, "-p", "steps=7", "-o", out, "--html", html);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cell 5 failed: Error: steps = 7 is too many/);
    assert.ok(!run.stderr.includes("\x1b"), "the console shows no colour escapes");
    const nb = readNotebook(out);
    const errors = (nb.cells[4].outputs ?? []).filter((o) => o.output_type === "error");
    assert.equal(errors.length, 1);
    assert.match(errors[0].output_type === "error" ? errors[0].evalue : "", /steps = 7 is too many/);
    // The saved traceback keeps the kernel's colours; the HTML page shows them as styled spans.
    const traceback = errors[0].output_type === "error" ? errors[0].traceback : [];
    assert.ok(traceback.includes("\x1b[1;31mError\x1b[0m: steps = 7 is too many"), JSON.stringify(traceback));
    const page = fs.readFileSync(html, "utf8");
    assert.ok(!page.includes("\x1b") && !/\[1;3\dm/.test(page), "no ANSI escapes in the HTML page");
    const shownError = /<pre class="output error">([\s\S]*?)<\/pre>/.exec(page)?.[1] ?? "";
    assert.match(shownError, /<span style="[^"]*color:[^"]*">Error<\/span>: steps = 7 is too many/, "the exception name in colour");
    assert.match(shownError.replace(/<[^>]*>/g, ""), /^In\[\d+\]:1\n.*\n *\^\n\nError: steps = 7 is too many\n {4}at In\[\d+\]:1:\d+/);
    assert.deepEqual(nb.cells[5].outputs, []);
    assert.equal(nb.cells[5].execution_count, null);
  });

  it("stops a cell that runs past --timeout, saves why, and exits 1", async () => {
    const looping = path.join(dir, "loop.ipynb");
    fs.writeFileSync(looping, JSON.stringify({ ...NOTEBOOK, cells: [code('console.log("before");'), code("while (true) {}"), code('console.log("after");')] }));
    const out = path.join(dir, "loop-out.ipynb");
    const run = await tsml(looping, "--timeout", "3", "-o", out);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cell 2 failed: TimeoutError: the cell ran longer than the time limit of 3 s/);
    const nb = readNotebook(out);
    assert.equal(textOf(nb, 0), "before\n");
    assert.deepEqual(
      (nb.cells[1].outputs ?? []).map((o) => o.output_type),
      ["error"],
    );
    assert.deepEqual(nb.cells[2].outputs, []);
  });

  it("refuses a notebook of another kernel and a parameter that is not NAME=VALUE, naming them", async () => {
    const python = path.join(dir, "python.ipynb");
    fs.writeFileSync(python, JSON.stringify({ ...NOTEBOOK, metadata: { kernelspec: { name: "python3", display_name: "Python 3" } } }));
    const other = await tsml(python);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /python\.ipynb: the notebook is for the kernel "python3" \(Python 3\), not "tsml"/);
    const run = await tsml(input, "-p", "steps");
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /parameter "steps" is not NAME=VALUE/);
  });
});
