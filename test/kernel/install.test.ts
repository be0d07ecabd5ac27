/** `tsml kernel install`: the kernelspec Jupyter gets, listing, removal, and a clear error without Jupyter. */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as v8 from "v8";
import { installKernelspec, installedKernelspecs, uninstallKernelspec, JUPYTER_INSTALL_HINT } from "../../src/kernel";
import { repoRoot, tempDir } from "../helpers";

function withEnv<T>(vars: Record<string, string>, body: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("kernel: kernelspec installation", function () {
  this.timeout(60_000);

  it("installs a kernel.json that runs this node and this kernel, which Jupyter then lists and can remove", () => {
    const prefix = tempDir("tsml-install-");
    const dir = installKernelspec({ prefix, name: "tsml-test" });
    assert.strictEqual(dir, path.join(prefix, "share", "jupyter", "kernels", "tsml-test"));
    const spec = JSON.parse(fs.readFileSync(path.join(dir, "kernel.json"), "utf8"));
    const [node, heapFlag, main, connection, ...rest] = spec.argv as string[];
    assert.deepStrictEqual(
      [node, main, connection, rest],
      [process.execPath, path.join(repoRoot(), "dist", "src", "kernel", "main.js"), "{connection_file}", []],
    );
    const heapMiB = Number(/^--max-old-space-size=(\d+)$/.exec(heapFlag)?.[1]);
    assert.ok(heapMiB >= v8.getHeapStatistics().heap_size_limit / 2 ** 20 - 1, `${heapFlag}: at least Node's default heap limit`);
    assert.ok(heapMiB < os.totalmem() / 2 ** 20, `${heapFlag}: less than the machine's ${os.totalmem()} bytes`);
    assert.strictEqual(spec.display_name, "TypeScript ML");
    assert.strictEqual(spec.language, "typescript");
    assert.strictEqual(spec.interrupt_mode, "signal");
    withEnv({ JUPYTER_PATH: path.join(prefix, "share", "jupyter") }, () => {
      const listed = installedKernelspecs().find((s) => s.name === "tsml-test");
      assert.ok(listed, "Jupyter lists the kernelspec");
      assert.strictEqual(listed.displayName, "TypeScript ML");
      uninstallKernelspec("tsml-test");
      assert.ok(!installedKernelspecs().some((s) => s.name === "tsml-test"), "removed");
    });
    assert.ok(!fs.existsSync(dir));
  });

  it("`tsml kernel install --prefix DIR` works from the command line", () => {
    const prefix = tempDir("tsml-install-cli-");
    const cli = path.join(repoRoot(), "dist", "src", "cli", "main.js");
    const run = spawnSync(process.execPath, [cli, "kernel", "install", "--prefix", prefix], { encoding: "utf8" });
    assert.strictEqual(run.status, 0, run.stderr);
    assert.match(run.stdout, /Installed the "TypeScript ML" kernelspec "tsml"/);
    assert.ok(fs.existsSync(path.join(prefix, "share", "jupyter", "kernels", "tsml", "kernel.json")));
  });

  it("without Jupyter, fails with how to get it and writes nothing", () => {
    const prefix = tempDir("tsml-install-nojupyter-");
    withEnv({ TSML_JUPYTER_PYTHON: path.join(prefix, "no-such-python") }, () => {
      assert.throws(
        () => installKernelspec({ prefix }),
        (err: Error) => err.message.includes(JUPYTER_INSTALL_HINT) && /apt-get install|pip install jupyter/.test(err.message),
      );
      assert.deepStrictEqual(installedKernelspecs(), []);
    });
    assert.deepStrictEqual(fs.readdirSync(prefix), []);
  });
});
