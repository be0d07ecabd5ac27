/**
 * The cells this kernel has run, as `vm` saw them: their source as written and the source maps from the code that
 * ran back to it. Stack frames in a cell's code (`<tsml-cell-7>:12:9`) are rewritten to the cell's own line and
 * column (`In[3]:3:7`), and a thrown error is traced back to the cell (and so to the request) it came from.
 */
import { SourceMap } from "module";
import type { SourceMapPayload } from "module";
import type { ConversionMaps } from "./converter";
import { ExpandedCell, originalPosition } from "./shorthand";

/** One compiled cell, registered before it runs. */
export interface CompiledCell<Tag> {
  /** The `filename` the cell's script runs under (see `cellFileName`). */
  file: string;
  /** How frames in this cell are labelled: `In[3]` for execution count 3. */
  label: string;
  /** The cell as the user wrote it, and as tslab compiled it (shorthand properties expanded). */
  source: string;
  expanded: ExpandedCell;
  /** Maps from the CommonJS tslab emitted back to the TypeScript (undefined: positions can't be mapped). */
  conversion: ConversionMaps | undefined;
  /** Lines the kernel's wrapper adds before the CommonJS, and the number of CommonJS lines. */
  headerLines: number;
  bodyLines: number;
  /** The map from the script that ran to the wrapped CommonJS, when loop instrumentation rewrote it. */
  instrumentation?: SourceMapPayload;
  /** Who ran it (the execute_request), for routing late output. */
  tag: Tag;
}

/** A position in a cell as written (1-based line and column). */
export interface CellPosition {
  label: string;
  line: number;
  column: number;
  sourceLine: string;
}

const CELL_FRAME = /<tsml-cell-(\d+)>:(\d+):(\d+)/g;
/** Cells kept for mapping late errors; older ones are forgotten. */
const KEEP_CELLS = 500;

/** The script filename of the cell with sequence number `seq`. */
export function cellFileName(seq: number): string {
  return `<tsml-cell-${seq}>`;
}

/** The registry of compiled cells. */
export class CellSources<Tag> {
  private readonly cells = new Map<string, CompiledCell<Tag> & { maps: Map<string, SourceMap> }>();

  /** Registers a cell about to run. */
  add(cell: CompiledCell<Tag>): void {
    this.cells.set(cell.file, { ...cell, maps: new Map() });
    if (this.cells.size > KEEP_CELLS) this.cells.delete(this.cells.keys().next().value as string);
  }

  /**
   * Rewrites the cell frames of a stack: cell positions become `In[n]:line:column`, frames of the kernel's wrapper
   * around a cell are dropped. Also returns where in a cell the first cell frame points.
   */
  mapStack(lines: string[]): { lines: string[]; origin?: CellPosition } {
    let origin: CellPosition | undefined;
    const out: string[] = [];
    for (const line of lines) {
      let wrapperOnly = false;
      const mapped = line.replace(CELL_FRAME, (text, seq: string, row: string, col: string) => {
        const position = this.position(`<tsml-cell-${seq}>`, Number(row), Number(col));
        if (position === "wrapper") {
          wrapperOnly = true;
          return text;
        }
        if (!position) return text;
        origin ??= position;
        return `${position.label}:${position.line}:${position.column}`;
      });
      if (!wrapperOnly) out.push(mapped);
    }
    return { lines: out, origin };
  }

  /** The tag of the cell whose code is the innermost cell frame of `stack`, if any. */
  tagOf(stack: string): Tag | undefined {
    for (const match of stack.matchAll(CELL_FRAME)) {
      const cell = this.cells.get(`<tsml-cell-${match[1]}>`);
      if (cell) return cell.tag;
    }
    return undefined;
  }

  /** The cell position of a 1-based line/column in a cell's script, "wrapper" for the kernel's own lines. */
  private position(file: string, line: number, column: number): CellPosition | "wrapper" | undefined {
    const cell = this.cells.get(file);
    if (!cell) return undefined;
    let at: { line: number; column: number } | undefined = { line: line - 1, column: column - 1 };
    if (cell.instrumentation) at = this.follow(cell, "instrumentation", cell.instrumentation, at);
    if (!at) return undefined;
    at = { line: at.line - cell.headerLines, column: at.column };
    if (at.line < 0 || at.line >= cell.bodyLines) return "wrapper";
    if (!cell.conversion) return undefined;
    at = this.follow(cell, "commonJs", cell.conversion.commonJs, at);
    at = at && this.follow(cell, "esModule", cell.conversion.esModule, at);
    if (!at) return undefined;
    // tslab compiles the cell behind a one-line prefix (`export {};`).
    const expandedLines = cell.expanded.code.split("\n");
    const row = Math.min(Math.max(at.line - 1, 0), expandedLines.length - 1);
    const offset = expandedLines.slice(0, row).reduce((n, text) => n + text.length + 1, 0) + at.column;
    const original = originalPosition(cell.expanded, { offset, line: row, character: at.column });
    const sourceLine = cell.source.split("\n")[row] ?? "";
    return { label: cell.label, line: row + 1, column: Math.min(original.character, sourceLine.length) + 1, sourceLine };
  }

  private follow(cell: { maps: Map<string, SourceMap> }, key: string, payload: SourceMapPayload, at: { line: number; column: number }) {
    let map = cell.maps.get(key);
    if (!map) cell.maps.set(key, (map = new SourceMap(payload)));
    const entry = map.findEntry(at.line, at.column) as Partial<{ originalLine: number; originalColumn: number }>;
    return entry.originalLine === undefined || entry.originalColumn === undefined ? undefined : { line: entry.originalLine, column: entry.originalColumn };
  }
}
