#!/usr/bin/env node
/** The "TypeScript ML" kernel process: `node dist/src/kernel/main.js <connection-file>` (started by Jupyter). */
import * as fs from "fs";
import { CellExecutor } from "./execution";
import { InterruptController } from "./interrupt";
import { captureProcessOutput, installDisplayHook } from "./output";
import { tsmlPackageRoot, tsmlPackageVersion } from "./packageRoot";
import { watchParentProcess } from "./parentWatch";
import { KernelSession } from "./session";
import { KernelSockets } from "./sockets";
import type { ConnectionInfo } from "./wire";

/** Starts the kernel for the connection file at `connectionFile` and resolves once its sockets are bound. */
export async function startKernel(connectionFile: string): Promise<void> {
  let info: ConnectionInfo;
  try {
    info = JSON.parse(fs.readFileSync(connectionFile, "utf8"));
  } catch (err) {
    throw new Error(`cannot read the Jupyter connection file ${connectionFile}: ${err instanceof Error ? err.message : String(err)}`);
  }
  watchParentProcess();
  const packageRoot = tsmlPackageRoot();
  const interrupts = new InterruptController();
  const executor = new CellExecutor(process.cwd(), packageRoot, interrupts);
  let session: KernelSession | undefined;
  const log = captureProcessOutput({
    stream: (name, text) => session?.stream(name, text),
    displayData: (type, content) => session?.displayData(type, content),
    clearOutput: (wait) => session?.clearOutput(wait),
  });
  const sockets = new KernelSockets(info, log);
  session = new KernelSession(sockets, executor, interrupts, kernelIdentity(), log);
  installDisplayHook(session);
  interrupts.install();
  process.on("uncaughtException", (err) => console.error("Uncaught exception (in a callback or timer):", err));
  process.on("unhandledRejection", (reason) => console.error("Unhandled promise rejection:", reason));
  await sockets.bind();
  sockets.listen((m) => session!.onShell(m), (m) => session!.onControl(m));
  session.announceStarting();
  // Load the TypeScript compiler once the sockets answer, so kernel_info and heartbeats are served at once.
  setImmediate(() => executor.warmUp());
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
  startKernel(connectionFile).catch((err) => {
    fs.writeSync(2, `tsml kernel: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
