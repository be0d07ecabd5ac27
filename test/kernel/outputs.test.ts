/** What cells show, through the real Jupyter protocol: danfojs frames as tables, streams that never drop a line. */
import * as assert from "assert";
import type { KernelClient } from "./client";
import type { JupyterMessage } from "../../src/kernel/wire";
import { tempDir } from "../helpers";
import { stripAnsi } from "../../src/util";
import { installTestKernelspec, startKernel } from "./harness";

const DATARESOURCE = "application/vnd.dataresource+json";

function ofType(outputs: JupyterMessage[], type: string): JupyterMessage[] {
  return outputs.filter((m) => m.header.msg_type === type);
}

describe("kernel: outputs", function () {
  this.timeout(180_000);
  let kernel: KernelClient;

  before(async () => {
    kernel = await startKernel(installTestKernelspec(), tempDir("tsml-notebook-outputs-"));
  });
  after(async () => kernel?.shutdown());

  it("a danfojs DataFrame as a cell's value, and tsml's own tables passed to display, show as tables", async () => {
    const { reply, outputs } = await kernel.execute('import * as dfd from "danfojs-node";\nnew dfd.DataFrame({ step: [1, 2, 3], loss: [0.75, 0.5, 0.125] })');
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    const [result] = ofType(outputs, "execute_result");
    const data = result.content.data as Record<string, unknown>;
    assert.match(String(data["text/html"]), /<table[\s\S]*<td>0.125<\/td>[\s\S]*3 rows × 2 columns/);
    assert.doesNotMatch(String(data["text/plain"]), /\$dataIncolumnFormat|\$config/);
    assert.match(String(data["text/plain"]), /^\s+step\s+loss\n\s+int32\s+float32\n0\s+1\s+0\.750/);
    assert.deepStrictEqual((data[DATARESOURCE] as { data: unknown[] }).data, [
      { index: 0, step: 1, loss: 0.75 },
      { index: 1, step: 2, loss: 0.5 },
      { index: 2, step: 3, loss: 0.125 },
    ]);
    const shown = await kernel.execute('import { classBalance } from "tsml";\nawait display(classBalance([0, 1, 1, 1], ["ham", "spam"]));');
    assert.strictEqual(shown.reply.content.status, "ok", JSON.stringify(shown.reply.content));
    const [display] = ofType(shown.outputs, "display_data");
    const table = display.content.data as Record<string, unknown>;
    assert.match(String(table["text/html"]), /<td>spam<\/td><td>3<\/td><td>0.75<\/td>/);
    assert.strictEqual((table[DATARESOURCE] as { data: unknown[] }).data.length, 2);
  });

  it("a TypeScript diagnostic shows as a runtime error does: In[n]:line, the source line, carets under the span", async () => {
    const code = 'const fine = 1;\nconst wrong: number = "seven";\nMath.max(fine, wrong)';
    const { reply, outputs } = await kernel.execute(code);
    assert.strictEqual(reply.content.ename, "TypeScriptError");
    const count = reply.content.execution_count;
    const [error] = ofType(outputs, "error");
    const coloured = error.content.traceback as string[];
    const traceback = coloured.map(stripAnsi);
    const start = code.split("\n")[1].indexOf("wrong");
    assert.deepStrictEqual(traceback.slice(0, 4), [
      `In[${count}]:2`,
      'const wrong: number = "seven";',
      `${" ".repeat(start)}${"^".repeat("wrong".length)}`,
      "TypeScriptError: TS2322: Type 'string' is not assignable to type 'number'.",
    ]);
    assert.strictEqual(traceback.at(-1), "the cell did not compile (1 error)");
    // In ipykernel's colours: the place green, the source as written, the carets and the name red.
    assert.deepStrictEqual(coloured.slice(0, 4), [
      `\x1b[1;32mIn[${count}]:2\x1b[0m`,
      'const wrong: number = "seven";',
      `${" ".repeat(start)}\x1b[1;31m${"^".repeat("wrong".length)}\x1b[0m`,
      "\x1b[1;31mTypeScriptError\x1b[0m: TS2322: Type 'string' is not assignable to type 'number'.",
    ]);
    assert.deepStrictEqual(reply.content.traceback, coloured, "the reply carries the same coloured lines as the error message");
    assert.strictEqual(reply.content.ename, "TypeScriptError", "ename stays plain");
    assert.strictEqual(reply.content.evalue, "Type 'string' is not assignable to type 'number'.");
  });

  it("the first ES-module-only import shows no ExperimentalWarning for vm.USE_MAIN_CONTEXT_DEFAULT_LOADER; other warnings show", async () => {
    const { reply, outputs } = await kernel.execute(
      'import * as vl from "vega-lite";\nawait new Promise((resolve) => setTimeout(resolve, 200));\nprocess.emitWarning("a warning of the cell\'s own", "ExperimentalWarning");\nawait new Promise((resolve) => setTimeout(resolve, 200));\ntypeof vl.compile',
    );
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    const text = ofType(outputs, "stream")
      .map((m) => String(m.content.text))
      .join("");
    assert.doesNotMatch(text, /USE_MAIN_CONTEXT_DEFAULT_LOADER/);
    assert.match(text, /ExperimentalWarning: a warning of the cell's own/);
  });

  it("await input() / password() ask the client through input_request; a client without stdin gets a clear error", async () => {
    const asked: [string, boolean][] = [];
    kernel.onInputRequest((prompt, password) => {
      asked.push([prompt, password]);
      return password ? "s3cret" : "Ada";
    });
    const code = 'const who = await input("Your name: ");\nconst secret = await password("Token: ");\n`${who} ${secret.length}`';
    const { reply, outputs } = await kernel.execute(code, 60_000, { allowStdin: true });
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    assert.deepStrictEqual(asked, [
      ["Your name: ", false],
      ["Token: ", true],
    ]);
    const [result] = ofType(outputs, "execute_result");
    assert.strictEqual((result.content.data as Record<string, string>)["text/plain"], "'Ada 6'");
    const refused = await kernel.execute('await input("Your name: ")');
    assert.strictEqual(refused.reply.content.ename, "StdinNotAllowedError");
    assert.match(String(refused.reply.content.evalue), /input\("Your name: "\): this client cannot answer input requests \(.*allow_stdin: false/);
    assert.strictEqual(asked.length, 2, "no input_request without allow_stdin");
  });

  it("a cell printing 100,000 lines: every line arrives, in order, in few stream messages, then the result and idle", async () => {
    const lines = 100_000;
    const code = `for (let i = 0; i < ${lines}; i++) console.log("line " + i);\nconsole.error("to stderr");\nfor (let i = 0; i < 1000; i++) {\n  console.log("late " + i);\n  if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 20));\n}\n"done"`;
    const { reply, outputs } = await kernel.execute(code, 120_000);
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    const streams = ofType(outputs, "stream");
    const stdout = streams
      .filter((m) => m.content.name === "stdout")
      .map((m) => String(m.content.text))
      .join("")
      .split("\n");
    assert.strictEqual(stdout.pop(), "", "the text ends with a line end");
    const expected = [...Array.from({ length: lines }, (_, i) => `line ${i}`), ...Array.from({ length: 1000 }, (_, i) => `late ${i}`)];
    assert.strictEqual(stdout.length, expected.length);
    assert.ok(
      stdout.every((line, i) => line === expected[i]),
      "every line, in order",
    );
    const stderrAt = streams.findIndex((m) => m.content.name === "stderr");
    assert.strictEqual(streams[stderrAt].content.text, "to stderr\n");
    assert.ok(
      streams.slice(0, stderrAt).every((m) => String(m.content.text).startsWith("line ")),
      "stderr comes after the first loop's lines",
    );
    assert.ok(streams.length < 100, `coalesced: ${streams.length} stream messages`);
    const last = outputs[outputs.length - 1];
    assert.strictEqual(last.header.msg_type, "execute_result", "the result comes after all the text");
    assert.strictEqual((last.content.data as Record<string, string>)["text/plain"], "'done'");
  });
});
