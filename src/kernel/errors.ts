/**
 * Turns thrown values and compiler diagnostics into Jupyter's error content (ename, evalue, traceback). The
 * traceback lines carry ANSI colours as ipykernel's do (the error's name red, places green, functions cyan); ename
 * and evalue stay plain.
 */
import { inspect } from "util";
import { ANSI, colour } from "../util";

/** The fields an `error` message and an error reply carry. */
export type ErrorContent = {
  ename: string;
  evalue: string;
  traceback: string[];
};

/** A TypeScript diagnostic as tslab's converter reports it (a message chain is several, with one start). */
export interface CellDiagnostic {
  start: { line: number; character: number };
  end?: { line: number; character: number };
  messageText: string;
  code?: number;
  fileName?: string;
}

/** The cell a diagnostic's position is in: how it is labelled (`In[3]`) and its source as written. */
export interface DiagnosedCell {
  label: string;
  source: string;
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
    if (!cells) return { ename, evalue, traceback: colourStack(frames, ename) };
    const { lines, origin } = cells.mapStack(frames);
    if (!origin) return { ename, evalue, traceback: colourStack(lines, ename) };
    const indent = origin.sourceLine.slice(0, origin.column - 1).replace(/[^\t]/g, " ");
    return { ename, evalue, traceback: [...sourceBlock(`${origin.label}:${origin.line}`, origin.sourceLine, `${indent}^`), "", ...colourStack(lines, ename)] };
  }
  const evalue = inspect(err);
  return { ename: "Uncaught", evalue, traceback: [`${colour("Uncaught", ANSI.red)} ${evalue}`] };
}

/** `name: message` with the name in red (the first line of a traceback's message). */
export function errorLine(name: string, message: string): string {
  return `${colour(name, ANSI.red)}: ${message}`;
}

/** The place, the source line as written, and the carets under it (red). */
function sourceBlock(place: string, sourceLine: string, carets: string): string[] {
  const at = carets.search(/\S/);
  return [colour(place, ANSI.green), sourceLine, at < 0 ? carets : carets.slice(0, at) + colour(carets.slice(at), ANSI.red)];
}

const FRAME = /^(\s+at )(?:(.+?) \((.+)\)|(.+))$/;

/**
 * A stack's lines coloured: the error's name at the start of its first line red; in each `at` frame the function
 * cyan and the place green. Other lines (the rest of a multi-line message) stay as they are.
 */
function colourStack(lines: string[], ename: string): string[] {
  let inMessage = true;
  return lines.map((line, i) => {
    const frame = FRAME.exec(line);
    if (frame) {
      inMessage = false;
      const [, at, fn, place, bare] = frame;
      return fn === undefined ? `${at}${colour(bare, ANSI.green)}` : `${at}${colour(fn, ANSI.cyan)} (${colour(place, ANSI.green)})`;
    }
    if (i > 0 || !inMessage) return line;
    const name = line === ename || line.startsWith(`${ename}:`) ? ename : /^[\w$.]+(?=:)/.exec(line)?.[0];
    return name ? colour(name, ANSI.red) + line.slice(name.length) : line;
  });
}

/**
 * One error for a cell that did not compile. Each diagnostic in the cell is shown as a runtime error is: its place
 * (`In[3]:2`), the line, carets under the span, then `TS2322: message` (the lines of a message chain below it);
 * a diagnostic in another file (a local .ts module) as `file line:col - message`.
 */
export function describeDiagnostics(diagnostics: CellDiagnostic[], cell?: DiagnosedCell): ErrorContent {
  const lines = cell?.source.split("\n") ?? [];
  const blocks: string[][] = [];
  let previous: CellDiagnostic | undefined;
  for (const d of diagnostics) {
    const message = `${d.code ? `TS${d.code}: ` : ""}${d.messageText}`;
    const sameChain = previous && previous.fileName === d.fileName && previous.start.line === d.start.line && previous.start.character === d.start.character;
    previous = d;
    if (sameChain) {
      blocks[blocks.length - 1].push(`  ${message}`);
      continue;
    }
    if (d.fileName || !cell) {
      blocks.push([`${colour(`${d.fileName ? d.fileName + " " : ""}${d.start.line + 1}:${d.start.character + 1}`, ANSI.green)} - ${message}`]);
      continue;
    }
    const sourceLine = lines[d.start.line] ?? "";
    const column = Math.min(d.start.character, sourceLine.length);
    const endColumn = d.end && d.end.line === d.start.line ? Math.min(d.end.character, sourceLine.length) : column + 1;
    const indent = sourceLine.slice(0, column).replace(/[^\t]/g, " ");
    const carets = `${indent}${"^".repeat(Math.max(1, endColumn - column))}`;
    blocks.push([...sourceBlock(`${cell.label}:${d.start.line + 1}`, sourceLine, carets), errorLine("TypeScriptError", message)]);
  }
  const count = `${blocks.length} error${blocks.length === 1 ? "" : "s"}`;
  return {
    ename: "TypeScriptError",
    evalue: diagnostics.map((d) => d.messageText).join("\n"),
    traceback: [...blocks.flatMap((block, i) => (i === 0 ? block : ["", ...block])), "", `the cell did not compile (${count})`],
  };
}
