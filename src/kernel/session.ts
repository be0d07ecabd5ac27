/** The kernel's request handlers: one place that maps each Jupyter request to its replies and iopub messages. */
import { inspect as inspectValue } from "util";
import { isDisplayable, toMimeBundle } from "../display";
import type { MimeBundle } from "../display";
import { ANSI, colour } from "../util";
import { CommHost, CommManager, COMM_MESSAGE_TYPES } from "./comms";
import { describeError, ErrorContent } from "./errors";
import { CellExecutor } from "./execution";
import { KernelHistory } from "./history";
import { InterruptController } from "./interrupt";
import { OutputSink, StreamBuffer, toJupyterData } from "./output";
import type {
  CommInfoRequest,
  CompleteReply,
  CompleteRequest,
  DisplayDataContent,
  ErrorReply,
  ExecuteReply,
  ExecuteRequest,
  InspectReply,
  InputRequestContent,
  InspectRequest,
  IOPubContents,
  IsCompleteReply,
  IsCompleteRequest,
  KernelInfoReply,
  Received,
  ReplyContents,
  ShutdownRequest,
} from "./messages";
import { KernelSockets } from "./sockets";
import type { StdinHost } from "./stdin";
import { noteExecuting, noteShutdown } from "./supervisor";
import { JupyterMessage, PROTOCOL_VERSION, makeMessage } from "./wire";

/** Facts about this kernel that kernel_info_reply reports. */
export interface KernelIdentity {
  version: string;
  typescriptVersion: string;
}

/** Handles shell and control requests for one kernel process. */
export class KernelSession implements OutputSink, StdinHost, CommHost {
  private executionCount = 0;
  private shellQueue: Promise<void> = Promise.resolve();
  /** Shell requests received so far; queued execute_requests up to `abortThrough` are aborted (stop_on_error). */
  private received = 0;
  private abortThrough = 0;
  /** The request that output from cells (and their background tasks) is attributed to. */
  private outputParent: JupyterMessage | undefined;
  private readonly history = new KernelHistory();
  /** What cells write, coalesced into few stream messages. */
  private readonly streams: StreamBuffer<JupyterMessage | undefined>;
  /** The open comms (widgets) and comm targets. */
  readonly comms: CommManager;
  /** True while an execute_request's cell runs. */
  private executing = false;

  constructor(
    private readonly sockets: KernelSockets,
    private readonly executor: CellExecutor<JupyterMessage>,
    private readonly interrupts: InterruptController<JupyterMessage>,
    private readonly identity: KernelIdentity,
    private readonly log: (message: string) => void,
    private readonly exitKernel: (code?: number) => never = process.exit,
  ) {
    this.streams = new StreamBuffer(
      (name, text, parent) => void this.sockets.publish(makeMessage("stream", { name, text }, parent)),
      () => this.sockets.iopubBacklogBytes(),
    );
    this.comms = new CommManager(this, log);
  }

  /**
   * Queues a shell request; shell requests are handled one at a time, in order. Comm messages and comm_info
   * requests are handled at once instead, even while a cell runs: a cell awaiting in a loop (a training) sees the
   * widgets' changes between its steps, and the front-end's widget manager gets the open comms.
   */
  onShell(message: JupyterMessage): void {
    const type = message.header.msg_type;
    if (COMM_MESSAGE_TYPES.has(type)) return this.comms.receive(message);
    if (type === "comm_info_request") return void this.handle(message, (reply) => this.sockets.replyShell(reply));
    const seq = ++this.received;
    this.shellQueue = this.shellQueue.then(() => this.handle(message, (reply) => this.sockets.replyShell(reply), seq));
  }

  /** Handles a control request immediately (interrupts must not wait behind the running cell). */
  onControl(message: JupyterMessage): void {
    void this.handle(message, (reply) => this.sockets.replyControl(reply));
  }

  /**
   * Reports an error nobody caught (an unhandled rejection, a throw in a timer) under the cell that caused it: the
   * cell whose async context it surfaced in, else the cell whose code is on its stack, else the running cell.
   */
  lateError(kind: string, err: unknown): void {
    const stack = typeof (err as { stack?: unknown } | null)?.stack === "string" ? (err as { stack: string }).stack : "";
    const parent = this.interrupts.contextTag() ?? this.executor.sources.tagOf(stack) ?? this.outputParent;
    const error = describeError(err, this.executor.sources);
    this.publish("error", { ...error, traceback: [colour(`${kind}:`, ANSI.red), ...error.traceback] }, parent);
  }

  /** Buffers cell output for a `stream` message (see StreamBuffer). */
  stream(name: "stdout" | "stderr", text: string): void {
    this.streams.write(name, text, this.interrupts.contextTag() ?? this.outputParent);
  }

  /** Publishes a display_data or update_display_data message. */
  displayData(msgType: "display_data" | "update_display_data", content: DisplayDataContent): void {
    this.publish(msgType, content);
  }

  /** Publishes a clear_output message for the running cell. */
  clearOutput(wait: boolean): void {
    this.publish("clear_output", { wait });
  }

  /** The request whose cell (or whose timer or callback) is running now. */
  currentRequest(): JupyterMessage | undefined {
    return this.interrupts.contextTag() ?? this.outputParent;
  }

  /** Sends an input_request to the client that sent `parent`. */
  async sendInputRequest(content: InputRequestContent, parent: JupyterMessage): Promise<void> {
    this.streams.flush();
    await this.sockets.sendStdin(makeMessage("input_request", content, parent, parent.identities));
  }

  /** Publishes a comm message with its binary buffers (CommHost). */
  publishComm<T extends "comm_open" | "comm_msg" | "comm_close">(
    msgType: T,
    content: IOPubContents[T],
    metadata: Record<string, unknown>,
    buffers: Uint8Array[],
  ): void {
    this.publish(msgType, content, undefined, { metadata, buffers });
  }

  /**
   * Runs a comm handler for `message` (CommHost): its output goes to `message`, an error it throws is shown there.
   * The kernel is busy, then idle, around it, as around any request: ipywidgets' front-end sends a model's next
   * update only after the idle status of its previous one. When a cell is running meanwhile, its busy status is
   * announced again right after, so status indicators keep showing the running cell.
   */
  handleFor(message: JupyterMessage, body: () => void): void {
    this.publish("status", { execution_state: "busy" }, message);
    try {
      this.interrupts.runTagged(message, body);
    } catch (err) {
      this.log(`a ${message.header.msg_type} handler failed: ${err instanceof Error ? err.stack : String(err)}`);
      this.publish("error", describeError(err, this.executor.sources), message);
    }
    this.publish("status", { execution_state: "idle" }, message);
    if (this.executing && this.outputParent) this.publish("status", { execution_state: "busy" }, this.outputParent);
  }

  /** The msg_id of the request whose cell (or comm handler) is running now (CommHost). */
  currentMessageId(): string | undefined {
    return this.currentRequest()?.header.msg_id;
  }

  /** Publishes the "starting" status once the sockets are bound. */
  announceStarting(): void {
    const starting: IOPubContents["status"] = { execution_state: "starting" };
    void this.sockets.publish(makeMessage("status", starting, undefined));
  }

  /** Output goes to the cell whose code (or whose timer, callback or promise) produced it. */
  private publish<T extends keyof IOPubContents>(
    msgType: T,
    content: IOPubContents[T],
    parent = this.interrupts.contextTag() ?? this.outputParent,
    extra: { metadata?: Record<string, unknown>; buffers?: Uint8Array[] } = {},
  ): void {
    // Text written before this message is sent before it.
    this.streams.flush();
    const message = makeMessage(msgType, content, parent);
    if (extra.metadata) message.metadata = extra.metadata;
    if (extra.buffers) message.buffers = extra.buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    void this.sockets.publish(message);
  }

  private async handle(request: JupyterMessage, send: (reply: JupyterMessage) => Promise<void>, seq = 0): Promise<void> {
    const type = request.header.msg_type;
    this.publish("status", { execution_state: "busy" }, request);
    const reply = <T extends keyof ReplyContents>(replyType: T, content: ReplyContents[T]) => {
      this.streams.flush();
      return send(makeMessage(replyType, content, request, request.identities));
    };
    try {
      switch (type) {
        case "kernel_info_request":
          await reply("kernel_info_reply", this.kernelInfo());
          break;
        case "execute_request":
          // As ipykernel does: after a cell failed with stop_on_error, the execute_requests queued behind it are
          // aborted (Run All stops at the first error); requests sent later run.
          await reply("execute_reply", seq <= this.abortThrough ? { status: "aborted" } : await this.execute(request, request.content));
          break;
        case "complete_request":
          await reply("complete_reply", this.complete(request.content));
          break;
        case "inspect_request":
          await reply("inspect_reply", this.inspect(request.content));
          break;
        case "is_complete_request":
          await reply("is_complete_reply", this.isComplete(request.content));
          break;
        case "history_request":
          await reply("history_reply", { status: "ok", history: this.history.query(request.content) });
          break;
        case "comm_info_request":
          await reply("comm_info_reply", { status: "ok", comms: this.comms.info(commTarget(request.content)) });
          break;
        case "interrupt_request":
          this.interrupts.interrupt();
          await reply("interrupt_reply", { status: "ok" });
          break;
        case "shutdown_request":
          await reply("shutdown_reply", { status: "ok", restart: (request.content as Received<ShutdownRequest>).restart === true });
          this.publish("status", { execution_state: "idle" }, request);
          noteShutdown();
          this.shutdown();
          return;
        default:
          this.log(`ignored a ${type}`);
      }
    } catch (err) {
      // Whatever threw, the client gets its reply (an error reply), so it never waits for one forever.
      this.log(`failed to handle ${type}: ${err instanceof Error ? err.stack : String(err)}`);
      if (type.endsWith("_request")) {
        const content: ErrorReply = { status: "error", ...describeError(err) };
        await send(makeMessage(type.replace(/_request$/, "_reply"), content, request, request.identities)).catch(() => undefined);
      }
    }
    this.publish("status", { execution_state: "idle" }, request);
  }

  private kernelInfo(): KernelInfoReply {
    return {
      status: "ok",
      protocol_version: PROTOCOL_VERSION,
      implementation: "tsml",
      implementation_version: this.identity.version,
      language_info: {
        name: "typescript",
        version: this.identity.typescriptVersion,
        mimetype: "text/typescript",
        file_extension: ".ts",
        pygments_lexer: "typescript",
        codemirror_mode: { name: "javascript", typescript: true },
      },
      banner: `TypeScript ML (tsml ${this.identity.version}) on Node.js ${process.version}, TypeScript ${this.identity.typescriptVersion}`,
    };
  }

  private async execute(request: JupyterMessage, content: Received<ExecuteRequest>): Promise<ExecuteReply> {
    const code = String(content.code ?? "");
    const silent = content.silent === true;
    const storeHistory = !silent && content.store_history !== false;
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    this.outputParent = request;
    this.executing = true;
    try {
      return await this.runCell(request, content, code, silent, storeHistory, count);
    } finally {
      this.executing = false;
    }
  }

  private async runCell(
    request: JupyterMessage,
    content: Received<ExecuteRequest>,
    code: string,
    silent: boolean,
    storeHistory: boolean,
    count: number,
  ): Promise<ExecuteReply> {
    noteExecuting(request);
    if (!silent) this.publish("execute_input", { code, execution_count: count }, request);
    let error: ErrorContent | undefined;
    let resultText: string | null = null;
    // An interrupt that arrived after the previous cell ended must not reach this one.
    await this.interrupts.settle();
    const outcome = await this.executor.execute(code, { tag: request, label: silent ? "cell" : `In[${count}]` });
    if (!outcome.ok) error = outcome.error;
    else if (outcome.hasValue && !silent) {
      try {
        const bundle = await this.resultBundle(outcome.value);
        if (bundle) {
          this.publish("execute_result", { execution_count: count, data: toJupyterData(bundle), metadata: {} }, request);
          resultText = typeof bundle["text/plain"] === "string" ? bundle["text/plain"] : null;
        }
      } catch (err) {
        error = describeError(err, this.executor.sources);
      }
    }
    if (storeHistory) this.history.record(count, code, resultText);
    if (error) {
      this.publish("error", { ...error }, request);
      if (content.stop_on_error !== false) {
        // Let requests already on their way arrive, then abort everything queued so far.
        await this.interrupts.settle();
        this.abortThrough = this.received;
      }
      return { status: "error", execution_count: count, ...error };
    }
    return { status: "ok", execution_count: count, payload: [], user_expressions: {} };
  }

  /** The bundle for a cell's last value: awaits promises; shows nothing for undefined or a display handle. */
  private async resultBundle(value: unknown): Promise<MimeBundle | undefined> {
    const request = this.outputParent!;
    if (isThenable(value)) value = await this.interrupts.run(request, async () => await value);
    if (value === undefined || isDisplayHandle(value)) return undefined;
    if (typeof value === "string") return { "text/plain": inspectValue(value) };
    if (isDisplayable(value)) return await this.interrupts.run(request, () => toMimeBundle(value));
    return await toMimeBundle(value);
  }

  private complete(content: Received<CompleteRequest>): CompleteReply {
    const code = String(content.code ?? "");
    const cursor = toUtf16Offset(code, Number(content.cursor_pos ?? code.length));
    const completion = this.executor.complete(code, cursor);
    const start = toCodePointOffset(code, completion.start);
    const end = toCodePointOffset(code, completion.end);
    const types = [...completion.types].map(([text, type]) => ({ start, end, text, type: "property", signature: `${text}: ${type}` }));
    return {
      status: "ok",
      matches: completion.matches,
      cursor_start: start,
      cursor_end: end,
      metadata: types.length > 0 ? { _jupyter_types_experimental: types } : {},
    };
  }

  private inspect(content: Received<InspectRequest>): InspectReply {
    const code = String(content.code ?? "");
    const text = this.executor.inspect(code, toUtf16Offset(code, Number(content.cursor_pos ?? code.length)));
    return { status: "ok", found: text !== undefined, data: text === undefined ? {} : { "text/plain": text }, metadata: {} };
  }

  private isComplete(content: Received<IsCompleteRequest>): IsCompleteReply {
    const result = this.executor.isComplete(String(content.code ?? ""));
    return result.status === "incomplete" ? { status: "incomplete", indent: result.indent ?? "" } : { status: result.status };
  }

  private shutdown(): void {
    setTimeout(() => {
      this.executor.close();
      this.sockets.close();
      this.exitKernel(0);
    }, 50);
  }
}

/** The target_name a comm_info_request filters by, if any. */
function commTarget(content: Received<CommInfoRequest>): string | undefined {
  return typeof content.target_name === "string" && content.target_name !== "" ? content.target_name : undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** A DisplayHandle (from `display(...)`) as a cell's last value was already shown; don't show it again. */
function isDisplayHandle(value: unknown): boolean {
  const handle = value as { displayId?: unknown; update?: unknown } | null;
  return typeof handle?.displayId === "string" && typeof handle.update === "function";
}

/** Jupyter counts cursor positions in code points; JavaScript strings index UTF-16 units. */
function toUtf16Offset(text: string, codePoints: number): number {
  let units = 0;
  for (const ch of text) {
    if (codePoints-- <= 0) break;
    units += ch.length;
  }
  return units;
}

function toCodePointOffset(text: string, units: number): number {
  return Array.from(text.slice(0, Math.max(0, units))).length;
}
