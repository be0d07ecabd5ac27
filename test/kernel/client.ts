/**
 * A small Jupyter client for tests and benchmarks: launches a kernel from a kernelspec-style argv, talks to it over
 * ZeroMQ, and collects each request's iopub output.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import * as zmq from "zeromq";
import { ConnectionInfo, JupyterMessage, MessageSigner, decodeMessage, encodeMessage, makeMessage } from "../../src/kernel/wire";

/** How to start a kernel: its argv with "{connection_file}" in it, as in kernel.json. */
export interface KernelLaunchOptions {
  argv: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Milliseconds to wait for the first kernel_info_reply (default 60 s). */
  startTimeoutMs?: number;
}

/** The reply to an execute_request and the iopub messages it caused (between busy and idle). */
export interface ExecuteResult {
  reply: JupyterMessage;
  outputs: JupyterMessage[];
}

/** A connected client of one kernel process it started. */
export class KernelClient {
  private readonly iopubMessages: JupyterMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly shellReplies = new Map<string, (m: JupyterMessage) => void>();
  private stderrText = "";
  private inputHandler: ((prompt: string, password: boolean) => string) | undefined;

  private constructor(
    readonly process: ChildProcess,
    private readonly signer: MessageSigner,
    private readonly shell: zmq.Dealer,
    private readonly control: zmq.Dealer,
    private readonly iopub: zmq.Subscriber,
    private readonly stdin: zmq.Dealer,
    private readonly connectionFile: string,
  ) {
    process.stderr?.on("data", (chunk) => (this.stderrText += String(chunk)));
    void this.receiveReplies(shell);
    void this.receiveReplies(control);
    void this.receiveIopub();
    void this.answerInputRequests();
  }

  /** Starts the kernel and resolves once it answers kernel_info and its iopub messages arrive. */
  static async start(options: KernelLaunchOptions): Promise<KernelClient> {
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
    const connectionFile = path.join(os.tmpdir(), `tsml-kernel-${process.pid}-${ports[0]}.json`);
    fs.writeFileSync(connectionFile, JSON.stringify(info));
    const [command, ...args] = options.argv.map((a) => a.replace("{connection_file}", connectionFile));
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const url = (port: number) => `tcp://127.0.0.1:${port}`;
    // As jupyter_client does: shell and stdin share one identity, so the kernel's input_request reaches this client.
    const identity = randomBytes(8).toString("hex");
    const shell = new zmq.Dealer({ routingId: identity });
    const stdin = new zmq.Dealer({ routingId: identity });
    const control = new zmq.Dealer();
    const iopub = new zmq.Subscriber();
    shell.connect(url(info.shell_port));
    control.connect(url(info.control_port));
    stdin.connect(url(info.stdin_port));
    iopub.connect(url(info.iopub_port));
    iopub.subscribe();
    const client = new KernelClient(child, new MessageSigner(info.key), shell, control, iopub, stdin, connectionFile);
    try {
      await client.waitUntilReady(options.startTimeoutMs ?? 60_000);
    } catch (err) {
      client.kill();
      throw err;
    }
    return client;
  }

  /** Sends a shell (or control) request and resolves with its reply. */
  async request(msgType: string, content: Record<string, unknown>, channel: "shell" | "control" = "shell", timeoutMs = 60_000): Promise<JupyterMessage> {
    const message = makeMessage(msgType, content, undefined);
    const reply = new Promise<JupyterMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${msgType} reply within ${timeoutMs} ms; kernel stderr:\n${this.stderrText}`)), timeoutMs);
      this.shellReplies.set(message.header.msg_id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    await (channel === "shell" ? this.shell : this.control).send(encodeMessage(message, this.signer));
    return reply;
  }

  /** Sends a shell message that has no reply (comm_open, comm_msg, comm_close) with its buffers; returns its msg_id. */
  async sendShell(msgType: string, content: Record<string, unknown>, buffers: Buffer[] = []): Promise<string> {
    const message = makeMessage(msgType, content, undefined);
    message.buffers = buffers;
    await this.shell.send(encodeMessage(message, this.signer));
    return message.header.msg_id;
  }

  /**
   * Starts running `code` without waiting for it; resolves with the request's msg_id once it is sent, and
   * `done` with what `execute` resolves with.
   */
  async startExecute(code: string, timeoutMs = 60_000): Promise<{ msgId: string; done: Promise<ExecuteResult> }> {
    const content = { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true };
    const message = makeMessage("execute_request", content, undefined);
    const id = message.header.msg_id;
    const replied = new Promise<JupyterMessage>((resolve) => this.shellReplies.set(id, resolve));
    await this.shell.send(encodeMessage(message, this.signer));
    const done = (async () => {
      const reply = await withTimeout(replied, timeoutMs, `no execute_reply for ${JSON.stringify(code)}`);
      await this.waitFor(() => this.iopubMessages.some((m) => isStatusOf(m, id, "idle")), timeoutMs);
      return { reply, outputs: this.iopubMessages.filter((m) => m.parent_header.msg_id === id && m.header.msg_type !== "status") };
    })();
    return { msgId: id, done };
  }

  /**
   * Runs `code` and resolves with the reply and the iopub output once the kernel is idle again. With `stopOnError`
   * (the default, as in Jupyter's clients) a failure aborts the execute requests queued behind it.
   */
  async execute(code: string, timeoutMs = 60_000, options: { stopOnError?: boolean; allowStdin?: boolean } = {}): Promise<ExecuteResult> {
    const content = {
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: options.allowStdin ?? false,
      stop_on_error: options.stopOnError ?? true,
    };
    const message = makeMessage("execute_request", content, undefined);
    const id = message.header.msg_id;
    const replied = new Promise<JupyterMessage>((resolve) => this.shellReplies.set(id, resolve));
    await this.shell.send(encodeMessage(message, this.signer));
    const reply = await withTimeout(replied, timeoutMs, `no execute_reply for ${JSON.stringify(code)}`);
    await this.waitFor(() => this.iopubMessages.some((m) => isStatusOf(m, id, "idle")), timeoutMs);
    const outputs = this.iopubMessages.filter((m) => m.parent_header.msg_id === id && m.header.msg_type !== "status");
    return { reply, outputs };
  }

  /** Answers the kernel's input_requests (sent for `execute(..., { allowStdin: true })`) with `handler`'s text. */
  onInputRequest(handler: (prompt: string, password: boolean) => string): void {
    this.inputHandler = handler;
  }

  /** Resolves with the first iopub message (received so far or later) that satisfies `predicate`. */
  async waitForIopub(predicate: (m: JupyterMessage) => boolean, timeoutMs = 60_000): Promise<JupyterMessage> {
    await this.waitFor(() => this.iopubMessages.some(predicate), timeoutMs);
    return this.iopubMessages.find(predicate)!;
  }

  /** The iopub messages received so far that satisfy `predicate`. */
  iopubReceived(predicate: (m: JupyterMessage) => boolean): JupyterMessage[] {
    return this.iopubMessages.filter(predicate);
  }

  /** Sends SIGINT to the kernel process (interrupt_mode "signal"). */
  interrupt(): void {
    this.process.kill("SIGINT");
  }

  /** The kernel's stderr so far (its own log lines). */
  get stderr(): string {
    return this.stderrText;
  }

  /** Asks the kernel to shut down, waits for it to exit (killing it after `timeoutMs`), and closes the sockets. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    const exited = new Promise<void>((resolve) => (this.process.exitCode !== null ? resolve() : this.process.once("exit", () => resolve())));
    try {
      await this.request("shutdown_request", { restart: false }, "control", timeoutMs);
      await withTimeout(exited, timeoutMs, "kernel did not exit");
    } finally {
      this.kill();
    }
  }

  /** Kills the kernel process (SIGKILL) if it still runs, closes the sockets and removes the connection file. */
  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill("SIGKILL");
    for (const socket of [this.shell, this.control, this.iopub, this.stdin]) if (!socket.closed) socket.close();
    fs.rmSync(this.connectionFile, { force: true });
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.process.exitCode !== null) throw new Error(`kernel exited with code ${this.process.exitCode}:\n${this.stderrText}`);
      const reply = await this.request("kernel_info_request", {}, "shell", Math.max(1, deadline - Date.now()));
      const id = reply.parent_header.msg_id;
      try {
        await this.waitFor(() => this.iopubMessages.some((m) => isStatusOf(m, id, "idle")), 500);
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`kernel iopub silent for ${timeoutMs} ms`);
      }
    }
  }

  private waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for the kernel`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private async receiveReplies(socket: zmq.Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        const message = decodeMessage(frames, this.signer);
        // One reply per request: hand it over and forget the waiter, so long sessions don't accumulate them.
        const id = message.parent_header.msg_id ?? "";
        this.shellReplies.get(id)?.(message);
        this.shellReplies.delete(id);
      }
    } catch {
      // socket closed
    }
  }

  private async answerInputRequests(): Promise<void> {
    try {
      for await (const frames of this.stdin) {
        const request = decodeMessage(frames, this.signer);
        if (request.header.msg_type !== "input_request" || !this.inputHandler) continue;
        const value = this.inputHandler(String(request.content.prompt), request.content.password === true);
        const reply = makeMessage("input_reply", { value }, request);
        await this.stdin.send(encodeMessage(reply, this.signer));
      }
    } catch {
      // socket closed
    }
  }

  private async receiveIopub(): Promise<void> {
    try {
      for await (const frames of this.iopub) {
        this.iopubMessages.push(decodeMessage(frames, this.signer));
        for (const waiter of [...this.waiters]) waiter();
      }
    } catch {
      // socket closed
    }
  }
}

function isStatusOf(message: JupyterMessage, parentId: string, state: string): boolean {
  return message.header.msg_type === "status" && message.parent_header.msg_id === parentId && message.content.execution_state === state;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `count` distinct free TCP ports on 127.0.0.1. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve) => {
          const server = net.createServer();
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
