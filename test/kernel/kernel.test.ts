/** The kernel over the real Jupyter protocol: errors, counts, interrupts, displays, ESM imports, "tsml" anywhere. */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { KernelClient } from "../../src/kernel/client";
import type { JupyterMessage } from "../../src/kernel/wire";
import { repoRoot, tempDir } from "../helpers";
import { installTestKernelspec, startKernel } from "./harness";

const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

async function waitForFile(file: string, timeoutMs = 60_000): Promise<void> {
  for (const start = Date.now(); !fs.existsSync(file); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() - start > timeoutMs) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
  }
}

function ofType(outputs: JupyterMessage[], type: string): JupyterMessage[] {
  return outputs.filter((m) => m.header.msg_type === type);
}

function resultText(outputs: JupyterMessage[]): string | undefined {
  const [result] = ofType(outputs, "execute_result");
  return (result?.content.data as Record<string, string> | undefined)?.["text/plain"];
}

describe("kernel: a notebook in a folder outside the repository", function () {
  this.timeout(180_000);
  let kernel: KernelClient;
  const notebookDir = tempDir("tsml-notebook-");

  before(async () => {
    assert.ok(!notebookDir.startsWith(repoRoot()), "the notebook folder must be outside the repo");
    kernel = await startKernel(installTestKernelspec(), notebookDir);
  });
  after(async () => kernel?.shutdown());

  it("reports a runtime error with its name, message and stack, and runs the next cell", async () => {
    const failed = await kernel.execute('function explode(): never { throw new RangeError("too far") }\nexplode()');
    assert.strictEqual(failed.reply.content.status, "error");
    assert.strictEqual(failed.reply.content.ename, "RangeError");
    assert.strictEqual(failed.reply.content.evalue, "too far");
    const [error] = ofType(failed.outputs, "error");
    assert.ok(error, "an iopub error message");
    const traceback = (error.content.traceback as string[]).join("\n");
    assert.match(traceback, /RangeError: too far/);
    assert.match(traceback, /at explode/, "the stack names the throwing function");
    const next = await kernel.execute("40 + 2");
    assert.strictEqual(next.reply.content.status, "ok");
    assert.strictEqual(resultText(next.outputs), "42");
  });

  it("runs a request queued right behind a failing one (nothing is aborted)", async () => {
    const [failed, next] = await Promise.all([kernel.execute('throw new Error("first fails")'), kernel.execute('"second runs"')]);
    assert.strictEqual(failed.reply.content.status, "error");
    assert.strictEqual(next.reply.content.status, "ok");
    assert.strictEqual(resultText(next.outputs), "'second runs'");
  });

  it("publishes the execution count on execute_input, execute_result and the reply, one more per cell", async () => {
    const first = await kernel.execute("'a'");
    const second = await kernel.execute("'b'");
    const counts = [first, second].map((r) => [
      r.reply.content.execution_count,
      ofType(r.outputs, "execute_input")[0].content.execution_count,
      ofType(r.outputs, "execute_result")[0].content.execution_count,
    ]);
    assert.strictEqual(new Set(counts[0]).size, 1, `one count per cell, got ${counts[0]}`);
    assert.strictEqual(new Set(counts[1]).size, 1, `one count per cell, got ${counts[1]}`);
    assert.strictEqual(Number(counts[1][0]), Number(counts[0][0]) + 1);
  });

  it("shorthand properties and destructuring defaults see variables and functions of earlier cells", async () => {
    const declared = await kernel.execute("const maxLength = 5;\nlet count = 1;\nfunction twice(n: number): number { return 2 * n; }");
    assert.strictEqual(declared.reply.content.status, "ok", JSON.stringify(declared.reply.content));
    const run = async (code: string) => {
      const { reply, outputs } = await kernel.execute(code);
      assert.strictEqual(reply.content.status, "ok", `${code}: ${JSON.stringify(reply.content)}`);
      return outputs;
    };
    // The cells end with JSON.stringify(...): text/plain shows that string in single quotes.
    const json = async (code: string) => JSON.parse(String(resultText(await run(code))).slice(1, -1));
    assert.deepStrictEqual(await json("JSON.stringify({ maxLength, count, twice: typeof twice, twiceOf4: twice(4) })"), { maxLength: 5, count: 1, twice: "function", twiceOf4: 8 });
    await run("function snapshot() { return { maxLength, count }; }");
    await run("({ count } = { count: 7 });");
    assert.deepStrictEqual(await json("JSON.stringify(snapshot())"), { maxLength: 5, count: 7 }, "a shorthand target assigns the earlier cell's `let`");
    assert.deepStrictEqual(
      await json("const { limit = maxLength } = {} as { limit?: number };\nconst pick = ({ n = maxLength }: { n?: number } = {}) => ({ n });\nJSON.stringify([limit, pick()])"),
      [5, { n: 5 }],
    );
    const typeError = await kernel.execute("const ok = 1;\nconst bad = { maxLength, nowhere };");
    assert.strictEqual(typeError.reply.content.status, "error");
    const traceback = (typeError.reply.content.traceback as string[]).join("\n");
    assert.match(traceback, /2:26 - .*'nowhere'/, "the diagnostic points at the name in the cell as written");
  });

  it("reports a type error as an error", async () => {
    const { reply } = await kernel.execute('const n: number = "seven"');
    assert.strictEqual(reply.content.status, "error");
    assert.match(String(reply.content.evalue), /not assignable to type 'number'/);
  });

  it("SIGINT stops `while (true) {}` with KeyboardInterrupt and the kernel lives on", async () => {
    // A blocked event loop can't send iopub output, so the cell signals that it started through a file.
    const running = kernel.execute('import * as fs from "fs";\nfs.writeFileSync("looping", "");\nwhile (true) {}');
    await waitForFile(path.join(notebookDir, "looping"));
    kernel.interrupt();
    const { reply } = await running;
    assert.strictEqual(reply.content.status, "error");
    assert.strictEqual(reply.content.ename, "KeyboardInterrupt");
    assert.strictEqual(resultText((await kernel.execute("1 + 1")).outputs), "2");
  });

  it("SIGINT stops an async loop for real (it does not run on in the background)", async () => {
    const code = 'const g = globalThis as any; g.ticks = 0; console.log("ticking");\nwhile (true) { g.ticks++; await new Promise((r) => setTimeout(r, 5)); }';
    const running = kernel.execute(code);
    await kernel.waitForIopub((m) => m.header.msg_type === "stream" && String(m.content.text).includes("ticking"));
    await new Promise((r) => setTimeout(r, 200));
    kernel.interrupt();
    const { reply } = await running;
    assert.strictEqual(reply.content.ename, "KeyboardInterrupt");
    const read = async () => Number(resultText((await kernel.execute("(globalThis as any).ticks")).outputs));
    const before = await read();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(before > 0, "the loop ran before the interrupt");
    assert.strictEqual(await read(), before, "the loop stopped");
  });

  it("interrupt_request on the control channel stops a cell awaiting forever", async () => {
    const running = kernel.execute('console.log("waiting"); await new Promise(() => {})');
    await kernel.waitForIopub((m) => m.header.msg_type === "stream" && String(m.content.text).includes("waiting"));
    const interruptReply = await kernel.request("interrupt_request", {}, "control");
    assert.strictEqual(interruptReply.content.status, "ok");
    assert.strictEqual((await running).reply.content.ename, "KeyboardInterrupt");
  });

  it("sends a mime bundle with several types as ONE display_data, and updates it in place", async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>';
    const code = `const shown = await display({ [Symbol.for("Jupyter.display")]: () => ({
      "${VEGA_LITE_MIME}": { mark: "point" }, "image/svg+xml": ${JSON.stringify(svg)}, "text/plain": "a chart" }) });
      await shown.update("replaced");`;
    const { reply, outputs } = await kernel.execute(code);
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    const displays = ofType(outputs, "display_data");
    assert.strictEqual(displays.length, 1);
    assert.deepStrictEqual(Object.keys(displays[0].content.data as object).sort(), [VEGA_LITE_MIME, "image/svg+xml", "text/plain"].sort());
    assert.strictEqual((displays[0].content.data as Record<string, unknown>)["image/svg+xml"], svg);
    const [update] = ofType(outputs, "update_display_data");
    const id = (displays[0].content.transient as { display_id: string }).display_id;
    assert.ok(id, "the display has a display_id");
    assert.strictEqual((update.content.transient as { display_id: string }).display_id, id);
    assert.strictEqual((update.content.data as Record<string, unknown>)["text/plain"], "replaced");
  });

  it("imports an ES-module-only package (vega-lite 6) in a cell", async () => {
    const plainRequire = spawnSync(process.execPath, ["-e", 'require("vega-lite")'], { cwd: repoRoot(), encoding: "utf8" });
    assert.notStrictEqual(plainRequire.status, 0, "vega-lite is ESM-only: require() fails in plain Node");
    const { reply, outputs } = await kernel.execute(
      'import * as vl from "vega-lite";\nvl.compile({ data: { values: [{ a: 1 }] }, mark: "point", encoding: { x: { field: "a", type: "quantitative" } } }).spec.$schema',
    );
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    assert.match(String(resultText(outputs)), /vega\.github\.io\/schema\/vega\/v\d/);
  });

  it("imports a local .ts file next to the notebook, type-checked", async () => {
    fs.writeFileSync(path.join(notebookDir, "helper.ts"), "export function triple(x: number): number {\n  return 3 * x;\n}\n");
    const { reply, outputs } = await kernel.execute('import { triple } from "./helper";\ntriple(14)');
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    assert.strictEqual(resultText(outputs), "42");
    const typeError = await kernel.execute('triple("14")');
    assert.match(String(typeError.reply.content.evalue), /not assignable to parameter of type 'number'/);
  });

  it('imports from "tsml" with its types checked, and shows a chart as vega-lite + svg', async () => {
    const typeError = await kernel.execute('import { KERNELSPEC_NAME } from "tsml";\nconst wrong: number = KERNELSPEC_NAME;');
    assert.strictEqual(typeError.reply.content.status, "error");
    assert.match(String(typeError.reply.content.evalue), /'string' is not assignable to type 'number'/);
    const { reply, outputs } = await kernel.execute(
      'import { chart } from "tsml";\nchart({ data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] }, mark: "line", encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } })',
    );
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    const [result] = ofType(outputs, "execute_result");
    const data = result.content.data as Record<string, unknown>;
    assert.strictEqual((data[VEGA_LITE_MIME] as { mark: string }).mark, "line");
    assert.match(String(data["image/svg+xml"]), /^<svg[\s\S]*<\/svg>$/);
    assert.ok(typeof data["text/plain"] === "string");
  });
});
