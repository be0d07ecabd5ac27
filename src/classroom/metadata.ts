/**
 * nbgrader's cell metadata (schema version 3) and its checksum, computed exactly as nbgrader does (nbgrader/utils.py:
 * is_grade, is_solution, is_locked, compute_checksum), so nbgrader can read the notebooks tsml writes and the other way.
 */
import { createHash } from "crypto";
import { NotebookCell, cellSource } from "../notebook";

/** `cell.metadata.nbgrader` in schema version 3. */
export interface NbgraderMetadata {
  schema_version: 3;
  /** A graded cell: an autograder test cell (with `solution` false) or a manually graded answer. */
  grade: boolean;
  /** A cell where students write their answer. */
  solution: boolean;
  /** A read-only cell, restored from the source when graded. */
  locked: boolean;
  task?: boolean;
  grade_id?: string;
  points?: number;
  checksum?: string;
  cell_type?: string;
}

/** The cell's nbgrader metadata, if it has any. */
export function nbgraderOf(cell: NotebookCell): Partial<NbgraderMetadata> | undefined {
  const meta = cell.metadata.nbgrader;
  return typeof meta === "object" && meta !== null ? meta : undefined;
}

/** A grade cell (nbgrader's is_grade). */
export function isGrade(cell: NotebookCell): boolean {
  return nbgraderOf(cell)?.grade === true;
}

/** A solution cell (nbgrader's is_solution). */
export function isSolution(cell: NotebookCell): boolean {
  return nbgraderOf(cell)?.solution === true;
}

/** A locked cell as nbgrader defines it: never a solution cell, always a grade cell, else its `locked` flag. */
export function isLocked(cell: NotebookCell): boolean {
  const meta = nbgraderOf(cell);
  if (!meta || meta.solution === true) return false;
  return meta.grade === true || meta.locked === true;
}

/** An autograder test cell: graded code that is not an answer. */
export function isTestCell(cell: NotebookCell): boolean {
  return cell.cell_type === "code" && isGrade(cell) && !isSolution(cell);
}

/** The cell's grade_id ("" when it has none). */
export function gradeIdOf(cell: NotebookCell): string {
  const id = nbgraderOf(cell)?.grade_id;
  return typeof id === "string" ? id : "";
}

/**
 * nbgrader's checksum of a cell: the MD5 of its source, its cell type, Python's str() of its grade, solution and
 * locked flags ("True"/"False"), its grade_id and, for a grade cell, Python's str(float(points)).
 */
export function computeChecksum(cell: NotebookCell): string {
  const meta = nbgraderOf(cell) ?? {};
  const md5 = createHash("md5");
  md5.update(cellSource(cell), "utf8");
  md5.update(cell.cell_type, "utf8");
  md5.update(pythonBool(isGrade(cell)));
  md5.update(pythonBool(isSolution(cell)));
  md5.update(pythonBool(isLocked(cell)));
  md5.update(String(meta.grade_id ?? ""), "utf8");
  if (isGrade(cell)) md5.update(pythonFloat(Number(meta.points)));
  return md5.digest("hex");
}

function pythonBool(value: boolean): string {
  return value ? "True" : "False";
}

/** Python's str(float(x)): "2.0", "0.5", "1e-05", "1e+16". */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa, exponent] = x.toExponential().split("e");
    const sign = exponent.startsWith("-") ? "-" : "+";
    const digits = exponent.replace(/^[+-]/, "").padStart(2, "0");
    return `${mantissa}e${sign}${digits}`;
  }
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/**
 * Checks and completes a source notebook's nbgrader metadata in place: schema_version 3, the three flags as booleans,
 * a unique non-empty grade_id on every graded, solution or locked cell, points >= 0 on grade cells. Errors name the
 * cell. Manually graded answers (grade and solution) are refused: tsml grades automatically.
 */
export function normaliseMetadata(cells: NotebookCell[], where: string): void {
  const ids = new Map<string, number>();
  cells.forEach((cell, index) => {
    const meta = nbgraderOf(cell);
    if (!meta) return;
    const at = `${where}: cell ${index + 1}`;
    for (const flag of ["grade", "solution", "locked"] as const) {
      if (meta[flag] !== undefined && typeof meta[flag] !== "boolean")
        throw new Error(`${at}: nbgrader.${flag} is ${JSON.stringify(meta[flag])}; expected true or false`);
    }
    const full: NbgraderMetadata = { ...meta, schema_version: 3, grade: meta.grade === true, solution: meta.solution === true, locked: meta.locked === true };
    if (meta.schema_version !== undefined && meta.schema_version !== 3)
      throw new Error(
        `${at}: nbgrader.schema_version is ${JSON.stringify(meta.schema_version)}; tsml reads schema version 3 (upgrade with \`nbgrader update\`)`,
      );
    if (full.grade || full.solution || full.locked) {
      if (typeof full.grade_id !== "string" || full.grade_id === "")
        throw new Error(`${at}: an nbgrader cell needs a grade_id (a unique name such as "ex1-tests")`);
      if (ids.has(full.grade_id))
        throw new Error(`${at}: grade_id ${JSON.stringify(full.grade_id)} is also used by cell ${ids.get(full.grade_id)! + 1}; grade_ids must be unique`);
      ids.set(full.grade_id, index);
    }
    if (full.grade) {
      if (typeof full.points !== "number" || !(full.points >= 0))
        throw new Error(`${at} (${full.grade_id}): a grade cell needs nbgrader.points, a number >= 0; got ${JSON.stringify(full.points)}`);
      if (full.solution)
        throw new Error(
          `${at} (${full.grade_id}): a manually graded answer (grade and solution) cannot be graded automatically by tsml; grade it in nbgrader, or split it into an answer cell and a test cell`,
        );
    }
    if (cell.cell_type === "markdown" && full.grade) throw new Error(`${at} (${full.grade_id}): a markdown cell cannot be an autograder test`);
    cell.metadata.nbgrader = full;
  });
}
