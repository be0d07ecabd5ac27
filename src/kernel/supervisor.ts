/**
 * A dying kernel says why. The process Jupyter starts is a small supervisor; the kernel runs in a child process.
 * When the child dies without a shutdown (the JavaScript heap ran full, a signal killed it, native code aborted),
 * the supervisor binds the freed iopub and shell ports, tells the notebook the cause of death under the request that
 * was running (an `error` output, the execute_reply and the idle status), and exits, so Jupyter restarts the kernel
 * as it would anyway. SIGINT (the interrupt button) and SIGTERM are passed to the child.
 */
import { fork } from "child_process";
import * as zmq from "zeromq";
import { watchParentProcess } from "../supervision";
import { errorLine, type ErrorContent } from "./errors";
import { ConnectionInfo, JupyterMessage, MessageHeader, MessageSigner, encodeMessage, makeMessage } from "./wire";

/** Set in the child's environment: this process is the kernel itself, not its supervisor. */
export const SUPERVISED_KERNEL_ENV = "TSML_KERNEL_SUPERVISED";

/** What the kernel tells its supervisor over the IPC channel. */
export type SupervisorNote = { kind: "executing"; header: MessageHeader; identities: string[] } | { kind: "shutdown" };

/** Tells the supervisor (if any) which request runs now, so a death can be reported under it. */
export function noteExecuting(request: JupyterMessage): void {
  const note: SupervisorNote = { kind: "executing", header: request.header, identities: request.identities.map((id) => id.toString("base64")) };
  process.send?.(note);
}

/** Tells the supervisor (if any) that the kernel is shutting down on request. */
export function noteShutdown(): void {
  process.send?.({ kind: "shutdown" } satisfies SupervisorNote);
}

/** How long the new sockets wait for the front-end's sockets to reconnect before reporting. */
const RECONNECT_WAIT_MS = 1500;

/**
 * How long a kernel that said it shuts down may take to exit before it is killed: an exit that hangs (an exit
 * handler that loops, native code stuck in teardown) would otherwise outlive its supervisor, which jupyter_client
 * kills after 5 s, and keep the notebook server's or nbconvert's output pipe open.
 */
const SHUTDOWN_GRACE_MS = 2000;

/** Runs `mainFile` (the kernel) as a child and reports its death on the connection's ports. */
export function superviseKernel(mainFile: string, connectionFile: string, info: ConnectionInfo): void {
  // In its own process group: jupyter_client interrupts by signalling the kernel's group, and the child must get
  // one SIGINT (forwarded below), not two.
  const child = fork(mainFile, [connectionFile], {
    env: { ...process.env, [SUPERVISED_KERNEL_ENV]: "1" },
    stdio: ["ignore", "inherit", "pipe", "ipc"],
    detached: true,
  });
  let stderrTail = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString()).slice(-16_384);
  });
  let last: Extract<SupervisorNote, { kind: "executing" }> | undefined;
  let shuttingDown = false;
  child.on("message", (note: SupervisorNote) => {
    if (note.kind === "executing") last = note;
    else if (note.kind === "shutdown" && !shuttingDown) {
      shuttingDown = true;
      setTimeout(() => child.kill("SIGKILL"), SHUTDOWN_GRACE_MS).unref();
    }
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  watchParentProcess();
  child.on("exit", (code, signal) => {
    if (shuttingDown || (code === 0 && signal === null)) process.exit(code ?? 0);
    const cause = causeOfDeath(code, signal, stderrTail);
    process.stderr.write(`tsml kernel: ${cause}\n`);
    void reportDeath(info, cause, last).finally(() => process.exit(1));
  });
}

/** A sentence naming why the kernel process ended. */
function causeOfDeath(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const heap = /JavaScript heap out of memory|Reached heap limit|Ineffective mark-compacts near heap limit/.test(stderr);
  const limit = /--max-old-space-size=(\d+)/.exec(process.execArgv.join(" "))?.[1];
  if (heap) {
    return (
      `The kernel died: it ran out of memory (the JavaScript heap ran full${limit ? `, its limit is ${limit} MiB` : ""}), and every variable is lost. ` +
      "Keep fewer large values (dispose tensors, drop big arrays) or raise --max-old-space-size in the kernelspec's argv (`tsml kernel install --help`)."
    );
  }
  if (signal === "SIGKILL") return "The kernel died: it was killed by SIGKILL (kill -9, or the system's out-of-memory killer when memory ran out).";
  if (signal === "SIGABRT") return "The kernel died: it aborted (SIGABRT: process.abort() in native code, or a fatal error in V8 or an addon).";
  if (signal) return `The kernel died: it was killed by ${signal}.`;
  return `The kernel died: its process exited with code ${code}.`;
}

/** Binds the freed iopub and shell ports and reports `cause` under the request that was running. */
async function reportDeath(info: ConnectionInfo, cause: string, last: Extract<SupervisorNote, { kind: "executing" }> | undefined): Promise<void> {
  const url = (port: number) => (info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `${info.transport}://${info.ip}:${port}`);
  const signer = new MessageSigner(info.key);
  const iopub = new zmq.Publisher();
  const shell = new zmq.Router();
  iopub.linger = shell.linger = 1000;
  try {
    await Promise.all([iopub.bind(url(info.iopub_port)), shell.bind(url(info.shell_port))]);
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_WAIT_MS));
    const parent = last && ({ header: last.header, identities: last.identities.map((id) => Buffer.from(id, "base64")) } as JupyterMessage);
    const error: ErrorContent = { ename: "KernelDied", evalue: cause, traceback: [errorLine("KernelDied", cause)] };
    const publish = (type: string, content: Record<string, unknown>) => iopub.send(encodeMessage(makeMessage(type, content, parent), signer));
    await publish("error", error);
    if (parent && parent.header.msg_type === "execute_request") {
      await shell.send(encodeMessage(makeMessage("execute_reply", { status: "error", execution_count: null, ...error }, parent, parent.identities), signer));
    }
    await publish("status", { execution_state: "idle" });
    await new Promise((resolve) => setTimeout(resolve, 300));
  } catch (err) {
    process.stderr.write(`tsml kernel: could not report the cause of death to the notebook: ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    iopub.close();
    shell.close();
  }
}
