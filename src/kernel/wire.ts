/** The Jupyter wire protocol (v5.3): message framing and HMAC-SHA256 signing. */
import { createHmac, randomUUID, timingSafeEqual } from "crypto";

/** The protocol version this kernel speaks. */
export const PROTOCOL_VERSION = "5.3";

const DELIMITER = "<IDS|MSG>";

/** A Jupyter message header. */
export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

/** A decoded Jupyter message plus the routing identities it came with. */
export interface JupyterMessage {
  identities: Buffer[];
  header: MessageHeader;
  parent_header: MessageHeader | Record<string, never>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers: Buffer[];
}

/** What the connection file Jupyter writes for a kernel contains. */
export interface ConnectionInfo {
  transport: string;
  ip: string;
  key: string;
  signature_scheme: string;
  shell_port: number;
  control_port: number;
  stdin_port: number;
  iopub_port: number;
  hb_port: number;
}

/** Signs and verifies message frames with the connection's key (an empty key disables signing). */
export class MessageSigner {
  constructor(private readonly key: string) {}

  /** The hex HMAC of the four JSON frames. */
  sign(frames: Buffer[]): string {
    if (!this.key) return "";
    const hmac = createHmac("sha256", this.key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest("hex");
  }

  /** True when `signature` matches the frames. */
  verify(signature: string, frames: Buffer[]): boolean {
    if (!this.key) return true;
    const expected = Buffer.from(this.sign(frames));
    const actual = Buffer.from(signature);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}

/** Decodes raw ZeroMQ frames into a message; throws on a missing delimiter or a bad signature. */
export function decodeMessage(frames: Buffer[], signer: MessageSigner): JupyterMessage {
  const delimiterAt = frames.findIndex((frame) => frame.toString() === DELIMITER);
  if (delimiterAt < 0) throw new Error("Jupyter message without the <IDS|MSG> delimiter");
  const signature = frames[delimiterAt + 1].toString();
  const body = frames.slice(delimiterAt + 2, delimiterAt + 6);
  if (body.length < 4) throw new Error("Jupyter message with fewer than 4 JSON frames");
  if (!signer.verify(signature, body)) throw new Error("Jupyter message with an invalid HMAC signature");
  const [header, parent, metadata, content] = body.map((frame): unknown => JSON.parse(frame.toString() || "{}")) as [
    JupyterMessage["header"],
    JupyterMessage["parent_header"],
    JupyterMessage["metadata"],
    JupyterMessage["content"],
  ];
  return {
    identities: frames.slice(0, delimiterAt),
    header,
    parent_header: parent,
    metadata,
    content,
    buffers: frames.slice(delimiterAt + 6),
  };
}

/** Encodes a message into signed ZeroMQ frames. */
export function encodeMessage(message: JupyterMessage, signer: MessageSigner): Buffer[] {
  const body = [message.header, message.parent_header, message.metadata, message.content].map((part) => Buffer.from(JSON.stringify(part)));
  return [...message.identities, Buffer.from(DELIMITER), Buffer.from(signer.sign(body)), ...body, ...message.buffers];
}

/** Builds a new message of `msgType` in reply to (or caused by) `parent`. */
export function makeMessage(msgType: string, content: Record<string, unknown>, parent: JupyterMessage | undefined, identities: Buffer[] = []): JupyterMessage {
  return {
    identities,
    header: {
      msg_id: randomUUID(),
      session: parent?.header.session ?? KERNEL_SESSION,
      username: parent?.header.username ?? "kernel",
      date: new Date().toISOString(),
      msg_type: msgType,
      version: PROTOCOL_VERSION,
    },
    parent_header: parent?.header ?? {},
    metadata: {},
    content,
    buffers: [],
  };
}

const KERNEL_SESSION = randomUUID();
