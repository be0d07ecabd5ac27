import { strict as assert } from "assert";
import * as path from "path";
import { spawnSync } from "child_process";
import { repoRoot } from "../helpers";

function doctor(env: Record<string, string> = {}): Array<{ label: string; value: string; ok: boolean }> {
  const cli = path.join(repoRoot(), "dist", "src", "cli", "main.js");
  const result = spawnSync(process.execPath, [cli, "doctor", "--json"], { encoding: "utf8", env: { ...process.env, ...env } });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

describe("tsml doctor", () => {
  it("reports the backend forced by TSML_BACKEND and why", () => {
    const backend = doctor({ TSML_BACKEND: "cpu" }).find((f) => f.label === "backend")!;
    assert.match(backend.value, /^backend: cpu \(tfjs 4\.22\.0, 1 thread\) — forced by TSML_BACKEND=cpu$/);
  });

  it("reports versions, fonts and — when Jupyter is missing — how to get it", () => {
    const findings = doctor({ TSML_JUPYTER_PYTHON: "/nonexistent/python3" });
    const byLabel = new Map(findings.map((f) => [f.label, f]));
    assert.equal(byLabel.get("tslab")!.value, require(path.join(repoRoot(), "node_modules", "tslab", "package.json")).version);
    assert.equal(byLabel.get("chart fonts")!.ok, true);
    const jupyter = byLabel.get("jupyter")!;
    assert.equal(jupyter.ok, false);
    assert.match(jupyter.value, /apt-get install jupyter-nbconvert python3-nbclient/);
    assert.equal(byLabel.has("kernel"), false, "no kernel status without Jupyter");
  });

  it("an unknown option is an error naming it", () => {
    const cli = path.join(repoRoot(), "dist", "src", "cli", "main.js");
    const result = spawnSync(process.execPath, [cli, "doctor", "--jsn"], { encoding: "utf8" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /unknown option --jsn/);
  });
});
