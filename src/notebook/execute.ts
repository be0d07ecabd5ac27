/** Executing a notebook headless in a fresh kernel, cell by cell, with progress and a per-cell timeout. */
import { CellOutcome, KernelProcess, formatSeconds } from "./kernelProcess";
import { Notebook, NotebookCell, cellSource, copyNotebook, requireTsmlKernel } from "./format";

/** How to execute. */
export interface ExecuteOptions {
  /** The kernel's working directory (default: the current directory). */
  cwd?: string;
  /** Per-cell time limit in milliseconds (default: none). */
  cellTimeoutMs?: number;
  /** Memory cap of the kernel in MiB (default: none beyond the kernelspec's heap limit). */
  memoryCapMiB?: number;
  /** Environment variables added to the kernel's. */
  env?: NodeJS.ProcessEnv;
  /** Called after each code cell with its position among the code cells. */
  onProgress?: (progress: CellProgress) => void;
}

/** What `onProgress` learns after each code cell. */
export interface CellProgress {
  /** 1-based position among the notebook's code cells, and how many there are. */
  codeCell: number;
  codeCells: number;
  /** Index of the cell in the notebook. */
  cellIndex: number;
  outcome: CellOutcome;
  seconds: number;
}

/** The executed notebook and, when a cell failed, which one and why. */
export interface ExecutionResult {
  notebook: Notebook;
  /** The index (in `notebook.cells`) of the cell that failed, and its error; undefined when every cell ran. */
  failure?: { cellIndex: number; outcome: CellOutcome };
}

/**
 * Executes every code cell of `source` in order in a fresh tsml kernel and returns a copy with the outputs; stops at
 * the first cell that fails (its error is in its outputs, the later cells keep no outputs), as papermill does.
 */
export async function executeNotebook(source: Notebook, options: ExecuteOptions = {}): Promise<ExecutionResult> {
  requireTsmlKernel(source, "notebook");
  const notebook = copyNotebook(source);
  const codeCells = notebook.cells.filter((c) => c.cell_type === "code");
  for (const cell of codeCells) clearCellOutputs(cell);
  const kernel = await KernelProcess.start({ cwd: options.cwd ?? process.cwd(), memoryCapMiB: options.memoryCapMiB, env: options.env });
  try {
    let position = 0;
    for (let index = 0; index < notebook.cells.length; index++) {
      const cell = notebook.cells[index];
      if (cell.cell_type !== "code") continue;
      position++;
      const started = Date.now();
      const outcome = await runCell(kernel, cell, options.cellTimeoutMs);
      options.onProgress?.({ codeCell: position, codeCells: codeCells.length, cellIndex: index, outcome, seconds: (Date.now() - started) / 1000 });
      if (outcome.status !== "ok") return { notebook, failure: { cellIndex: index, outcome } };
    }
    return { notebook };
  } finally {
    await kernel.shutdown();
  }
}

/** Runs `cell` in `kernel` and stores its outputs and execution count in it. */
export async function runCell(kernel: KernelProcess, cell: NotebookCell, cellTimeoutMs?: number): Promise<CellOutcome> {
  const outcome = await kernel.execute(cellSource(cell), { timeoutMs: cellTimeoutMs });
  cell.outputs = outcome.outputs;
  cell.execution_count = outcome.executionCount;
  return outcome;
}

/** Empties a code cell's outputs and execution count. */
function clearCellOutputs(cell: NotebookCell): void {
  cell.outputs = [];
  cell.execution_count = null;
}

/** One line of progress: "[3/12] cell 5 ok 1.2 s" (and the error's first line when it failed). */
export function describeProgress(progress: CellProgress): string {
  const { outcome } = progress;
  const head = `[${progress.codeCell}/${progress.codeCells}] cell ${progress.cellIndex + 1} ${outcome.status} ${formatSeconds(Math.round(progress.seconds * 1000))}`;
  if (outcome.status === "ok" || !outcome.error) return head;
  return `${head}: ${outcome.error.ename}: ${outcome.error.evalue.split("\n")[0]}`;
}
