/**
 * A fresh "TypeScript ML" kernel process for headless execution, spoken to over the Jupyter protocol (ZeroMQ): one
 * cell at a time, with a per-cell timeout (interrupt, then kill), a memory cap (the V8 heap limit, and the resident
 * size watched from outside), and the kernel's death reported as the cell's outcome instead of an exception.
 */
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as zmq from "zeromq";
import { kernelspecJson } from "../kernel";
import { ConnectionInfo, JupyterMessage, MessageSigner, decodeMessage, encodeMessage, makeMessage } from "../kernel";
import type { NotebookOutput } from "./format";

/** How to start the kernel. */
export interface KernelProcessOptions {
  /** The kernel's working directory (where the notebook's relative paths point). */
  cwd: string;
  /** Memory cap in MiB: the JavaScript heap limit and the most resident memory the process may use (default: none). */
  memoryCapMiB?: number;
  /** Extra environment variables for the kernel. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the kernel to answer (default 120 s). */
  startTimeoutMs?: number;
}

/** How one cell ended: ran ("ok" or "error"), ran past its time ("timeout"), or its kernel died ("died"). */
export interface CellOutcome {
  status: "ok" | "error" | "timeout" | "died";
  outputs: NotebookOutput[];
  executionCount: number | null;
  /** The error's name and message, for "error" (from the kernel) and for "timeout"/"died" (written here). */
  error?: { ename: string; evalue: string; traceback: string[] };
  /** False when the kernel is gone after this cell (it died, or was killed because an interrupt did not stop it). */
  kernelAlive: boolean;
}

/** Seconds an interrupted cell gets to stop before its kernel is killed. */
/** The error name the kernel's supervisor (src/kernel/supervisor.ts) reports when the kernel process behind it died. */
const KERNEL_DIED = "KernelDied";
const INTERRUPT_GRACE_MS = 5000;
/** How often the resident size is sampled. */
const MEMORY_SAMPLE_MS = 200;

interface RunningCell {
  msgId: string;
  outputs: NotebookOutput[];
  displays: Map<string, number[]>;
  clearOnNext: boolean;
  reply?: JupyterMessage;
  idle: boolean;
  done(outcome: CellOutcome): void;
  onOutput?: (output: NotebookOutput) => void;
}

/** One kernel process and its sockets. */
export class KernelProcess {
  private readonly pendingReplies = new Map<string, (m: JupyterMessage) => void>();
  private running: RunningCell | undefined;
  private stderrText = "";
  private exitReason: string | undefined;
  private memoryTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly signer: MessageSigner,
    private readonly shell: zmq.Dealer,
    private readonly control: zmq.Dealer,
    private readonly iopub: zmq.Subscriber,
    private readonly connectionFile: string,
    private readonly memoryCapMiB: number | undefined,
  ) {
    child.stderr?.on("data", (chunk) => (this.stderrText = (this.stderrText + String(chunk)).slice(-20_000)));
    child.stdout?.resume();
    child.once("exit", (code, signal) => this.onExit(code, signal));
    void this.receiveReplies(shell);
    void this.receiveReplies(control);
    void this.receiveIopub();
    if (memoryCapMiB !== undefined) this.watchMemory(memoryCapMiB);
  }

  /** Starts a kernel of this installation and resolves once it answers kernel_info. */
  static async start(options: KernelProcessOptions): Promise<KernelProcess> {
    const ports = await freePorts(5);
    const info: ConnectionInfo = {
      transport: "tcp",
      ip: "127.0.0.1",
      key: randomBytes(16).toString("hex"),
      signature_scheme: "hmac-sha256",
      shell_port: ports[0],
      control_port: ports[1],
      stdin_port: ports[2],
      iopub_port: ports[3],
      hb_port: ports[4],
    };
    const connectionFile = path.join(os.tmpdir(), `tsml-run-${process.pid}-${ports[0]}.json`);
    fs.writeFileSync(connectionFile, JSON.stringify(info), { mode: 0o600 });
    let argv = (kernelspecJson().argv as string[]).map((a) => a.replace("{connection_file}", connectionFile));
    if (options.memoryCapMiB !== undefined) {
      argv = argv.map((a) => (a.startsWith("--max-old-space-size=") ? `--max-old-space-size=${Math.floor(options.memoryCapMiB!)}` : a));
    }
    const [command, ...args] = argv;
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    const url = (port: number) => `tcp://127.0.0.1:${port}`;
    const shell = new zmq.Dealer();
    const control = new zmq.Dealer();
    const iopub = new zmq.Subscriber();
    shell.connect(url(info.shell_port));
    control.connect(url(info.control_port));
    iopub.connect(url(info.iopub_port));
    iopub.subscribe();
    const kernel = new KernelProcess(child, new MessageSigner(info.key), shell, control, iopub, connectionFile, options.memoryCapMiB);
    try {
      await kernel.waitUntilReady(options.startTimeoutMs ?? 120_000);
    } catch (err) {
      kernel.kill();
      throw err;
    }
    return kernel;
  }

  /** True while the kernel process runs. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.exitReason === undefined;
  }

  /** The kernel's own log (its stderr), last 20,000 characters. */
  get stderr(): string {
    return this.stderrText;
  }

  /**
   * Runs one cell and resolves with how it ended (never rejects for the cell's own failures). After `timeoutMs` the
   * cell is interrupted; if it has not stopped `INTERRUPT_GRACE_MS` later, the kernel is killed.
   */
  async execute(code: string, options: { timeoutMs?: number; onOutput?: (output: NotebookOutput) => void } = {}): Promise<CellOutcome> {
    if (!this.alive) throw new Error("the kernel is not running");
    if (this.running) throw new Error("a cell is already running in this kernel");
    const message = makeMessage(
      "execute_request",
      { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false },
      undefined,
    );
    const outcome = new Promise<CellOutcome>((resolve) => {
      this.running = {
        msgId: message.header.msg_id,
        outputs: [],
        displays: new Map(),
        clearOnNext: false,
        idle: false,
        onOutput: options.onOutput,
        done: (result) => {
          this.running = undefined;
          resolve(result);
        },
      };
    });
    await this.shell.send(encodeMessage(message, this.signer));
    const timeoutMs = options.timeoutMs;
    if (timeoutMs === undefined || !Number.isFinite(timeoutMs)) return outcome;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.child.kill("SIGINT");
      setTimeout(() => {
        if (this.running?.msgId === message.header.msg_id) {
          this.exitReason = `the cell ran longer than ${formatSeconds(timeoutMs)} and did not stop when interrupted, so its kernel was stopped`;
          this.child.kill("SIGKILL");
        }
      }, INTERRUPT_GRACE_MS).unref();
    }, timeoutMs);
    const result = await outcome;
    clearTimeout(timer);
    if (!timedOut || result.status === "ok") return result;
    const evalue =
      result.status === "died" && result.error
        ? result.error.evalue
        : `the cell ran longer than the time limit of ${formatSeconds(timeoutMs)} (an endless loop?) and was interrupted`;
    const error = { ename: "TimeoutError", evalue, traceback: [`TimeoutError: ${evalue}`] };
    const outputs = result.outputs.map((o) =>
      o.output_type === "error" && (o.ename === "KeyboardInterrupt" || o.ename === "KernelDied") ? { output_type: "error" as const, ...error } : o,
    );
    return { ...result, status: "timeout", outputs, error };
  }

  /** Asks the kernel to shut down and waits (killing it after `timeoutMs`); closes the sockets. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    if (this.alive) {
      const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
      try {
        await this.request("shutdown_request", { restart: false }, "control", timeoutMs);
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
      } catch {
        // killed below
      }
    }
    this.kill();
  }

  /** Kills the kernel (SIGKILL) if it runs, closes the sockets and removes the connection file. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    for (const socket of [this.shell, this.control, this.iopub]) if (!socket.closed) socket.close();
    fs.rmSync(this.connectionFile, { force: true });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    const cell = this.running;
    if (!cell) return;
    const evalue = this.exitReason ?? this.deathReason(code, signal);
    cell.outputs.push({ output_type: "error", ename: "KernelDied", evalue, traceback: [`KernelDied: ${evalue}`] });
    cell.done({
      status: "died",
      outputs: cell.outputs,
      executionCount: null,
      error: { ename: "KernelDied", evalue, traceback: [`KernelDied: ${evalue}`] },
      kernelAlive: false,
    });
  }

  private deathReason(code: number | null, signal: NodeJS.Signals | null): string {
    if (/heap out of memory|Reached heap limit|Allocation failed/i.test(this.stderrText)) {
      return `the kernel ran out of memory${this.memoryCapMiB !== undefined ? ` (the cap is ${this.memoryCapMiB} MiB)` : ""} and was ended`;
    }
    return `the kernel died while the cell ran (${signal ? `signal ${signal}` : `exit code ${code}`}); its variables are lost`;
  }

  private watchMemory(capMiB: number): void {
    this.memoryTimer = setInterval(() => {
      const rssMiB = residentMiB(this.child.pid);
      if (rssMiB === undefined || rssMiB <= capMiB) return;
      this.exitReason = `the kernel used ${Math.round(rssMiB)} MiB of memory, more than the cap of ${capMiB} MiB, and was stopped`;
      this.child.kill("SIGKILL");
    }, MEMORY_SAMPLE_MS);
    this.memoryTimer.unref();
  }

  private async request(msgType: string, content: Record<string, unknown>, channel: "shell" | "control", timeoutMs: number): Promise<JupyterMessage> {
    const message = makeMessage(msgType, content, undefined);
    const reply = new Promise<JupyterMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingReplies.delete(message.header.msg_id);
        reject(new Error(`the kernel sent no ${msgType.replace("_request", "_reply")} within ${formatSeconds(timeoutMs)}`));
      }, timeoutMs);
      this.pendingReplies.set(message.header.msg_id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    await (channel === "shell" ? this.shell : this.control).send(encodeMessage(message, this.signer));
    return reply;
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const exited = new Promise<never>((_, reject) =>
      this.child.once("exit", (code, signal) => reject(new Error(`the kernel exited while starting (${signal ?? `exit code ${code}`}):\n${this.stderrText}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([this.request("kernel_info_request", {}, "shell", timeoutMs), exited]);
    // The iopub subscription may join after the first messages; ask until a status message arrives on iopub.
    const deadline = Date.now() + timeoutMs;
    while (!this.iopubSeen) {
      if (Date.now() > deadline) throw new Error(`the kernel's iopub channel stayed silent for ${formatSeconds(timeoutMs)}`);
      await Promise.race([this.request("kernel_info_request", {}, "shell", timeoutMs), exited]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private iopubSeen = false;

  private async receiveReplies(socket: zmq.Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        const message = decodeMessage(frames, this.signer);
        const id = String(message.parent_header.msg_id ?? "");
        const waiter = this.pendingReplies.get(id);
        if (waiter) {
          this.pendingReplies.delete(id);
          waiter(message);
        } else if (this.running?.msgId === id && message.header.msg_type === "execute_reply") {
          this.running.reply = message;
          this.finishIfDone();
        }
      }
    } catch {
      // socket closed
    }
  }

  private async receiveIopub(): Promise<void> {
    try {
      for await (const frames of this.iopub) {
        this.iopubSeen = true;
        const message = decodeMessage(frames, this.signer);
        const cell = this.running;
        if (!cell || message.parent_header.msg_id !== cell.msgId) continue;
        this.collect(cell, message);
        this.finishIfDone();
      }
    } catch {
      // socket closed
    }
  }

  private collect(cell: RunningCell, message: JupyterMessage): void {
    const content = message.content;
    const type = message.header.msg_type;
    if (type === "status") {
      if (content.execution_state === "idle") cell.idle = true;
      return;
    }
    if (type === "clear_output") {
      if (content.wait) cell.clearOnNext = true;
      else clearCell(cell);
      return;
    }
    if (type === "update_display_data") {
      const id = (content.transient as { display_id?: string } | undefined)?.display_id;
      for (const index of (id && cell.displays.get(id)) || []) {
        cell.outputs[index] = {
          output_type: "display_data",
          data: content.data as Record<string, unknown>,
          metadata: (content.metadata ?? {}) as Record<string, unknown>,
        };
      }
      return;
    }
    const output = toOutput(type, content);
    if (!output) return;
    if (cell.clearOnNext) clearCell(cell);
    const last = cell.outputs[cell.outputs.length - 1];
    if (output.output_type === "stream" && last?.output_type === "stream" && last.name === output.name) last.text += output.text;
    else cell.outputs.push(output);
    if (type === "display_data") {
      const id = (content.transient as { display_id?: string } | undefined)?.display_id;
      if (id) cell.displays.set(id, [...(cell.displays.get(id) ?? []), cell.outputs.length - 1]);
    }
    cell.onOutput?.(output);
  }

  private finishIfDone(): void {
    const cell = this.running;
    if (!cell || !cell.reply || !cell.idle) return;
    const reply = cell.reply.content;
    const executionCount = typeof reply.execution_count === "number" ? reply.execution_count : null;
    for (const output of cell.outputs) if (output.output_type === "execute_result") output.execution_count = executionCount;
    if (reply.status === "ok") {
      cell.done({ status: "ok", outputs: cell.outputs, executionCount, kernelAlive: true });
      return;
    }
    const error = {
      ename: String(reply.ename ?? "Error"),
      evalue: String(reply.evalue ?? ""),
      traceback: Array.isArray(reply.traceback) ? (reply.traceback as unknown[]).map(String) : [],
    };
    if (error.ename === KERNEL_DIED) {
      // The kernel's supervisor reports that the kernel process behind it died (and then exits): no later cell can run.
      this.exitReason ??= error.evalue;
      cell.done({ status: "died", outputs: cell.outputs, executionCount: null, error, kernelAlive: false });
      return;
    }
    cell.done({ status: "error", outputs: cell.outputs, executionCount, error, kernelAlive: true });
  }
}

function clearCell(cell: RunningCell): void {
  cell.outputs.length = 0;
  cell.displays.clear();
  cell.clearOnNext = false;
}

function toOutput(type: string, content: Record<string, unknown>): NotebookOutput | undefined {
  switch (type) {
    case "stream":
      return { output_type: "stream", name: content.name === "stderr" ? "stderr" : "stdout", text: String(content.text ?? "") };
    case "display_data":
      return { output_type: "display_data", data: content.data as Record<string, unknown>, metadata: (content.metadata ?? {}) as Record<string, unknown> };
    case "execute_result":
      return {
        output_type: "execute_result",
        execution_count: null,
        data: content.data as Record<string, unknown>,
        metadata: (content.metadata ?? {}) as Record<string, unknown>,
      };
    case "error":
      return {
        output_type: "error",
        ename: String(content.ename ?? "Error"),
        evalue: String(content.evalue ?? ""),
        traceback: Array.isArray(content.traceback) ? (content.traceback as unknown[]).map(String) : [],
      };
    default:
      return undefined;
  }
}

/** Resident memory of a process in MiB (Linux /proc), undefined where it cannot be read. */
function residentMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** "30 s", "1.5 s". */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/** `count` distinct free TCP ports on 127.0.0.1. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
