/** Executes every notebook in notebooks/ through the installed kernelspec (TSML_SMALL=1), in a temporary copy. */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { repoRoot, tempDir } from "../helpers";
import { installTestKernelspec, TestKernelspec } from "./harness";

const notebooksDir = path.join(repoRoot(), "notebooks");
const notebooks = fs.existsSync(notebooksDir)
  ? fs
      .readdirSync(notebooksDir)
      .filter((f) => f.endsWith(".ipynb"))
      .sort()
  : [];

function runNbconvert(spec: TestKernelspec, notebook: string, cwd: string): Promise<{ code: number | null; output: string }> {
  const args = [
    "nbconvert",
    "--to",
    "notebook",
    "--execute",
    `--ExecutePreprocessor.kernel_name=${spec.name}`,
    "--ExecutePreprocessor.timeout=600",
    "--output-dir",
    path.join(cwd, "executed"),
    notebook,
  ];
  const child = spawn("/usr/bin/jupyter", args, { cwd, env: { ...spec.env, TSML_SMALL: "1" } });
  let output = "";
  child.stdout.on("data", (chunk) => (output += String(chunk)));
  child.stderr.on("data", (chunk) => (output += String(chunk)));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, output })));
}

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
      const { code, output } = await runNbconvert(spec, name, copy);
      assert.strictEqual(code, 0, `nbconvert failed for ${name}:\n${output.slice(-4000)}`);
      const executed = JSON.parse(fs.readFileSync(path.join(copy, "executed", name), "utf8"));
      const errors = executed.cells
        .flatMap((c: { outputs?: { output_type: string }[] }) => c.outputs ?? [])
        .filter((o: { output_type: string }) => o.output_type === "error");
      assert.deepStrictEqual(errors, []);
    });
  }
});
