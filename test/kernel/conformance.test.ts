/** Debian's jupyter_kernel_test suite (test/kernel/conformance.py) against the installed kernelspec. */
import * as assert from "assert";
import { spawn } from "child_process";
import * as path from "path";
import { repoRoot } from "../helpers";
import { installTestKernelspec } from "./harness";

describe("kernel: jupyter_kernel_test conformance", function () {
  this.timeout(300_000);

  it("passes every applicable jupyter_kernel_test test", async () => {
    const spec = installTestKernelspec();
    const child = spawn("/usr/bin/python3", ["-m", "unittest", "-v", "conformance"], {
      cwd: path.join(repoRoot(), "test", "kernel"),
      env: { ...spec.env, TSML_KERNEL_NAME: spec.name },
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += String(chunk)));
    child.stderr.on("data", (chunk) => (output += String(chunk)));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.strictEqual(code, 0, output);
    assert.match(output, /\nOK \(skipped=\d+\)|\nOK\n/, output);
    assert.doesNotMatch(output, /FAIL|ERROR/, output);
    for (const comms of ["test_comm_info_lists_open_comms", "test_comm_msg_updates_a_widget"])
      assert.match(output, new RegExp(`${comms} .* ok\\n`), `${comms} ran and passed`);
  });
});
