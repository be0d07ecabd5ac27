/**
 * The comm contract between tsml's library code (widgets) and the "TypeScript ML" kernel: Jupyter comms, the
 * two-way channels that `comm_open`, `comm_msg` and `comm_close` messages carry.
 * https://jupyter-client.readthedocs.io/en/stable/messaging.html#custom-messages
 *
 * The kernel installs its comm manager on `globalThis.__tsmlComms`; outside a kernel there is none and widgets keep
 * their state locally.
 */

/** The JSON `data` of a comm message. */
export type CommData = Record<string, unknown>;

/** What the other end of a comm sent: its data, binary buffers and the message's id (for Output widgets). */
export interface CommMessage {
  data: CommData;
  buffers: Uint8Array[];
  /** The msg_id of the comm_msg (outputs of its handler carry it as their parent). */
  msgId: string;
}

/** Callbacks for what arrives on one comm. */
export interface CommHandlers {
  /** A comm_msg from the front-end. */
  onMessage?(message: CommMessage): void;
  /** The front-end closed the comm. */
  onClose?(data: CommData): void;
}

/** One open comm, as its owner sees it. */
export interface CommChannel {
  readonly commId: string;
  readonly targetName: string;
  /** True once either end closed it. */
  readonly closed: boolean;
  /** Sends a comm_msg to the front-end. */
  send(data: CommData, buffers?: Uint8Array[]): void;
  /** Sends comm_close and forgets the comm. */
  close(data?: CommData): void;
}

/** What the running kernel installs on `globalThis.__tsmlComms`. */
export interface KernelCommHook {
  /** Opens a comm from the kernel: publishes comm_open with `data`, `metadata` and `buffers`. */
  open(targetName: string, options: { commId?: string; data?: CommData; metadata?: CommData; buffers?: Uint8Array[] }, handlers: CommHandlers): CommChannel;
  /** Accepts comms the front-end opens to `targetName`: `accept` returns the new comm's handlers. */
  registerTarget(targetName: string, accept: (channel: CommChannel, message: CommMessage) => CommHandlers): void;
  /** The msg_id of the request whose cell (or comm handler) is running now. */
  currentMessageId(): string | undefined;
}

/** The kernel's comm manager, when this code runs inside the "TypeScript ML" kernel. */
export function kernelComms(): KernelCommHook | undefined {
  return (globalThis as { __tsmlComms?: KernelCommHook }).__tsmlComms;
}
