/** What cells show, through the real Jupyter protocol: danfojs frames as tables, streams that never drop a line. */
import * as assert from "assert";
import type { KernelClient } from "./client";
import type { JupyterMessage } from "../../src/kernel/wire";
import { tempDir } from "../helpers";
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
});
