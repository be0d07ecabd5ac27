/**
 * Saved widget state through a real client: nbconvert --execute (nbclient) stores
 * `application/vnd.jupyter.widget-state+json` in the notebook's metadata from the comm messages it sees, and the
 * exported HTML embeds it, so the last state of a slider, and what an Output widget captured, show without a kernel.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "../helpers";
import { installTestKernelspec, runNbconvert } from "./harness";

const STATE_MIME = "application/vnd.jupyter.widget-state+json";

type SavedModel = { model_name: string; model_module: string; model_module_version: string; state: Record<string, unknown> };

describe("kernel: widget state saved by nbconvert --execute", function () {
  this.timeout(300_000);

  it("stores every widget's model and last state in the metadata, an Output's captured outputs included, and the HTML embeds it", async () => {
    const spec = installTestKernelspec();
    const dir = tempDir("tsml-widget-state-");
    const cell = (source: string) => ({ cell_type: "code", metadata: {}, execution_count: null, outputs: [], source });
    const notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: spec.name, display_name: "TypeScript ML", language: "typescript" } },
      cells: [
        cell('import { IntSlider, Output } from "tsml";\nconst slider = new IntSlider({ value: 3, max: 10, description: "layers" });\nslider'),
        cell("slider.value = 7;"),
        cell('const out = new Output();\nawait display(out);\nawait out.capture(() => console.log("captured line"));'),
      ],
    };
    fs.writeFileSync(path.join(dir, "widgets.ipynb"), JSON.stringify(notebook));
    const run = { cwd: dir, env: spec.env, cellTimeoutSeconds: 60, deadlineMs: 120_000 };
    const executed = await runNbconvert(
      ["--to", "notebook", "--execute", `--ExecutePreprocessor.kernel_name=${spec.name}`, "--output", "executed.ipynb", "widgets.ipynb"],
      run,
    );
    assert.strictEqual(executed.code, 0, executed.output.slice(-4000));
    const result = JSON.parse(fs.readFileSync(path.join(dir, "executed.ipynb"), "utf8"));
    const saved = result.metadata.widgets?.[STATE_MIME] as { version_major: number; version_minor: number; state: Record<string, SavedModel> } | undefined;
    assert.ok(saved, `the metadata has ${STATE_MIME}: ${JSON.stringify(result.metadata)}`);
    assert.deepStrictEqual([saved.version_major, saved.version_minor], [2, 0]);
    const models = Object.values(saved.state);
    const sliders = models.filter((m) => m.model_name === "IntSliderModel");
    assert.strictEqual(sliders.length, 1);
    assert.deepStrictEqual(
      [sliders[0].model_module, sliders[0].model_module_version, sliders[0].state.value, sliders[0].state.description],
      ["@jupyter-widgets/controls", "2.0.0", 7, "layers"],
    );
    const layoutId = String(sliders[0].state.layout).replace(/^IPY_MODEL_/, "");
    assert.strictEqual(saved.state[layoutId]?.model_name, "LayoutModel", "the slider's layout model is saved too");
    const outputs = models.filter((m) => m.model_name === "OutputModel");
    assert.strictEqual(outputs.length, 1);
    assert.deepStrictEqual(
      outputs[0].state.outputs,
      [{ output_type: "stream", name: "stdout", text: "captured line\n" }],
      "nbclient captured the Output's print into its state",
    );
    const sliderView = result.cells[0].outputs.find((o: { data?: Record<string, unknown> }) => o.data?.["application/vnd.jupyter.widget-view+json"]);
    assert.ok(saved.state[sliderView.data["application/vnd.jupyter.widget-view+json"].model_id], "the displayed view names a saved model");

    const html = await runNbconvert(["--to", "html", "--output", "executed.html", "executed.ipynb"], run);
    assert.strictEqual(html.code, 0, html.output.slice(-4000));
    const page = fs.readFileSync(path.join(dir, "executed.html"), "utf8");
    assert.match(page, new RegExp(`<script type="${STATE_MIME.replace(/[.+]/g, "\\$&")}">`), "the HTML embeds the widget state");
    assert.match(page, /IntSliderModel/);
  });
});
