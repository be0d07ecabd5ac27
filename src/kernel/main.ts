#!/usr/bin/env node
/** The "TypeScript ML" kernel process: `node dist/src/kernel/main.js <connection-file>` (started by Jupyter). */
import * as fs from "fs";
import { CellExecutor } from "./execution";
import { InterruptController } from "./interrupt";
import { HeapWatch } from "./memory";
import { captureProcessOutput, dropKernelLoaderWarning, installDisplayHook } from "./output";
import { tsmlPackageRoot, tsmlPackageVersion } from "../package";
import { watchParentProcess } from "../supervision";
import { KernelSession } from "./session";
import { KernelSockets } from "./sockets";
import { StdinChannel } from "./stdin";
import { SUPERVISED_KERNEL_ENV, superviseKernel } from "./supervisor";
import type { ConnectionInfo, JupyterMessage } from "./wire";

/** Starts the kernel for the connection file at `connectionFile` and resolves once its sockets are bound. */
export async function startKernel(connectionFile: string): Promise<void> {
  const info = readConnectionFile(connectionFile);
  watchParentProcess();
  const packageRoot = tsmlPackageRoot();
  const interrupts = new InterruptController<JupyterMessage>();
  let session: KernelSession | undefined;
  const log = captureProcessOutput({
    stream: (name, text) => session?.stream(name, text),
    displayData: (type, content) => session?.displayData(type, content),
    clearOutput: (wait) => session?.clearOutput(wait),
  });
  const executor = new CellExecutor<JupyterMessage>(process.cwd(), packageRoot, interrupts, log);
  const sockets = new KernelSockets(info, log);
  const exitKernel = refuseProcessExitInCells(interrupts);
  session = new KernelSession(sockets, executor, interrupts, kernelIdentity(), log, exitKernel);
  installDisplayHook(session);
  session.comms.install();
  dropKernelLoaderWarning();
  interrupts.install();
  process.on("uncaughtException", (err) => session.lateError("Uncaught exception (in a callback or timer)", err));
  process.on("unhandledRejection", (reason) => session.lateError("Unhandled promise rejection", reason));
  new HeapWatch((text) => session?.stream("stderr", text)).start();
  await sockets.bind();
  const stdin = new StdinChannel(session);
  stdin.installGlobals();
  sockets.listen(
    (m) => session.onShell(m),
    (m) => session.onControl(m),
    (m) => stdin.onMessage(m),
  );
  session.announceStarting();
  // Load the TypeScript compiler and start the best compute backend once the sockets answer, so kernel_info and
  // heartbeats are served at once; the first cell waits for the backend.
  setImmediate(() => {
    executor.startBackend();
    executor.warmUp();
  });
}

/**
 * Makes `process.exit`, `process.abort` and `process.kill(process.pid)` throw when a cell (or a timer or callback it
 * started) calls them: they would end the kernel without a reply. Returns the real `process.exit` for the kernel's
 * own shutdown.
 */
function refuseProcessExitInCells(interrupts: InterruptController<unknown>): (code?: number) => never {
  const exit = process.exit.bind(process);
  const refused = (call: string) =>
    new Error(
      `${call} is refused in a notebook: it would end the kernel and lose every variable. ` +
        "Throw an error to stop a cell, or restart the kernel from the notebook (Kernel > Restart).",
    );
  process.exit = (code?: number) => {
    if (interrupts.contextTag() === undefined) return exit(code);
    throw refused(`process.exit(${code ?? ""})`);
  };
  const abort = process.abort.bind(process);
  process.abort = () => {
    if (interrupts.contextTag() === undefined) return abort();
    throw refused("process.abort()");
  };
  const kill = process.kill.bind(process);
  process.kill = (pid: number, signal?: string | number) => {
    // Signal 0 only tests that a process exists; SIGINT is what the interrupt button sends.
    const ending = signal !== 0 && signal !== "SIGINT" && signal !== "SIGWINCH";
    if (interrupts.contextTag() !== undefined && ending && (pid === process.pid || pid === 0 || pid === -process.pid)) {
      throw refused(`process.kill(${pid === process.pid ? "process.pid" : pid}${signal === undefined ? "" : `, ${JSON.stringify(signal)}`})`);
    }
    return kill(pid, signal);
  };
  return exit;
}

function readConnectionFile(connectionFile: string): ConnectionInfo {
  try {
    return JSON.parse(fs.readFileSync(connectionFile, "utf8")) as ConnectionInfo;
  } catch (err) {
    throw new Error(`cannot read the Jupyter connection file ${connectionFile}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function kernelIdentity(): { version: string; typescriptVersion: string } {
  const typescript = JSON.parse(fs.readFileSync(require.resolve("@tslab/typescript-for-tslab/package.json"), "utf8")) as { version: string };
  return { version: tsmlPackageVersion(), typescriptVersion: typescript.version };
}

if (require.main === module) {
  const connectionFile = process.argv[2];
  if (!connectionFile) {
    console.error("usage: node dist/src/kernel/main.js <connection-file>  (Jupyter starts this; see `tsml kernel install`)");
    process.exit(2);
  }
  const fail = (err: unknown) => {
    fs.writeSync(2, `tsml kernel: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  };
  // The process Jupyter starts supervises the kernel (see supervisor.ts); its child is the kernel.
  if (process.env[SUPERVISED_KERNEL_ENV]) startKernel(connectionFile).catch(fail);
  else {
    try {
      superviseKernel(__filename, connectionFile, readConnectionFile(connectionFile));
    } catch (err) {
      fail(err);
    }
  }
}
