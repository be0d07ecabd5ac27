/** The kernel over the real Jupyter protocol: errors, counts, interrupts, displays, ESM imports, "tsml" anywhere. */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { KernelClient } from "./client";
import type { JupyterMessage } from "../../src/kernel/wire";
import { repoRoot, tempDir } from "../helpers";
import { stripAnsi } from "../../src/util";
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
  // One kernel per concern below (a describe each), started fresh for it: no test sees the state of another concern's cells.
  let kernel: KernelClient;
  let kernelArgv: string[];
  const notebookDir = tempDir("tsml-notebook-");
  let spec: ReturnType<typeof installTestKernelspec> | undefined;
  const freshKernel = (): void => {
    before(async () => {
      assert.ok(!notebookDir.startsWith(repoRoot()), "the notebook folder must be outside the repo");
      spec ??= installTestKernelspec();
      kernelArgv = JSON.parse(fs.readFileSync(spec.kernelJsonPath, "utf8")).argv;
      kernel = await startKernel(spec, notebookDir);
    });
    after(async () => kernel?.shutdown());
  };

  describe("its first cell", () => {
    freshKernel();

    it("a plain tfjs import runs on tsml's best backend from the first cell, without tfjs's node-backend banner", async () => {
      const first = await kernel.execute(
        'import * as tf from "@tensorflow/tfjs";\nconst firstBackend = tf.getBackend();\ntf.square(tf.scalar(3)).dataSync()[0]',
      );
      assert.strictEqual(first.reply.content.status, "ok", JSON.stringify(first.reply.content));
      assert.strictEqual(resultText(first.outputs), "9");
      assert.deepStrictEqual(ofType(first.outputs, "stream"), [], "no banner or other output");
      const chosen = await kernel.execute(
        'import { initBackend } from "tsml";\nconst best = (await initBackend()).name;\nJSON.stringify([firstBackend, best])',
      );
      const [firstBackend, best] = JSON.parse(String(resultText(chosen.outputs)).slice(1, -1));
      assert.notStrictEqual(best, "cpu", "native or WASM is available here");
      assert.strictEqual(firstBackend, best, "the first cell already ran on initBackend's choice");
    });
  });

  describe("errors, execution counts, completeness and the process guards", () => {
    freshKernel();

    it("reports a runtime error with its name, message and stack, and runs the next cell", async () => {
      const failed = await kernel.execute('function explode(): never { throw new RangeError("too far") }\nexplode()');
      assert.strictEqual(failed.reply.content.status, "error");
      assert.strictEqual(failed.reply.content.ename, "RangeError");
      assert.strictEqual(failed.reply.content.evalue, "too far");
      const [error] = ofType(failed.outputs, "error");
      assert.ok(error, "an iopub error message");
      const coloured = (error.content.traceback as string[]).join("\n");
      assert.ok(coloured.includes("\x1b[1;31mRangeError\x1b[0m: too far"), `the name in red, as ipykernel shows it: ${JSON.stringify(coloured)}`);
      assert.ok(coloured.includes("    at \x1b[0;36mexplode\x1b[0m ("), `the function in cyan: ${JSON.stringify(coloured)}`);
      const traceback = stripAnsi(coloured);
      assert.match(traceback, /^RangeError: too far$/m);
      assert.match(traceback, /^ {4}at explode \(In\[\d+\]:1:\d+\)$/m, "the stack names the throwing function");
      const next = await kernel.execute("40 + 2");
      assert.strictEqual(next.reply.content.status, "ok");
      assert.strictEqual(resultText(next.outputs), "42");
    });

    it("stop_on_error (the default): execute requests queued behind a failing cell are aborted, later ones run", async () => {
      const failing = 'await new Promise((resolve) => setTimeout(resolve, 300));\nthrow new Error("first fails")';
      const [failed, second, third] = await Promise.all([kernel.execute(failing), kernel.execute('"second"'), kernel.execute('"third"')]);
      assert.strictEqual(failed.reply.content.status, "error");
      for (const queued of [second, third]) {
        assert.strictEqual(queued.reply.content.status, "aborted");
        assert.deepStrictEqual(queued.outputs, [], "an aborted request runs nothing and shows nothing");
      }
      const later = await kernel.execute('"later"');
      assert.strictEqual(later.reply.content.status, "ok");
      assert.strictEqual(resultText(later.outputs), "'later'");
      assert.strictEqual(
        Number(later.reply.content.execution_count),
        Number(failed.reply.content.execution_count) + 1,
        "aborted requests take no execution count",
      );
    });

    it("stop_on_error false: the request queued right behind a failing one runs", async () => {
      const failing = 'await new Promise((resolve) => setTimeout(resolve, 300));\nthrow new Error("first fails")';
      const [failed, next] = await Promise.all([
        kernel.execute(failing, 60_000, { stopOnError: false }),
        kernel.execute('"second runs"', 60_000, { stopOnError: false }),
      ]);
      assert.strictEqual(failed.reply.content.status, "error");
      assert.strictEqual(next.reply.content.status, "ok");
      assert.strictEqual(resultText(next.outputs), "'second runs'");
    });

    it("a runtime error's traceback points at the cell's own line and column and shows that line", async () => {
      const code = 'const a = 1;\nconst b = { a };\nif (b.a === a) throw new TypeError("line three");';
      const { reply } = await kernel.execute(code);
      assert.strictEqual(reply.content.ename, "TypeError");
      const coloured = reply.content.traceback as string[];
      const traceback = coloured.map(stripAnsi);
      const line3 = code.split("\n")[2];
      const column = line3.indexOf("new TypeError") + 1;
      const count = Number(reply.content.execution_count);
      assert.ok(traceback.includes(`    at In[${count}]:3:${column}`), traceback.join("\n"));
      const shown = traceback.indexOf(line3);
      assert.ok(shown > 0, `the offending line is shown:\n${traceback.join("\n")}`);
      assert.strictEqual(traceback[shown - 1], `In[${count}]:3`, "the place above the line");
      assert.strictEqual(traceback[shown + 1], `${" ".repeat(column - 1)}^`, "a caret under the column");
      // The same lines in ipykernel's colours: the place green, the line as written, the caret red.
      assert.deepStrictEqual(coloured.slice(shown - 1, shown + 2), [`\x1b[1;32mIn[${count}]:3\x1b[0m`, line3, `${" ".repeat(column - 1)}\x1b[1;31m^\x1b[0m`]);
      assert.ok(coloured.includes(`    at \x1b[1;32mIn[${count}]:3:${column}\x1b[0m`), JSON.stringify(coloured));
      assert.ok(coloured.includes("\x1b[1;31mTypeError\x1b[0m: line three"), JSON.stringify(coloured));
      assert.ok(!traceback.some((l) => /dist[/\\]src[/\\]kernel|node:internal|<tsml-cell/.test(l)), traceback.join("\n"));
    });

    it("is_complete: complete, incomplete (open braces, template literal, comment) and invalid (syntax errors)", async () => {
      const status = async (code: string) => (await kernel.request("is_complete_request", { code })).content;
      for (const code of ["1 + 1", "const x = 3;", "function f() { return 1; }"]) assert.strictEqual((await status(code)).status, "complete", code);
      for (const code of ["function f() {", "const s = `abc", "const a = [1, 2,", "/* a comment"]) {
        const reply = await status(code);
        assert.strictEqual(reply.status, "incomplete", code);
        assert.strictEqual(typeof reply.indent, "string");
      }
      for (const code of ["const = ;", "1 +* 2", 'const s = "abc', "let 1x = 2;"]) assert.strictEqual((await status(code)).status, "invalid", code);
    });

    it("refuses process.exit from a cell with a clear error, and the kernel lives on", async () => {
      const { reply } = await kernel.execute("process.exit(1)");
      assert.strictEqual(reply.content.status, "error");
      assert.match(String(reply.content.evalue), /process\.exit\(1\) is refused in a notebook: it would end the kernel/);
      assert.strictEqual(kernel.process.exitCode, null);
      assert.strictEqual(resultText((await kernel.execute("6 * 7")).outputs), "42");
    });

    it("refuses process.kill(process.pid) and process.abort() from a cell; other signals and pids still work", async () => {
      for (const [code, shown] of [
        ["process.kill(process.pid)", "process.kill(process.pid)"],
        ['process.kill(process.pid, "SIGKILL")', 'process.kill(process.pid, "SIGKILL")'],
        ["process.abort()", "process.abort()"],
      ]) {
        const { reply } = await kernel.execute(code);
        assert.strictEqual(reply.content.status, "error", code);
        assert.ok(String(reply.content.evalue).startsWith(`${shown} is refused in a notebook: it would end the kernel`), String(reply.content.evalue));
      }
      assert.strictEqual(kernel.process.exitCode, null);
      assert.strictEqual(resultText((await kernel.execute("process.kill(process.pid, 0)")).outputs), "true", "signal 0 only checks the process exists");
    });

    it("runs with the heap limit its kernelspec gives (--max-old-space-size)", async () => {
      const flag = kernelArgv.find((a) => a.startsWith("--max-old-space-size="));
      assert.ok(flag, `kernel argv: ${kernelArgv.join(" ")}`);
      const limitMiB = Number(flag.split("=")[1]);
      const reported = Number(resultText((await kernel.execute('require("v8").getHeapStatistics().heap_size_limit / 2 ** 20')).outputs));
      // V8's limit is the old space plus the young generation (tens of MiB).
      assert.ok(reported >= limitMiB && reported < limitMiB + 256, `heap limit ${reported} MiB for ${flag}`);
    });

    it("reports late errors (timers, unhandled rejections) under the cell that caused them, without kernel frames", async () => {
      const late = 'setTimeout(() => { Promise.reject(new Error("late rejection")); }, 300);\n"scheduled"';
      const [scheduling, running] = await Promise.all([
        kernel.execute(late),
        kernel.execute('await new Promise((resolve) => setTimeout(resolve, 900));\n"still running"'),
      ]);
      assert.strictEqual(running.reply.content.status, "ok");
      assert.deepStrictEqual(ofType(running.outputs, "error"), [], "the late error is not shown under the cell running when it surfaced");
      const error = await kernel.waitForIopub((m) => m.header.msg_type === "error" && m.content.evalue === "late rejection");
      assert.strictEqual(error.parent_header.msg_id, scheduling.reply.parent_header.msg_id, "attributed to the cell that scheduled it");
      const coloured = error.content.traceback as string[];
      assert.equal(coloured[0], "\x1b[1;31mUnhandled promise rejection:\x1b[0m", "the kind in red");
      const traceback = coloured.map(stripAnsi);
      assert.match(traceback[0], /Unhandled promise rejection/);
      assert.ok(
        traceback.some((l) => l.includes(`In[${scheduling.reply.content.execution_count}]:1:`)),
        traceback.join("\n"),
      );
      assert.ok(!traceback.some((l) => /dist[/\\]src[/\\]kernel|node:internal|CellExecutor|sigintHandlersWrap/.test(l)), traceback.join("\n"));
      assert.strictEqual(kernel.process.exitCode, null, "the kernel survives");
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
      assert.deepStrictEqual(await json("JSON.stringify({ maxLength, count, twice: typeof twice, twiceOf4: twice(4) })"), {
        maxLength: 5,
        count: 1,
        twice: "function",
        twiceOf4: 8,
      });
      await run("function snapshot() { return { maxLength, count }; }");
      await run("({ count } = { count: 7 });");
      assert.deepStrictEqual(await json("JSON.stringify(snapshot())"), { maxLength: 5, count: 7 }, "a shorthand target assigns the earlier cell's `let`");
      assert.deepStrictEqual(
        await json(
          "const { limit = maxLength } = {} as { limit?: number };\nconst pick = ({ n = maxLength }: { n?: number } = {}) => ({ n });\nJSON.stringify([limit, pick()])",
        ),
        [5, { n: 5 }],
      );
      const typeError = await kernel.execute("const ok = 1;\nconst bad = { maxLength, nowhere };");
      assert.strictEqual(typeError.reply.content.status, "error");
      const traceback = (typeError.reply.content.traceback as string[]).map(stripAnsi);
      const shown = traceback.indexOf("const bad = { maxLength, nowhere };");
      assert.match(traceback[shown - 1], /^In\[\d+\]:2$/, traceback.join("\n"));
      assert.strictEqual(traceback[shown + 1], `${" ".repeat(25)}${"^".repeat("nowhere".length)}`, "the diagnostic points at the name in the cell as written");
      assert.match(traceback[shown + 2], /'nowhere'/);
    });

    it("reports a type error as an error", async () => {
      const { reply } = await kernel.execute('const n: number = "seven"');
      assert.strictEqual(reply.content.status, "error");
      assert.match(String(reply.content.evalue), /not assignable to type 'number'/);
    });
  });

  describe("interrupts", () => {
    freshKernel();

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
      const code =
        'const g = globalThis as any; g.ticks = 0;\nwhile (true) { if (++g.ticks === 2) console.log("ticked"); await new Promise((r) => setTimeout(r, 5)); }';
      const running = kernel.execute(code);
      await kernel.waitForIopub((m) => m.header.msg_type === "stream" && String(m.content.text).includes("ticked"));
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

    it("SIGINT stops `await trainer.train()` (of a million steps); the Trainer keeps its state and stops for real", async () => {
      const setup = await kernel.execute(`import * as tf from "@tensorflow/tfjs";
import { Trainer, classifierFromLayersModel } from "tsml";
const net = tf.sequential({ layers: [tf.layers.dense({ inputShape: [16], units: 4 })] });
const trainer = new Trainer({
  model: classifierFromLayersModel(net),
  trainData: { size: 64, collate: (idx: number[]) => ({ x: tf.ones([idx.length, 16]), y: tf.tensor1d(idx.map((i) => i % 4), "int32") }) },
  args: { perDeviceBatchSize: 8, maxSteps: 1_000_000, learningRate: 1e-3, progress: "none" },
  callbacks: [{ onStepEnd: (info) => void (info.step === 1 && console.log("stepped")) }],
});`);
      assert.strictEqual(setup.reply.content.status, "ok", JSON.stringify(setup.reply.content));
      const running = kernel.execute("await trainer.train();");
      await kernel.waitForIopub((m) => m.header.msg_type === "stream" && String(m.content.text).includes("stepped"));
      kernel.interrupt();
      const { reply } = await running;
      assert.strictEqual(reply.content.ename, "KeyboardInterrupt");
      const read = async () =>
        JSON.parse(String(resultText((await kernel.execute("JSON.stringify([trainer.globalStep, tf.memory().numTensors])")).outputs)).slice(1, -1));
      const [steps, tensors] = await read();
      assert.ok(steps > 0, "the Trainer made steps before the interrupt");
      await new Promise((r) => setTimeout(r, 300));
      assert.deepStrictEqual(await read(), [steps, tensors], "no step (and no tensor) after the interrupt");
      const next = await kernel.execute("1 + 1");
      assert.strictEqual(next.reply.content.status, "ok", "the next cell is unaffected");
    });

    it("interrupt_request stops an endless loop that awaits tensor.data(); the next cell is unaffected", async () => {
      const code =
        'import * as tf from "@tensorflow/tfjs";\nconst m = tf.ones([32, 32]);\nlet reads = 0;\nwhile (true) { const p = m.matMul(m); await p.data(); p.dispose(); if (++reads === 1) console.log("read once"); }';
      const running = kernel.execute(code);
      await kernel.waitForIopub((m) => m.header.msg_type === "stream" && String(m.content.text).includes("read once"));
      const interruptReply = await kernel.request("interrupt_request", {}, "control");
      assert.strictEqual(interruptReply.content.status, "ok");
      const { reply } = await running;
      assert.strictEqual(reply.content.ename, "KeyboardInterrupt");
      const read = async () => Number(resultText((await kernel.execute("reads")).outputs));
      const before = await read();
      assert.ok(before > 0, "the loop ran, and `reads` (declared by the interrupted cell) is kept");
      await new Promise((r) => setTimeout(r, 300));
      assert.strictEqual(await read(), before, "the loop stopped");
      assert.strictEqual((await kernel.execute('"unaffected"')).reply.content.status, "ok");
    });

    it("an interrupt while the kernel is idle does not reach the next cell", async () => {
      kernel.interrupt();
      await new Promise((r) => setTimeout(r, 200));
      const { reply, outputs } = await kernel.execute('await new Promise((resolve) => setTimeout(resolve, 200));\n"fine"');
      assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
      assert.strictEqual(resultText(outputs), "'fine'");
    });

    it("keeps what an interrupted cell declared and assigned (`i` after interrupting its loop)", async () => {
      const running = kernel.execute('import * as fs from "fs";\nlet i = 0;\nwhile (true) { if (++i === 1) fs.writeFileSync("counting", ""); }');
      await waitForFile(path.join(notebookDir, "counting"));
      kernel.interrupt();
      assert.strictEqual((await running).reply.content.ename, "KeyboardInterrupt");
      const { reply, outputs } = await kernel.execute("i > 0");
      assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
      assert.strictEqual(resultText(outputs), "true");
    });
  });

  describe("displays and imports", () => {
    freshKernel();

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

    it('imports a subpath entry point ("tsml/experiments") with its types checked', async () => {
      const ok = await kernel.execute(
        'import { expandGrid } from "tsml/experiments";\nexpandGrid({ task: "synthetic-logreg", training: {}, axes: { seed: [0, 1] } }).length',
      );
      assert.strictEqual(ok.reply.content.status, "ok", JSON.stringify(ok.reply.content));
      assert.strictEqual(resultText(ok.outputs), "2");
      const typed = await kernel.execute('import { expandGrid as expand } from "tsml/experiments";\nexpand({ task: 1 })');
      assert.strictEqual(typed.reply.content.status, "error");
      assert.match(String(typed.reply.content.evalue), /not assignable to type 'string'/);
    });

    it('imports from "tsml" with its types checked (chart specs too), and shows a chart as vega-lite + svg', async () => {
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
      assert.match(String(data["text/plain"]), /^VegaLiteChart "untitled" \(2 data rows;/);
      const badSpec = await kernel.execute('chart({ data: { values: [] }, mark: "pointy" })');
      assert.strictEqual(badSpec.reply.content.status, "error", "a spec is type-checked against vega-lite's TopLevelSpec");
      assert.match(String(badSpec.reply.content.evalue), /"pointy"/);
    });
  });
});

describe("kernel: the README's TypeScript snippets", function () {
  this.timeout(180_000);
  let kernel: KernelClient;

  before(async () => {
    kernel = await startKernel(installTestKernelspec(), tempDir("tsml-notebook-readme-"));
  });
  after(async () => kernel?.shutdown());

  it("runs every ```ts block of README.md as pasted, in a fresh kernel; the kernel snippet shows its loss chart", async () => {
    const readme = fs.readFileSync(path.join(repoRoot(), "README.md"), "utf8");
    const snippets = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
    assert.strictEqual(snippets.length, 2, "the README's TypeScript snippets (update this test when adding one)");
    const { reply, outputs } = await kernel.execute(snippets[0]);
    assert.strictEqual(reply.content.status, "ok", `${snippets[0]}\n-> ${JSON.stringify(reply.content)}`);
    const [result] = ofType(outputs, "execute_result");
    const spec = (result?.content.data as Record<string, { title?: { text?: string }; data?: { values?: unknown[] } }> | undefined)?.[VEGA_LITE_MIME];
    assert.strictEqual(spec?.title?.text, "Training loss");
    assert.strictEqual(spec?.data?.values?.length, 300, "one row per step of the snippet's history");

    const widgets = await kernel.execute(snippets[1]);
    assert.strictEqual(widgets.reply.content.status, "ok", `${snippets[1]}\n-> ${JSON.stringify(widgets.reply.content)}`);
    const views = widgets.outputs
      .filter((m) => ["display_data", "execute_result"].includes(m.header.msg_type))
      .map((m) => (m.content.data as Record<string, unknown>)["application/vnd.jupyter.widget-view+json"]);
    assert.strictEqual(views.filter((v) => v !== undefined).length, 2, "the interact and the slider show as widgets");
    const texts = widgets.outputs.filter((m) => m.header.msg_type === "display_data").map((m) => (m.content.data as Record<string, unknown>)["text/plain"]);
    assert.ok(texts.includes("lr 1.0e-4 with adamw"), `interact ran with the middle of the range and the first option: ${JSON.stringify(texts)}`);
  });
});

describe("kernel: a heap that runs full", function () {
  this.timeout(180_000);
  const HEAP_MIB = 384;
  let kernel: KernelClient;

  before(async () => {
    const withSmallHeap = (argv: string[]) => argv.map((a) => (a.startsWith("--max-old-space-size=") ? `--max-old-space-size=${HEAP_MIB}` : a));
    kernel = await startKernel(installTestKernelspec(), tempDir("tsml-notebook-heap-"), withSmallHeap);
  });
  after(async () => kernel?.shutdown());

  it("warns the user in the running cell when the heap nears its limit, and the kernel lives on", async () => {
    const code = `import * as v8 from "v8";
const heapShare = () => v8.getHeapStatistics().used_heap_size / v8.getHeapStatistics().heap_size_limit;
const hog: number[][] = [];
while (heapShare() < 0.8) hog.push(new Array(250_000).fill(1.5));
await new Promise((resolve) => setTimeout(resolve, 1500));
hog.length = 0;
v8.getHeapStatistics().heap_size_limit / 2 ** 20`;
    const { reply, outputs } = await kernel.execute(code);
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    const limit = Number(resultText(outputs));
    assert.ok(limit >= HEAP_MIB && limit < HEAP_MIB + 256, `the kernel runs with the small heap (${limit} MiB)`);
    const warnings = ofType(outputs, "stream").filter((m) => m.content.name === "stderr" && /memory is running out/.test(String(m.content.text)));
    assert.strictEqual(warnings.length, 1, JSON.stringify(outputs.map((m) => m.content)));
    assert.match(String(warnings[0].content.text), /--max-old-space-size/);
    assert.strictEqual(resultText((await kernel.execute("1 + 1")).outputs), "2");
  });
});
