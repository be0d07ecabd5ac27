/** The kernel's five ZeroMQ sockets (shell, control, stdin, iopub, heartbeat) bound from a connection file. */
import * as zmq from "zeromq";
import { ConnectionInfo, JupyterMessage, MessageSigner, decodeMessage, encodeMessage } from "./wire";

/** Receives decoded messages from one of the request channels. */
export type MessageListener = (message: JupyterMessage) => void;

/** Sends on a ZeroMQ socket one message at a time (zeromq 6 allows only one pending send per socket). */
class SerialSender {
  private tail: Promise<void> = Promise.resolve();
  /** Bytes handed to `send` and not yet queued by ZeroMQ. */
  pendingBytes = 0;

  constructor(
    private readonly socket: zmq.Writable,
    private readonly onError: (err: unknown) => void,
  ) {}

  send(frames: Buffer[]): Promise<void> {
    const bytes = frames.reduce((n, frame) => n + frame.length, 0);
    this.pendingBytes += bytes;
    this.tail = this.tail
      .then(() => this.socket.send(frames))
      .catch(this.onError)
      .finally(() => (this.pendingBytes -= bytes));
    return this.tail;
  }
}

/** The bound sockets plus signing; `listen` starts the receive loops. */
export class KernelSockets {
  private readonly signer: MessageSigner;
  private readonly shell = new zmq.Router();
  private readonly control = new zmq.Router();
  private readonly stdin = new zmq.Router();
  private readonly iopub = new zmq.Publisher();
  private readonly heartbeat = new zmq.Reply();
  private readonly senders: Map<zmq.Socket, SerialSender>;

  constructor(
    private readonly info: ConnectionInfo,
    private readonly log: (message: string) => void,
  ) {
    if (info.key && info.signature_scheme && info.signature_scheme !== "hmac-sha256") {
      throw new Error(`unsupported signature_scheme ${JSON.stringify(info.signature_scheme)}; expected "hmac-sha256"`);
    }
    this.signer = new MessageSigner(info.key);
    const report = (err: unknown) => this.log(`send failed: ${err instanceof Error ? err.message : String(err)}`);
    this.senders = new Map([this.shell, this.control, this.stdin, this.iopub].map((socket) => [socket as zmq.Socket, new SerialSender(socket, report)]));
    for (const socket of [this.shell, this.control, this.stdin, this.iopub, this.heartbeat]) socket.linger = 200;
    // A subscriber that falls behind makes sends wait (queued here, see iopubBacklogBytes) instead of silently
    // dropping messages past the high-water mark, which lost output, results and the idle status.
    this.iopub.noDrop = true;
  }

  /** Bytes of iopub messages waiting to be queued by ZeroMQ (a front-end that does not keep up). */
  iopubBacklogBytes(): number {
    return this.senders.get(this.iopub)!.pendingBytes;
  }

  /** Binds all five sockets to the ports in the connection file. */
  async bind(): Promise<void> {
    const url = (port: number) => (this.info.transport === "ipc" ? `ipc://${this.info.ip}-${port}` : `${this.info.transport}://${this.info.ip}:${port}`);
    await Promise.all([
      this.shell.bind(url(this.info.shell_port)),
      this.control.bind(url(this.info.control_port)),
      this.stdin.bind(url(this.info.stdin_port)),
      this.iopub.bind(url(this.info.iopub_port)),
      this.heartbeat.bind(url(this.info.hb_port)),
    ]);
  }

  /** Starts receiving: shell, control and stdin messages go to their listeners, heartbeats are echoed. */
  listen(onShell: MessageListener, onControl: MessageListener, onStdin: MessageListener): void {
    void this.receiveLoop(this.shell, onShell);
    void this.receiveLoop(this.control, onControl);
    void this.receiveLoop(this.stdin, onStdin);
    void this.echoHeartbeats();
  }

  /** Sends a reply on the shell channel. */
  replyShell(message: JupyterMessage): Promise<void> {
    return this.sendOn(this.shell, message);
  }

  /** Sends a reply on the control channel. */
  replyControl(message: JupyterMessage): Promise<void> {
    return this.sendOn(this.control, message);
  }

  /** Sends a message (an input_request) on the stdin channel. */
  sendStdin(message: JupyterMessage): Promise<void> {
    return this.sendOn(this.stdin, message);
  }

  /** Publishes a message on iopub. */
  publish(message: JupyterMessage): Promise<void> {
    return this.sendOn(this.iopub, message);
  }

  /** Closes every socket. */
  close(): void {
    for (const socket of [this.shell, this.control, this.stdin, this.iopub, this.heartbeat]) socket.close();
  }

  private sendOn(socket: zmq.Socket, message: JupyterMessage): Promise<void> {
    return this.senders.get(socket)!.send(encodeMessage(message, this.signer));
  }

  private async receiveLoop(socket: zmq.Router, listener: MessageListener): Promise<void> {
    try {
      for await (const frames of socket) {
        let message: JupyterMessage;
        try {
          message = decodeMessage(frames, this.signer);
        } catch (err) {
          this.log(`dropped a message: ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
        listener(message);
      }
    } catch (err) {
      if (!socket.closed) this.log(`receive loop stopped: ${String(err)}`);
    }
  }

  private async echoHeartbeats(): Promise<void> {
    try {
      for await (const frames of this.heartbeat) await this.heartbeat.send(frames);
    } catch (err) {
      if (!this.heartbeat.closed) this.log(`heartbeat stopped: ${String(err)}`);
    }
  }
}
