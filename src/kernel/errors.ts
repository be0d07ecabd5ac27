/** Turns thrown values and compiler diagnostics into Jupyter's error content (ename, evalue, traceback). */
import { inspect } from "util";

/** The fields an `error` message and an error reply carry. */
export type ErrorContent = {
  ename: string;
  evalue: string;
  traceback: string[];
};

/** A TypeScript diagnostic as tslab's converter reports it. */
export interface CellDiagnostic {
  start: { line: number; character: number };
  messageText: string;
  fileName?: string;
}

/** Maps stack frames in cells to the cells' own lines (see cellSources.ts). */
export interface StackMapper {
  mapStack(lines: string[]): { lines: string[]; origin?: { label: string; line: number; column: number; sourceLine: string } };
}

const KERNEL_FRAME = /\(node:(vm|internal)|\bnode:internal\/|[/\\]dist[/\\]src[/\\]kernel[/\\]/;

/**
 * The name, message and stack of a thrown value, without the kernel's own stack frames; with `cells`, frames in
 * cells point at the cell's own lines, and the traceback starts with the offending line of the cell (as Node
 * prints an uncaught error: `In[3]:2`, the line, a caret under the column).
 */
export function describeError(err: unknown, cells?: StackMapper): ErrorContent {
  if (err instanceof Error || (typeof err === "object" && err !== null && "stack" in err && "message" in err)) {
    const e = err as Error;
    const ename = e.name || e.constructor?.name || "Error";
    const evalue = String(e.message ?? "");
    const stack = typeof e.stack === "string" && e.stack ? e.stack.split("\n") : [`${ename}: ${evalue}`];
    const frames = stack.filter((line) => !KERNEL_FRAME.test(line));
    if (!cells) return { ename, evalue, traceback: frames };
    const { lines, origin } = cells.mapStack(frames);
    if (!origin) return { ename, evalue, traceback: lines };
    const indent = origin.sourceLine.slice(0, origin.column - 1).replace(/[^\t]/g, " ");
    return { ename, evalue, traceback: [`${origin.label}:${origin.line}`, origin.sourceLine, `${indent}^`, "", ...lines] };
  }
  const evalue = inspect(err);
  return { ename: "Uncaught", evalue, traceback: [`Uncaught ${evalue}`] };
}

/** One error for a cell that did not compile, listing every diagnostic as `line:col - message`. */
export function describeDiagnostics(diagnostics: CellDiagnostic[]): ErrorContent {
  const lines = diagnostics.map(
    (d) => `${d.fileName ? d.fileName + " " : ""}${d.start.line + 1}:${d.start.character + 1} - ${d.messageText}`,
  );
  return {
    ename: "TypeScriptError",
    evalue: diagnostics.map((d) => d.messageText).join("\n"),
    traceback: [`TypeScriptError: the cell did not compile (${diagnostics.length} error${diagnostics.length === 1 ? "" : "s"})`, ...lines],
  };
}
