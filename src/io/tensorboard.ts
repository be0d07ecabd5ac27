/**
 * TensorBoard event files: `Event` protocol buffers (TensorBoard's published event.proto/summary.proto,
 * the subset needed for scalars, below) encoded with protobufjs and framed as TFRecords, so that
 * `tensorboard --logdir runs/` shows tsml's runs. Every write is flushed to disk before it returns.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as protobuf from "protobufjs";
import { createFolder } from "./folders";
import { encodeTFRecord, readTFRecords } from "./tfrecord";

/**
 * The messages tsml writes, with TensorBoard's field names and numbers (tensorboard/compat/proto/event.proto
 * and summary.proto). Fields tsml never writes are left out; decoders skip unknown fields either way.
 */
const TENSORBOARD_PROTO = `
syntax = "proto3";
package tensorboard;

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  int32 data_class = 4;
}

message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
    }
  }
  repeated Value value = 1;
}

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
  }
}
`;

let eventType: protobuf.Type | undefined;

/** The `tensorboard.Event` message type (parsed once). */
function tensorBoardEventType(): protobuf.Type {
  eventType ??= protobuf.parse(TENSORBOARD_PROTO, { keepCase: true }).root.lookupType("tensorboard.Event");
  return eventType;
}

/** One decoded event: its time, step and either the file version or scalar values by tag. */
export interface TensorBoardEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: { tag: string; value: number }[];
}

/** The version string of the first event of every file (TensorFlow's current event-file format). */
export const TENSORBOARD_FILE_VERSION = "brain.Event:2";

/** Serialises an Event (`fileVersion` or `scalars`) to protobuf bytes. */
export function encodeTensorBoardEvent(event: TensorBoardEvent): Uint8Array {
  const type = tensorBoardEventType();
  // proto3 leaves zero-valued scalar fields out of the wire format (as TensorBoard's own writer does).
  const message: Record<string, unknown> = {};
  if (event.wallTime !== 0) message.wall_time = event.wallTime;
  if (event.step !== 0) message.step = event.step;
  if (event.fileVersion !== undefined) message.file_version = event.fileVersion;
  else message.summary = { value: event.scalars.map(({ tag, value }) => ({ tag, simple_value: value })) };
  const problem = type.verify(message);
  if (problem) throw new Error(`TensorBoard event: ${problem}`);
  return type.encode(type.fromObject(message)).finish();
}

/** Decodes the protobuf bytes of an Event (scalar values only; other summaries are skipped). */
export function decodeTensorBoardEvent(bytes: Uint8Array): TensorBoardEvent {
  const decoded = tensorBoardEventType().toObject(tensorBoardEventType().decode(bytes), { longs: Number, defaults: true, oneofs: true }) as {
    wall_time: number;
    step: number;
    what?: string;
    file_version?: string;
    summary?: { value: { tag: string; simple_value?: number }[] };
  };
  const scalars = (decoded.summary?.value ?? []).filter((v) => typeof v.simple_value === "number").map((v) => ({ tag: v.tag, value: v.simple_value! }));
  const event: TensorBoardEvent = { wallTime: decoded.wall_time, step: decoded.step, scalars };
  if (decoded.what === "file_version") event.fileVersion = decoded.file_version;
  return event;
}

/** Every event of a TensorBoard event file, CRC-checked (a torn last record is dropped). */
export function readTensorBoardEvents(file: string): TensorBoardEvent[] {
  return readTFRecords(file).records.map((record, i) => {
    try {
      return decodeTensorBoardEvent(record);
    } catch (e) {
      throw new Error(`${file}: record ${i} is not a TensorBoard Event (${(e as Error).message})`);
    }
  });
}

/** Options of `TensorBoardEventWriter`. */
export interface TensorBoardWriterOptions {
  /** Clock in seconds since the epoch (default: `Date.now() / 1000`). */
  now?: () => number;
  /** Appended to the file name (default: none). */
  filenameSuffix?: string;
}

/**
 * Writes one `events.out.tfevents.<seconds>.<host>.<pid>` file in `logDir`: the file-version event first,
 * then one event per `addScalars` call. Each record is written and fsynced before the call returns.
 */
export class TensorBoardEventWriter {
  readonly file: string;
  private fd: number | undefined;
  private readonly now: () => number;

  constructor(logDir: string, options: TensorBoardWriterOptions = {}) {
    this.now = options.now ?? (() => Date.now() / 1000);
    createFolder(logDir, "TensorBoard log folder");
    const started = this.now();
    const base = `events.out.tfevents.${Math.floor(started)}.${os.hostname()}.${process.pid}${options.filenameSuffix ?? ""}`;
    let name = base;
    for (let k = 1; fs.existsSync(path.join(logDir, name)); k++) name = `${base}.${k}`;
    this.file = path.join(logDir, name);
    this.fd = fs.openSync(this.file, "a");
    this.write({ wallTime: started, step: 0, fileVersion: TENSORBOARD_FILE_VERSION, scalars: [] });
  }

  /** Writes one event holding these scalars at `step`; non-finite values are skipped (TensorBoard cannot plot them). */
  addScalars(step: number, values: Record<string, number | null | undefined>): void {
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`TensorBoardEventWriter: step must be an integer >= 0, got ${step}`);
    const scalars = Object.entries(values)
      .filter((entry): entry is [string, number] => typeof entry[1] === "number" && Number.isFinite(entry[1]))
      .map(([tag, value]) => ({ tag, value }));
    if (scalars.length > 0) this.write({ wallTime: this.now(), step, scalars });
  }

  /** Closes the file (further writes throw). */
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private write(event: TensorBoardEvent): void {
    if (this.fd === undefined) throw new Error(`TensorBoardEventWriter: ${this.file} is closed`);
    fs.writeSync(this.fd, encodeTFRecord(encodeTensorBoardEvent(event)));
    fs.fsyncSync(this.fd);
  }
}
