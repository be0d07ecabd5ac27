/** Jupyter notebooks on disk (nbformat 4): the types, reading with clear errors, atomic writing. */
import * as fs from "fs";
import { writeFileAtomic } from "../io";

/** One output of a code cell, as nbformat 4 stores it. */
export type NotebookOutput =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string }
  | { output_type: "display_data"; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | { output_type: "execute_result"; execution_count: number | null; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

/** A notebook cell (nbformat 4); `source` is kept as on disk (a string or a list of lines). */
export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  metadata: Record<string, unknown> & { tags?: string[] };
  source: string | string[];
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  attachments?: Record<string, unknown>;
}

/** A notebook (nbformat 4). */
export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown> & { kernelspec?: { name?: string; display_name?: string; language?: string } };
  nbformat: number;
  nbformat_minor: number;
}

/** The kernelspec name tsml notebooks carry (metadata.kernelspec.name). */
export const TSML_KERNEL_NAME = "tsml";

/** A cell's source as one string. */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/**
 * Reads and checks a notebook: a missing file, invalid JSON, a format other than nbformat 4 or malformed cells throw
 * an error naming the file and what was expected. Nothing in the file is executed.
 */
export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`${file}: cannot read the notebook (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not a notebook: the file is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return checkNotebook(value, file);
}

/** Checks that `value` has nbformat 4's shape; `where` names it in errors. */
export function checkNotebook(value: unknown, where: string): Notebook {
  const nb = value as Partial<Notebook> | null;
  if (typeof nb !== "object" || nb === null || Array.isArray(nb)) throw new Error(`${where}: not a notebook: expected a JSON object with "cells"`);
  if (nb.nbformat !== 4)
    throw new Error(`${where}: nbformat ${JSON.stringify(nb.nbformat)} is not supported; expected nbformat 4 (save it with Jupyter 4 or later)`);
  if (!Array.isArray(nb.cells)) throw new Error(`${where}: not a notebook: "cells" is missing or not a list`);
  nb.cells.forEach((cell, i) => {
    const kind = (cell as Partial<NotebookCell> | null)?.cell_type;
    if (kind !== "code" && kind !== "markdown" && kind !== "raw")
      throw new Error(`${where}: cell ${i + 1} has cell_type ${JSON.stringify(kind)}; expected "code", "markdown" or "raw"`);
    const source = cell.source as unknown;
    if (typeof source !== "string" && !(Array.isArray(source) && source.every((s) => typeof s === "string"))) {
      throw new Error(`${where}: cell ${i + 1} has no source text (expected a string or a list of strings)`);
    }
    cell.metadata ??= {};
  });
  nb.metadata ??= {};
  return nb as Notebook;
}

/** Throws unless the notebook names the tsml kernel (or names none, which tsml accepts). */
export function requireTsmlKernel(nb: Notebook, where: string): void {
  const name = nb.metadata.kernelspec?.name;
  if (name !== undefined && name !== TSML_KERNEL_NAME) {
    const display = nb.metadata.kernelspec?.display_name ? ` (${nb.metadata.kernelspec.display_name})` : "";
    throw new Error(`${where}: the notebook is for the kernel ${JSON.stringify(name)}${display}, not ${JSON.stringify(TSML_KERNEL_NAME)} (TypeScript ML)`);
  }
}

/** Writes a notebook as Jupyter does (one-space indent, trailing newline), atomically. */
export function writeNotebook(file: string, nb: Notebook): void {
  writeFileAtomic(file, JSON.stringify(nb, null, 1) + "\n");
}

/** A deep copy of a notebook (cells and metadata are edited freely afterwards). */
export function copyNotebook(nb: Notebook): Notebook {
  return JSON.parse(JSON.stringify(nb)) as Notebook;
}

/** The cell with its outputs and execution count cleared (code cells), everything else as it was. */
export function clearOutputs(cell: NotebookCell): NotebookCell {
  return cell.cell_type === "code" ? { ...cell, outputs: [], execution_count: null } : { ...cell };
}
