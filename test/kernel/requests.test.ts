/** Every request gets its reply, through the real Jupyter protocol: while files change under the kernel's folder. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import type { KernelClient } from "./client";
import type { JupyterMessage } from "../../src/kernel/wire";
import { isProcessAlive, processIdentity } from "../../src/supervision";
import { tempDir } from "../helpers";
import { installTestKernelspec, startKernel } from "./harness";

function resultText(outputs: JupyterMessage[]): string | undefined {
  const result = outputs.find((m) => m.header.msg_type === "execute_result");
  return (result?.content.data as Record<string, string> | undefined)?.["text/plain"];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("kernel: never deaf", function () {
  this.timeout(240_000);
  let kernel: KernelClient;
  const notebookDir = tempDir("tsml-notebook-deaf-");

  before(async () => {
    kernel = await startKernel(installTestKernelspec(), notebookDir);
  });
  after(async () => kernel?.shutdown());

  it("cells, complete and inspect keep working while the files a cell imports are rebuilt under the kernel's folder", async () => {
    const helper = path.join(notebookDir, "lib", "helper.ts");
    const write = (factor: number) => {
      fs.mkdirSync(path.dirname(helper), { recursive: true });
      fs.writeFileSync(helper, `/** Multiplies by ${factor}. */\nexport function scale(x: number): number {\n  return ${factor} * x;\n}\n`);
    };
    write(3);
    const first = await kernel.execute('import { scale } from "./lib/helper";\nscale(14)');
    assert.strictEqual(first.reply.content.status, "ok", JSON.stringify(first.reply.content));
    assert.strictEqual(resultText(first.outputs), "42");
    // A module not installed yet: TypeScript watches the folders where it looked for it.
    const missing = await kernel.execute('import { z } from "later";\nz');
    assert.match(String(missing.reply.content.evalue), /Cannot find module 'later'/);
    const installed = path.join(notebookDir, "node_modules", "later");
    const check = async (what: string) => {
      const cell = await kernel.execute(`"${what}"`);
      assert.strictEqual(cell.reply.content.status, "ok", `${what}: ${JSON.stringify(cell.reply.content)}`);
      assert.strictEqual(resultText(cell.outputs), `'${what}'`);
      const completion = await kernel.request("complete_request", { code: "Math.ma", cursor_pos: 7 }, "shell", 30_000);
      assert.strictEqual(completion.content.status, "ok", `${what}: ${JSON.stringify(completion.content)}`);
      assert.ok((completion.content.matches as string[]).includes("max"), JSON.stringify(completion.content));
      const inspection = await kernel.request("inspect_request", { code: "scale", cursor_pos: 3, detail_level: 0 }, "shell", 30_000);
      assert.strictEqual(inspection.content.status, "ok", `${what}: ${JSON.stringify(inspection.content)}`);
      assert.match(String((inspection.content.data as Record<string, string>)["text/plain"]), /scale\(x: number\): number/);
    };
    for (let round = 0; round < 2; round++) {
      // The missing module gets installed, the imported file's folder is emptied and written again (as `npm run
      // build` does with dist/), the module is removed again.
      fs.mkdirSync(installed, { recursive: true });
      fs.writeFileSync(path.join(installed, "index.d.ts"), "export declare const z: number;\n");
      await pause(2000);
      await check(`installed ${round}`);
      fs.rmSync(path.dirname(helper), { recursive: true, force: true });
      await pause(300);
      write(4 + round);
      await pause(2000);
      await check(`rebuilt ${round}`);
      fs.rmSync(path.join(notebookDir, "node_modules"), { recursive: true, force: true });
      await pause(2000);
      await check(`removed ${round}`);
    }
    const reimported = await kernel.execute('import { scale as rescaled } from "./lib/helper";\nrescaled(10)');
    assert.strictEqual(reimported.reply.content.status, "ok", JSON.stringify(reimported.reply.content));
    assert.strictEqual(resultText(reimported.outputs), "50");
    const errors = kernel.iopubReceived((m) => m.header.msg_type === "error").map((m) => m.content.traceback);
    assert.strictEqual(errors.length, 1, `only the missing module's error: ${JSON.stringify(errors)}`);
  });
});

describe("kernel: help inside calls", function () {
  this.timeout(180_000);
  let kernel: KernelClient;

  before(async () => {
    kernel = await startKernel(installTestKernelspec(), tempDir("tsml-notebook-help-"));
  });
  after(async () => kernel?.shutdown());

  const inspect = async (code: string) => {
    const reply = await kernel.request("inspect_request", { code, cursor_pos: code.length, detail_level: 0 });
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    assert.strictEqual(reply.content.found, true, `nothing found for ${JSON.stringify(code)}`);
    return String((reply.content.data as Record<string, string>)["text/plain"]);
  };

  it("Shift-Tab inside an argument list or an options object shows the callee's signature and doc comment", async () => {
    const imports = 'import { Trainer, lossCurveChart } from "tsml";\n';
    const constructor = await inspect(`${imports}new Trainer(`);
    assert.match(constructor, /new Trainer<unknown>\(options: TrainerOptions<unknown>\): Trainer<unknown>/);
    assert.match(constructor, /Trains a TrainableModel/, "the class's doc comment");
    assert.strictEqual(await inspect(`${imports}new Trainer({ args: { `), constructor, "inside the options object too");
    const chart = await inspect(`${imports}const h = [{ step: 1, loss: 1 }];\nlossCurveChart(h, {`);
    assert.match(chart, /lossCurveChart\(history: TableInput, options\?: LossCurveOptions\): VegaLiteChart/);
    assert.match(chart, /\n\n\S/, "followed by its doc comment");
  });

  it("completion inside an options object lists the option names with their types", async () => {
    const code = 'import { lossCurveChart } from "tsml";\nlossCurveChart([], { sm';
    const reply = await kernel.request("complete_request", { code, cursor_pos: code.length });
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    const matches = reply.content.matches as string[];
    assert.ok(matches.includes("smoothing") && !matches.includes("Math"), JSON.stringify(matches));
    const types = (reply.content.metadata as { _jupyter_types_experimental?: { text: string; signature: string }[] })._jupyter_types_experimental ?? [];
    assert.strictEqual(types.length, matches.length, "a type for every option listed");
    assert.deepStrictEqual(types.find((t) => t.text === "smoothing")?.signature, "smoothing: number");
  });
});

describe("kernel: a dying kernel says why", function () {
  this.timeout(180_000);
  const HEAP_MIB = 256;
  let kernel: KernelClient | undefined;
  afterEach(() => kernel?.kill());

  it("a cell that exhausts the heap at once: the notebook gets the cause under that cell, with the limit", async () => {
    const withSmallHeap = (argv: string[]) => argv.map((a) => (a.startsWith("--max-old-space-size=") ? `--max-old-space-size=${HEAP_MIB}` : a));
    kernel = await startKernel(installTestKernelspec(), tempDir("tsml-notebook-oom-"), withSmallHeap);
    const { reply, outputs } = await kernel.execute("const hog: number[][] = [];\nwhile (true) hog.push(new Array(4_000_000).fill(Math.random()));", 120_000);
    assert.strictEqual(reply.content.ename, "KernelDied", JSON.stringify(reply.content));
    assert.match(String(reply.content.evalue), new RegExp(`ran out of memory \\(the JavaScript heap ran full, its limit is ${HEAP_MIB} MiB\\)`));
    const errors = outputs.filter((m) => m.header.msg_type === "error");
    assert.strictEqual(errors.length, 1, "one error output under the cell");
    assert.match(String(errors[0].content.evalue), /--max-old-space-size/);
  });

  it("a kernel killed by a signal says which", async () => {
    kernel = await startKernel(installTestKernelspec(), tempDir("tsml-notebook-killed-"));
    const { reply } = await kernel.execute(
      'import { execSync } from "child_process";\nexecSync(`kill -9 ${process.pid}`);\nawait new Promise((resolve) => setTimeout(resolve, 10_000));',
      120_000,
    );
    assert.strictEqual(reply.content.ename, "KernelDied", JSON.stringify(reply.content));
    assert.match(String(reply.content.evalue), /killed by SIGKILL/);
  });
});

describe("kernel: shutdown ends the kernel even when its exit hangs", function () {
  this.timeout(120_000);
  let kernel: KernelClient | undefined;
  afterEach(() => kernel?.kill());

  it("a cell's exit handler that never returns: the supervisor kills the kernel process and exits", async () => {
    kernel = await startKernel(installTestKernelspec(), tempDir("tsml-notebook-stuck-exit-"));
    const { reply, outputs } = await kernel.execute('process.on("exit", () => {\n  for (;;) {}\n});\nprocess.pid');
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    const kernelProcess = processIdentity(Number(resultText(outputs)));
    assert.ok(isProcessAlive(kernelProcess), "the cell ran in the supervisor's child");
    // Waits for the supervisor to exit (the client kills it past the deadline: the test fails then).
    await kernel.shutdown(60_000);
    assert.strictEqual(kernel.process.exitCode, 0, `the supervisor exited on its own (signal ${kernel.process.signalCode})`);
    assert.ok(!isProcessAlive(kernelProcess), "the kernel process that hung in its exit handler is gone");
  });
});
