/** Executes every notebook in notebooks/ through the installed kernelspec (TSML_SMALL=1), in a temporary copy. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { repoRoot, tempDir } from "../helpers";
import { installTestKernelspec, runNbconvert, TestKernelspec } from "./harness";

const notebooksDir = path.join(repoRoot(), "notebooks");
const notebooks = fs.existsSync(notebooksDir)
  ? fs
      .readdirSync(notebooksDir)
      .filter((f) => f.endsWith(".ipynb"))
      .sort()
  : [];

describe("kernel: every notebook in notebooks/ runs without errors", function () {
  this.timeout(900_000);
  let spec: TestKernelspec;
  let copy: string;

  before(() => {
    spec = installTestKernelspec();
    copy = path.join(tempDir("tsml-notebooks-"), "notebooks");
    fs.cpSync(notebooksDir, copy, { recursive: true });
  });

  it("finds the notebooks", () => assert.ok(notebooks.includes("00-kernel-tour.ipynb"), `notebooks: ${notebooks.join(", ")}`));

  it("no notebook turns the Trainer's progress display off", () => {
    for (const name of notebooks) {
      const cells = JSON.parse(fs.readFileSync(path.join(notebooksDir, name), "utf8")).cells as { cell_type: string; source: string | string[] }[];
      // nbformat allows a cell's source as one string or as a list of lines.
      const code = cells
        .filter((c) => c.cell_type === "code")
        .map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source))
        .join("\n");
      assert.doesNotMatch(code, /progress:\s*["']none["']/, name);
    }
  });

  for (const name of notebooks) {
    it(name, async () => {
      const { code, output } = await runNbconvert(
        ["--to", "notebook", "--execute", `--ExecutePreprocessor.kernel_name=${spec.name}`, "--output-dir", path.join(copy, "executed"), name],
        { cwd: copy, env: { ...spec.env, TSML_SMALL: "1" }, cellTimeoutSeconds: 600, deadlineMs: 840_000 },
      );
      assert.strictEqual(code, 0, `nbconvert failed for ${name}:\n${output.slice(-4000)}`);
      const executed = JSON.parse(fs.readFileSync(path.join(copy, "executed", name), "utf8"));
      const errors = executed.cells
        .flatMap((c: { outputs?: { output_type: string }[] }) => c.outputs ?? [])
        .filter((o: { output_type: string }) => o.output_type === "error");
      assert.deepStrictEqual(errors, []);
    });
  }
});
