/**
 * Grading a submission: the notebook a student handed in, with every locked and test cell restored from the source
 * (hidden tests included; edits flagged), run in a fresh kernel with a per-cell timeout and a memory cap. A test cell
 * earns its points when it runs without an error (or the partial credit its value states, as in nbgrader). A cell
 * that loops, exhausts memory, kills its kernel or does not compile fails alone: the kernel is restarted, the cells
 * that ran before are replayed, and grading goes on.
 */
import * as path from "path";
import { CellOutcome, KernelProcess, Notebook, NotebookCell, cellSource, readNotebook, requireTsmlKernel, runCell, stripAnsi } from "../notebook";
import { makeAssignment } from "./assign";
import { CHECK_MIME, CheckRecord } from "./check";
import { computeChecksum, gradeIdOf, isLocked, isSolution, isTestCell, nbgraderOf } from "./metadata";

/** Limits and places for grading. */
export interface GradeOptions {
  /** Per-cell time limit in ms (default 60 s). */
  cellTimeoutMs?: number;
  /** Memory cap of each kernel in MiB (default 2048). */
  memoryCapMiB?: number;
  /** The kernels' working directory (default: the source notebook's folder). */
  cwd?: string;
  /** Environment variables added to the kernels'. */
  env?: NodeJS.ProcessEnv;
  /** How many kernel restarts one submission may cause before its remaining cells are failed (default 5). */
  maxRestarts?: number;
}

/** The grade of one test cell. */
export interface CellGrade {
  gradeId: string;
  points: number;
  maxPoints: number;
  /** Why points were lost (undefined when full marks). */
  reason?: string;
  /** The checks that passed, then the one that failed (if a check failed). */
  checks: CheckRecord[];
}

/** The grade of one submission. */
export interface SubmissionGrade {
  student: string;
  file: string;
  cells: CellGrade[];
  total: number;
  max: number;
  /** What the teacher should know beyond the scores: edited locked cells, missing cells, an unreadable file. */
  notes: string[];
  /** The notebook as graded, with outputs (undefined when the file could not be read). */
  graded?: Notebook;
}

/** A prepared source: its path, its solutions version (with hidden tests) and its release (checksums). */
export interface GradingSource {
  file: string;
  solutions: Notebook;
  release: Notebook;
}

/** Reads a source notebook and prepares it for grading. */
export function loadGradingSource(file: string): GradingSource {
  const { solutions, release } = makeAssignment(readNotebook(file), file);
  return { file, solutions, release };
}

/** The student's name for a submission file: its base name, or its folder's when it is named like the source. */
export function studentName(file: string, sourceFile: string): string {
  const base = path.basename(file, ".ipynb");
  return base === path.basename(sourceFile, ".ipynb") ? path.basename(path.dirname(path.resolve(file))) : base;
}

/** Grades one submission file against `source`; never throws for a bad submission (it scores 0 with the reason). */
export async function gradeSubmission(
  source: GradingSource,
  file: string,
  options: GradeOptions = {},
  student = studentName(file, source.file),
): Promise<SubmissionGrade> {
  const tests = source.solutions.cells.filter(isTestCell);
  const max = tests.reduce((sum, c) => sum + Number(nbgraderOf(c)!.points), 0);
  const zero = (reason: string): SubmissionGrade => ({
    student,
    file,
    cells: tests.map((c) => ({ gradeId: gradeIdOf(c), points: 0, maxPoints: Number(nbgraderOf(c)!.points), reason, checks: [] })),
    total: 0,
    max,
    notes: [reason],
  });
  let submission: Notebook;
  try {
    submission = readNotebook(file);
    requireTsmlKernel(submission, file);
  } catch (err) {
    return zero(err instanceof Error ? err.message : String(err));
  }
  const { notebook, notes } = restoreCells(source, submission);
  let cells: CellGrade[];
  try {
    cells = await runAndScore(notebook, { ...options, cwd: options.cwd ?? path.dirname(path.resolve(source.file)) });
  } catch (err) {
    return {
      ...zero(`the submission could not be run: ${err instanceof Error ? err.message : String(err)}`),
      notes: [...notes, "the kernel could not be started"],
    };
  }
  return { student, file, cells, total: cells.reduce((s, c) => s + c.points, 0), max, notes, graded: notebook };
}

/** Runs `notebook` (its outputs are filled in) and scores its test cells. */
export async function runAndScore(notebook: Notebook, options: GradeOptions & { cwd: string }): Promise<CellGrade[]> {
  return scoreTests(notebook, await runAll(notebook, options));
}

/**
 * The notebook to grade: the submission's cells in its order, each locked or test cell replaced by the source's (an
 * edit is noted), answers kept, cells the student added kept, and source cells the submission lacks put back after
 * the cell that precedes them in the source (as nbgrader's add_missing_cells does).
 */
export function restoreCells(source: GradingSource, submission: Notebook): { notebook: Notebook; notes: string[] } {
  const notes: string[] = [];
  const sourceById = new Map<string, NotebookCell>();
  const releaseById = new Map<string, NotebookCell>();
  source.solutions.cells.forEach((cell, i) => {
    const id = gradeIdOf(cell);
    if (id) {
      sourceById.set(id, cell);
      releaseById.set(id, source.release.cells[i]);
    }
  });
  const cells: NotebookCell[] = [];
  const placed = new Set<string>();
  for (const cell of submission.cells) {
    const id = gradeIdOf(cell);
    const original = id ? sourceById.get(id) : undefined;
    if (!original || placed.has(id)) {
      if (!(cell.metadata.tags ?? []).includes("injected-parameters")) cells.push(cell);
      continue;
    }
    placed.add(id);
    if (isSolution(original)) {
      cells.push({ ...cell, cell_type: original.cell_type, metadata: { ...cell.metadata, nbgrader: { ...nbgraderOf(original) } } });
      continue;
    }
    const released = releaseById.get(id)!;
    const submitted = { ...cell, metadata: { ...cell.metadata, nbgrader: { ...nbgraderOf(cell) } } };
    // The teacher's two versions (release, solutions) are both untouched; anything else was edited.
    const checksum = computeChecksum(submitted);
    if (checksum !== nbgraderOf(released)!.checksum && checksum !== nbgraderOf(original)!.checksum) {
      notes.push(`the locked cell ${JSON.stringify(id)} was edited in the submission; the original was restored`);
    }
    cells.push(JSON.parse(JSON.stringify(original)) as NotebookCell);
  }
  // Put back what is missing, after the cell that precedes it in the source.
  source.solutions.cells.forEach((original, i) => {
    const id = gradeIdOf(original);
    if (!id || placed.has(id) || !(isLocked(original) || isSolution(original))) return;
    const restored = JSON.parse(JSON.stringify(isSolution(original) ? source.release.cells[i] : original)) as NotebookCell;
    notes.push(
      isSolution(original)
        ? `the answer cell ${JSON.stringify(id)} is missing from the submission; the empty one was put back`
        : `the locked cell ${JSON.stringify(id)} is missing from the submission; the original was put back`,
    );
    let at = 0;
    for (let j = i - 1; j >= 0; j--) {
      const before = gradeIdOf(source.solutions.cells[j]);
      const found = before ? cells.findIndex((c) => gradeIdOf(c) === before) : -1;
      if (found >= 0) {
        at = found + 1;
        break;
      }
    }
    cells.splice(at, 0, restored);
    placed.add(id);
  });
  // Unmarked cells of the source (not locked) that the submission lost are not restored: students may change them.
  return { notebook: { ...submission, cells, metadata: { ...source.solutions.metadata } }, notes };
}

/** How one cell ended, by index in the graded notebook (code cells only). */
type Outcomes = Map<number, CellOutcome>;

/**
 * Runs every code cell in a fresh kernel; when the kernel dies (or is killed), starts another, replays the cells that
 * had run without error, and goes on after the cell that killed it.
 */
async function runAll(notebook: Notebook, options: GradeOptions & { cwd: string }): Promise<Outcomes> {
  const outcomes: Outcomes = new Map();
  const timeoutMs = options.cellTimeoutMs ?? 60_000;
  const start = () => KernelProcess.start({ cwd: options.cwd, memoryCapMiB: options.memoryCapMiB ?? 2048, env: options.env });
  let kernel = await start();
  let restarts = 0;
  const succeeded: number[] = [];
  try {
    for (let index = 0; index < notebook.cells.length; index++) {
      const cell = notebook.cells[index];
      if (cell.cell_type !== "code") continue;
      if (!kernel.alive) {
        if (restarts >= (options.maxRestarts ?? 5)) {
          outcomes.set(index, failed(cell, "KernelDied", `not run: the kernel died ${restarts + 1} times in this submission`));
          continue;
        }
        restarts++;
        kernel.kill();
        kernel = await start();
        for (const earlier of succeeded) {
          const replay = await kernel.execute(cellSource(notebook.cells[earlier]), { timeoutMs });
          if (!replay.kernelAlive) break;
        }
        if (!kernel.alive) {
          outcomes.set(index, failed(cell, "KernelDied", "not run: the kernel died again while the cells before this one were replayed"));
          continue;
        }
      }
      const outcome = await runCell(kernel, cell, timeoutMs);
      outcomes.set(index, outcome);
      if (outcome.status === "ok") succeeded.push(index);
    }
  } finally {
    await kernel.shutdown();
  }
  return outcomes;
}

function failed(cell: NotebookCell, ename: string, evalue: string): CellOutcome {
  const error = { ename, evalue, traceback: [`${ename}: ${evalue}`] };
  cell.outputs = [{ output_type: "error", ...error }];
  cell.execution_count = null;
  return { status: "died", outputs: cell.outputs, executionCount: null, error, kernelAlive: false };
}

/** Scores each test cell; a failure's reason names its error and any answer cell before it that failed. */
function scoreTests(notebook: Notebook, outcomes: Outcomes): CellGrade[] {
  const grades: CellGrade[] = [];
  let answerFailures: string[] = [];
  notebook.cells.forEach((cell, index) => {
    const outcome = outcomes.get(index);
    if (isSolution(cell) && outcome && outcome.status !== "ok")
      answerFailures.push(`your answer cell ${JSON.stringify(gradeIdOf(cell))} failed: ${describe(outcome)}`);
    if (!isTestCell(cell)) return;
    const maxPoints = Number(nbgraderOf(cell)!.points);
    const checks = recordedChecks(outcome);
    if (!outcome || outcome.status !== "ok") {
      const own = outcome ? describe(outcome) : "the cell was not run";
      const reason = answerFailures.length ? `${answerFailures.join("; ")} — so the test failed: ${own}` : own;
      grades.push({ gradeId: gradeIdOf(cell), points: 0, maxPoints, reason, checks });
    } else {
      const partial = partialCredit(outcome, maxPoints);
      grades.push({
        gradeId: gradeIdOf(cell),
        points: partial ?? maxPoints,
        maxPoints,
        reason: partial !== undefined && partial < maxPoints ? `partial credit: ${partial} of ${maxPoints}` : undefined,
        checks,
      });
    }
    answerFailures = [];
  });
  return grades;
}

/** A failed cell's outcome in one line: a check's own line, "timed out ...", "SyntaxError: ...". */
function describe(outcome: CellOutcome): string {
  const error = outcome.error;
  if (!error) return outcome.status;
  const first =
    stripAnsi(error.evalue)
      .split("\n")
      .find((l) => l.trim()) ?? "";
  if (error.ename === "CheckFailed") return `✗ ${first}`;
  if (error.ename === "TimeoutError" || error.ename === "KernelDied") return first;
  return `${error.ename}: ${first}`;
}

/** The checks a cell recorded: passes from their display outputs, the failure from its error. */
function recordedChecks(outcome: CellOutcome | undefined): CheckRecord[] {
  if (!outcome) return [];
  const checks: CheckRecord[] = [];
  for (const output of outcome.outputs) {
    if (output.output_type === "display_data" && typeof output.data[CHECK_MIME] === "object") checks.push(output.data[CHECK_MIME] as CheckRecord);
  }
  if (outcome.error?.ename === "CheckFailed") checks.push({ name: stripAnsi(outcome.error.evalue).split("\n")[0], ok: false, hint: "" });
  return checks;
}

/** nbgrader's partial credit: a test cell whose value is one number in [0, max] earns that many points. */
function partialCredit(outcome: CellOutcome, maxPoints: number): number | undefined {
  const result = outcome.outputs.find((o) => o.output_type === "execute_result");
  if (!result || result.output_type !== "execute_result") return undefined;
  const text = result.data["text/plain"];
  const value = Number(Array.isArray(text) ? text.join("") : text);
  return Number.isFinite(value) && value >= 0 && value <= maxPoints ? value : undefined;
}
