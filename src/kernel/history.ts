/** The kernel's in-memory input history, answering history_request (tail, range and search). */
import type { HistoryRequest, HistoryRow, Received } from "./messages";

/** One executed cell. */
interface HistoryEntry {
  line: number;
  input: string;
  output: string | null;
}

/** The history of this kernel process (session number 1; earlier sessions are not persisted). */
export class KernelHistory {
  static readonly SESSION = 1;
  private readonly entries: HistoryEntry[] = [];

  /** Records the input (and text/plain result) of execution number `line`. */
  record(line: number, input: string, output: string | null): void {
    this.entries.push({ line, input, output });
  }

  /** Answers a history_request's content. */
  query(request: Received<HistoryRequest>): HistoryRow[] {
    const withOutput = request.output === true;
    const n = typeof request.n === "number" ? request.n : undefined;
    let rows = this.entries;
    switch (request.hist_access_type) {
      case "tail":
        rows = n === undefined ? rows : rows.slice(-n);
        break;
      case "range": {
        const start = typeof request.start === "number" ? request.start : 0;
        const stop = typeof request.stop === "number" && request.stop > 0 ? request.stop : Infinity;
        const session = typeof request.session === "number" ? request.session : KernelHistory.SESSION;
        rows = session === KernelHistory.SESSION || session === 0 ? rows.filter((e) => e.line >= start && e.line < stop) : [];
        break;
      }
      case "search": {
        const pattern = globToRegExp(typeof request.pattern === "string" ? request.pattern : "*");
        rows = rows.filter((e) => pattern.test(e.input));
        if (request.unique === true) rows = rows.filter((e, i) => rows.findIndex((o) => o.input === e.input) === i);
        rows = n === undefined ? rows : rows.slice(-n);
        break;
      }
      default:
        rows = [];
    }
    return rows.map((e) => [KernelHistory.SESSION, e.line, withOutput ? [e.input, e.output] : e.input]);
  }
}

/** IPython-style history search patterns: `*` any text, `?` one character, matched against the whole input. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[\\s\\S]*")
    .replace(/\?/g, "[\\s\\S]");
  return new RegExp(`^${body}$`);
}
