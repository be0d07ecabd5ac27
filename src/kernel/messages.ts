/**
 * The contents of the Jupyter messages this kernel reads and writes (messaging protocol 5.3), one type per
 * msg_type, as tslab's jupyter.ts declares them; the maps at the end tie each msg_type to its content.
 * https://jupyter-client.readthedocs.io/en/stable/messaging.html
 *
 * Content types are object type aliases (not interfaces) so they stay assignable to the wire's plain JSON objects.
 */
import type { ErrorContent } from "./errors";

/** A request's content as a peer actually sent it: every field may be missing or of another type. */
export type Received<T> = { [K in keyof T]?: unknown };

/** execute_request: run a cell. */
export type ExecuteRequest = {
  /** Source code to be executed, one or more lines. */
  code: string;
  /** Execute as quietly as possible: no execute_input, no execute_result, no history (default false). */
  silent: boolean;
  /** Store the cell in the history and count it (default true; forced false by `silent`). */
  store_history: boolean;
  /** Expressions to evaluate after the cell (this kernel evaluates none and replies with {}). */
  user_expressions: Record<string, string>;
  /** Whether the frontend can answer input_request (`await input()` in a cell fails clearly when false). */
  allow_stdin: boolean;
  /** Abort the queued execute_requests when this cell fails (default true). */
  stop_on_error: boolean;
};

/** complete_request: completions at the cursor. */
export type CompleteRequest = {
  /** The code context, up to a whole cell. */
  code: string;
  /** The cursor position in `code`, in unicode code points. */
  cursor_pos: number;
};

/** inspect_request: documentation for the name at the cursor. */
export type InspectRequest = {
  /** The code context, up to a whole cell. */
  code: string;
  /** The cursor position in `code`, in unicode code points. */
  cursor_pos: number;
  /** 0 like `x?`, 1 like `x??` (this kernel answers both the same). */
  detail_level: 0 | 1;
};

/** is_complete_request: whether the console should run the code or wait for more lines. */
export type IsCompleteRequest = {
  /** The code entered so far. */
  code: string;
};

/** history_request: earlier cells of this session. */
export type HistoryRequest = {
  /** Include each cell's text output. */
  output: boolean;
  /** Ask for raw input (this kernel stores only raw input). */
  raw: boolean;
  /** "range" (session, start, stop), "tail" (n) or "search" (pattern, n, unique). */
  hist_access_type: "range" | "tail" | "search";
  session: number;
  start: number;
  stop: number;
  n: number;
  /** A glob: `*` any text, `?` one character. */
  pattern: string;
  /** Drop repeated inputs from a search. */
  unique: boolean;
};

/** shutdown_request: stop (or restart) the kernel. */
export type ShutdownRequest = {
  /** True when the shutdown precedes a restart. */
  restart: boolean;
};

/** kernel_info_reply: who this kernel is and which language it runs. */
export type KernelInfoReply = {
  status: "ok";
  /** Version of the messaging protocol. */
  protocol_version: string;
  /** The kernel implementation's name. */
  implementation: string;
  implementation_version: string;
  language_info: {
    name: string;
    version: string;
    mimetype: string;
    /** Extension including the dot. */
    file_extension: string;
    pygments_lexer?: string;
    codemirror_mode?: string | Record<string, unknown>;
  };
  /** Shown by consoles at startup. */
  banner: string;
};

/** execute_reply: how the cell ended. */
export type ExecuteReply =
  | { status: "ok"; execution_count: number; payload: never[]; user_expressions: Record<string, never> }
  | ({ status: "error"; execution_count: number } & ErrorContent)
  | { status: "aborted" };

/** The reply to any request the kernel failed to handle (`<type>_reply` for `<type>_request`). */
export type ErrorReply = { status: "error" } & ErrorContent;

/** complete_reply: the matches and the range of code they replace. */
export type CompleteReply = {
  status: "ok";
  matches: string[];
  /** Start of the replaced range, in code points. */
  cursor_start: number;
  /** End of the replaced range, in code points. */
  cursor_end: number;
  /** Inside an options object, each option's type, in the form IPython and JupyterLab use. */
  metadata: { _jupyter_types_experimental?: { start: number; end: number; text: string; type: string; signature: string }[] };
};

/** inspect_reply: documentation as a mime bundle (empty when nothing was found). */
export type InspectReply = {
  status: "ok";
  found: boolean;
  data: { "text/plain"?: string };
  metadata: Record<string, never>;
};

/** is_complete_reply: "incomplete" carries the indent of the next line. */
export type IsCompleteReply = { status: "incomplete"; indent: string } | { status: "complete" | "invalid" | "unknown" };

/** A history_reply row: [session, line, input] or [session, line, [input, output]]. */
export type HistoryRow = [number, number, string | [string, string | null]];

/** history_reply: the requested rows. */
export type HistoryReply = { status: "ok"; history: HistoryRow[] };

/** comm_info_request: the open comms, all or those of one target. */
export type CommInfoRequest = {
  /** Only comms opened to this target (all when missing). */
  target_name: string;
};

/** comm_info_reply: the open comms, by comm_id. */
export type CommInfoReply = { status: "ok"; comms: Record<string, { target_name: string }> };

/** comm_open (either direction): a new comm to `target_name`. */
export type CommOpenContent = { comm_id: string; target_name: string; data: Record<string, unknown>; target_module?: string | null };

/** comm_msg (either direction): data on an open comm. */
export type CommMsgContent = { comm_id: string; data: Record<string, unknown> };

/** comm_close (either direction): the comm ends. */
export type CommCloseContent = { comm_id: string; data: Record<string, unknown> };

/** interrupt_reply: the interrupt was delivered. */
export type InterruptReply = { status: "ok" };

/** shutdown_reply: echoes the request's `restart`. */
export type ShutdownReply = { status: "ok"; restart: boolean };

/** status: the kernel's execution state around each request. */
export type StatusContent = { execution_state: "starting" | "busy" | "idle" };

/** stream: text a cell wrote to stdout or stderr. */
export type StreamContent = { name: "stdout" | "stderr"; text: string };

/** display_data / update_display_data: a mime bundle, with a display_id when it can be updated. */
export type DisplayDataContent = {
  /** Mime type -> JSON-safe data (binary data base64-encoded). */
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** Not persisted in the notebook; `display_id` names an updatable display. */
  transient: { display_id?: string };
};

/** clear_output: clear the cell's output now, or (wait) when the next output arrives. */
export type ClearOutputContent = { wait: boolean };

/** execute_input: the code being run, re-broadcast to every frontend. */
export type ExecuteInputContent = { code: string; execution_count: number };

/** execute_result: the value of a cell's last expression. */
export type ExecuteResultContent = { execution_count: number; data: Record<string, unknown>; metadata: Record<string, unknown> };

/** input_request (stdin channel): ask the user for a line of text. */
export type InputRequestContent = { prompt: string; password: boolean };

/** The content of each reply this kernel sends, by msg_type. */
export type ReplyContents = {
  kernel_info_reply: KernelInfoReply;
  execute_reply: ExecuteReply;
  complete_reply: CompleteReply;
  inspect_reply: InspectReply;
  is_complete_reply: IsCompleteReply;
  history_reply: HistoryReply;
  comm_info_reply: CommInfoReply;
  interrupt_reply: InterruptReply;
  shutdown_reply: ShutdownReply;
};

/** The content of each iopub message this kernel publishes, by msg_type. */
export type IOPubContents = {
  status: StatusContent;
  stream: StreamContent;
  display_data: DisplayDataContent;
  update_display_data: DisplayDataContent;
  clear_output: ClearOutputContent;
  execute_input: ExecuteInputContent;
  execute_result: ExecuteResultContent;
  error: ErrorContent;
  comm_open: CommOpenContent;
  comm_msg: CommMsgContent;
  comm_close: CommCloseContent;
};
