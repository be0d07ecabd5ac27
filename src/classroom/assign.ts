/**
 * The student version and the solutions copy of an assignment, made as nbgrader's generate_assignment makes them:
 * cells locked, solution regions stubbed, outputs cleared, hidden tests removed, checksums recorded.
 */
import { Notebook, NotebookCell, cellSource, clearOutputs, copyNotebook, requireTsmlKernel } from "../notebook";
import { CODE_STUB, TEXT_STUB, hasHiddenTests, hasSolutionRegion, removeHiddenTests, replaceSolutionRegions } from "./markers";
import { NbgraderMetadata, computeChecksum, gradeIdOf, isGrade, isLocked, isSolution, nbgraderOf, normaliseMetadata } from "./metadata";

/** The two notebooks made from a source. */
export interface Assignment {
  /** What students get. */
  release: Notebook;
  /** The source with outputs cleared and metadata completed: runs top to bottom with every solution and hidden test. */
  solutions: Notebook;
}

/** Makes the release and solutions versions of `source` (`where` names it in errors); the source is not changed. */
export function makeAssignment(source: Notebook, where: string): Assignment {
  requireTsmlKernel(source, where);
  const solutions = copyNotebook(source);
  normaliseMetadata(solutions.cells, where);
  solutions.cells.forEach((cell, index) => checkRegions(cell, `${where}: cell ${index + 1}`));
  if (!solutions.cells.some(isGrade)) throw new Error(`${where}: no cell is an autograder test (nbgrader.grade true); nothing could be graded`);
  solutions.cells = solutions.cells.map((cell) => lock(clearOutputs(cell)));
  for (const cell of solutions.cells) recordChecksum(cell);
  const release = copyNotebook(solutions);
  release.cells = release.cells.map((cell, index) => {
    const at = `${where}: cell ${index + 1}`;
    let text = cellSource(cell);
    if (isSolution(cell)) {
      const stub = cell.cell_type === "code" ? CODE_STUB : TEXT_STUB;
      const replaced = replaceSolutionRegions(text, stub, at);
      text = replaced.found ? replaced.source : stub;
    }
    if (isGrade(cell)) text = removeHiddenTests(text, at).source;
    const released: NotebookCell = { ...cell, source: text, metadata: JSON.parse(JSON.stringify(cell.metadata)) as NotebookCell["metadata"] };
    recordChecksum(released);
    return released;
  });
  return { release, solutions };
}

/** Solution regions only in solution cells, hidden tests only in grade cells (as nbgrader enforces). */
function checkRegions(cell: NotebookCell, at: string): void {
  const text = cellSource(cell);
  if (hasSolutionRegion(text) && !isSolution(cell))
    throw new Error(`${at}: a "BEGIN SOLUTION" region in a cell that is not a solution cell (set nbgrader.solution: true and a grade_id)`);
  if (hasHiddenTests(text) && !isGrade(cell))
    throw new Error(`${at}: a "BEGIN HIDDEN TESTS" region in a cell that is not an autograder test (set nbgrader.grade: true, points and a grade_id)`);
  replaceSolutionRegions(text, "", at);
  removeHiddenTests(text, at);
}

/** nbgrader's LockCells: answers cannot be deleted; tests and locked cells can be neither edited nor deleted. */
function lock(cell: NotebookCell): NotebookCell {
  if (isSolution(cell)) return { ...cell, metadata: { ...cell.metadata, deletable: false } };
  if (isLocked(cell)) return { ...cell, metadata: { ...cell.metadata, deletable: false, editable: false } };
  return cell;
}

/** nbgrader's ComputeChecksums: the checksum and cell type of every grade, solution and locked cell. */
function recordChecksum(cell: NotebookCell): void {
  const meta = nbgraderOf(cell) as NbgraderMetadata | undefined;
  if (!meta || !(meta.grade || meta.solution || isLocked(cell))) return;
  meta.checksum = computeChecksum(cell);
  meta.cell_type = cell.cell_type;
}

/** The grade_ids and points of the autograder test cells, in notebook order. */
export function gradedCells(nb: Notebook): { gradeId: string; points: number }[] {
  return nb.cells.filter((c) => isGrade(c) && !isSolution(c)).map((c) => ({ gradeId: gradeIdOf(c), points: Number(nbgraderOf(c)!.points) }));
}
