/**
 * The kernel's comm manager: Jupyter comms (`comm_open`, `comm_msg`, `comm_close`, `comm_info_request`) in both
 * directions, as ipykernel's CommManager keeps them. Library code (widgets) opens comms and registers targets
 * through the contract in src/display/comm.ts; the session hands it the comm messages front-ends send, at once,
 * even while a cell is running (see KernelSession.onShell), so a cell that awaits sees widget changes.
 */
import type { CommChannel, CommData, CommHandlers, CommMessage, KernelCommHook } from "../display";
import type { CommInfoReply, CommOpenContent, IOPubContents, Received } from "./messages";
import type { JupyterMessage } from "./wire";
import { randomUUID } from "crypto";

/** What the comm manager needs from the session: publishing on iopub, and running handlers for a message. */
export interface CommHost {
  /** Publishes a comm message on iopub (parent: the running request). */
  publishComm<T extends "comm_open" | "comm_msg" | "comm_close">(msgType: T, content: IOPubContents[T], metadata: CommData, buffers: Uint8Array[]): void;
  /** Runs `body` on behalf of `message`: what it outputs has `message` as parent, what it throws is shown there. */
  handleFor(message: JupyterMessage, body: () => void): void;
  /** The msg_id of the request whose cell (or comm handler) is running now. */
  currentMessageId(): string | undefined;
}

/** One open comm. */
class OpenComm implements CommChannel {
  closed = false;

  constructor(
    readonly commId: string,
    readonly targetName: string,
    public handlers: CommHandlers,
    private readonly manager: CommManager,
  ) {}

  send(data: CommData, buffers: Uint8Array[] = []): void {
    if (this.closed) throw new Error(`comm ${this.commId} (${this.targetName}) is closed: nothing can be sent on it`);
    this.manager.host.publishComm("comm_msg", { comm_id: this.commId, data }, {}, buffers);
  }

  close(data: CommData = {}): void {
    if (this.closed) return;
    this.closed = true;
    this.manager.forget(this.commId);
    this.manager.host.publishComm("comm_close", { comm_id: this.commId, data }, {}, []);
  }
}

/** The open comms and comm targets of one kernel process. */
export class CommManager implements KernelCommHook {
  private readonly comms = new Map<string, OpenComm>();
  private readonly targets = new Map<string, (channel: CommChannel, message: CommMessage) => CommHandlers>();

  constructor(
    readonly host: CommHost,
    private readonly log: (message: string) => void,
  ) {}

  /** Makes this manager the one library code finds (`kernelComms()` in src/display). */
  install(): void {
    Object.assign(globalThis, { __tsmlComms: this });
  }

  open(targetName: string, options: { commId?: string; data?: CommData; metadata?: CommData; buffers?: Uint8Array[] }, handlers: CommHandlers): CommChannel {
    const commId = options.commId ?? randomUUID().replace(/-/g, "");
    if (this.comms.has(commId)) throw new Error(`a comm with id ${commId} is already open`);
    const comm = new OpenComm(commId, targetName, handlers, this);
    this.comms.set(commId, comm);
    this.host.publishComm("comm_open", { comm_id: commId, target_name: targetName, data: options.data ?? {} }, options.metadata ?? {}, options.buffers ?? []);
    return comm;
  }

  registerTarget(targetName: string, accept: (channel: CommChannel, message: CommMessage) => CommHandlers): void {
    this.targets.set(targetName, accept);
  }

  currentMessageId(): string | undefined {
    return this.host.currentMessageId();
  }

  /** The open comms for comm_info_reply, only those of `targetName` when it is given. */
  info(targetName?: string): CommInfoReply["comms"] {
    const comms: CommInfoReply["comms"] = {};
    for (const comm of this.comms.values()) {
      if (targetName === undefined || comm.targetName === targetName) comms[comm.commId] = { target_name: comm.targetName };
    }
    return comms;
  }

  /** Handles a comm_open, comm_msg or comm_close that a front-end sent on the shell channel. */
  receive(message: JupyterMessage): void {
    const content = message.content as Received<CommOpenContent>;
    const commId = String(content.comm_id ?? "");
    const data = isObject(content.data) ? content.data : {};
    const received: CommMessage = {
      data,
      buffers: message.buffers.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
      msgId: message.header.msg_id,
    };
    switch (message.header.msg_type) {
      case "comm_open": {
        const targetName = String(content.target_name ?? "");
        const accept = this.targets.get(targetName);
        if (!accept || !commId || this.comms.has(commId)) {
          // As ipykernel does: a comm to an unknown target is closed at once, so the front-end stops waiting on it.
          this.log(`comm_open to ${accept ? `an already open comm ${commId}` : `the unknown target ${JSON.stringify(targetName)}`}: closed`);
          this.host.handleFor(message, () => this.host.publishComm("comm_close", { comm_id: commId, data: {} }, {}, []));
          return;
        }
        const comm = new OpenComm(commId, targetName, {}, this);
        this.comms.set(commId, comm);
        this.host.handleFor(message, () => (comm.handlers = accept(comm, received)));
        return;
      }
      case "comm_msg": {
        const comm = this.comms.get(commId);
        if (!comm) {
          this.log(`comm_msg for the unknown comm ${JSON.stringify(commId)}: ignored`);
          return;
        }
        this.host.handleFor(message, () => comm.handlers.onMessage?.(received));
        return;
      }
      case "comm_close": {
        const comm = this.comms.get(commId);
        if (!comm) return;
        comm.closed = true;
        this.forget(commId);
        this.host.handleFor(message, () => comm.handlers.onClose?.(data));
        return;
      }
    }
  }

  /** Drops a closed comm. */
  forget(commId: string): void {
    this.comms.delete(commId);
  }
}

/** The comm message types a front-end sends on the shell channel. */
export const COMM_MESSAGE_TYPES: ReadonlySet<string> = new Set(["comm_open", "comm_msg", "comm_close"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
