/** A kernel whose parent process dies exits on its own, even while a cell blocks its event loop. */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "../helpers";
import { isRunning } from "../reliability/support";
import { installTestKernelspec } from "./harness";

/**
 * The intermediate parent: starts a kernel from the kernelspec argv with the test client, runs `while (true) {}`
 * in it (after writing `looping`), and prints the kernel's PID.
 */
const PARENT_SCRIPT = `
const { KernelClient } = require(process.argv[1]);
const argv = JSON.parse(process.argv[2]);
KernelClient.start({ argv, startTimeoutMs: 90000 }).then((kernel) => {
  console.log("kernel-pid " + kernel.process.pid);
  kernel.execute('import * as fs from "fs";\\nfs.writeFileSync("looping", "");\\nwhile (true) {}', 600000).catch(() => {});
}, (err) => { console.error(err); process.exit(1); });`;

/** A process that only waits, to stand in for the Jupyter server named by JPY_PARENT_PID. */
function spawnIdleProcess(): ChildProcess {
  return spawn(process.execPath, ["-e", "setInterval(() => {}, 1e9)"], { stdio: "ignore" });
}

describe("kernel: an orphaned kernel exits", function () {
  this.timeout(120_000);
  const started: ChildProcess[] = [];
  let kernelPid: number | undefined;

  afterEach(() => {
    for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    if (kernelPid !== undefined && isRunning(kernelPid)) process.kill(kernelPid, "SIGKILL");
    kernelPid = undefined;
  });

  /** Starts a kernel under an intermediate parent, waits until it loops, kills `victim` and waits for the kernel to end. */
  async function killAndExpectKernelGone(victim: "parent" | "JPY_PARENT_PID process"): Promise<void> {
    const spec = installTestKernelspec();
    const cwd = tempDir("tsml-orphan-");
    const { argv } = JSON.parse(fs.readFileSync(spec.kernelJsonPath, "utf8")) as { argv: string[] };
    const env = { ...spec.env };
    delete env.JPY_PARENT_PID;
    const jupyterServer = victim === "parent" ? undefined : spawnIdleProcess();
    if (jupyterServer) {
      started.push(jupyterServer);
      env.JPY_PARENT_PID = String(jupyterServer.pid);
    }
    const clientModule = path.resolve(__dirname, "./client");
    const parent = spawn(process.execPath, ["-e", PARENT_SCRIPT, clientModule, JSON.stringify(argv)], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    started.push(parent);
    let output = "";
    parent.stdout.on("data", (chunk) => (output += String(chunk)));
    parent.stderr.on("data", (chunk) => (output += String(chunk)));
    for (const start = Date.now(); !fs.existsSync(path.join(cwd, "looping")); await new Promise((r) => setTimeout(r, 50))) {
      assert.ok(Date.now() - start < 90_000 && parent.exitCode === null, `the kernel did not start looping:\n${output}`);
    }
    kernelPid = Number(/kernel-pid (\d+)/.exec(output)?.[1]);
    assert.ok(kernelPid > 0 && isRunning(kernelPid), `a running kernel: ${output}`);
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(isRunning(kernelPid), "the kernel keeps running while its parent lives");
    (jupyterServer ?? parent).kill("SIGKILL");
    const killedAt = Date.now();
    while (isRunning(kernelPid) && Date.now() - killedAt < 10_000) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!isRunning(kernelPid), `the kernel still runs 10 s after the ${victim} died`);
  }

  it("when its parent is SIGKILLed while a cell runs `while (true) {}`", () => killAndExpectKernelGone("parent"));

  it("when the process named by JPY_PARENT_PID dies (its direct parent still alive)", () => killAndExpectKernelGone("JPY_PARENT_PID process"));
});
