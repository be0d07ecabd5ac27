/** The three classroom jobs end to end: assign (write release/ and solutions), grade a class, validate one notebook. */
import * as os from "os";
import * as path from "path";
import { writeFileAtomic } from "../io";
import { readNotebook, requireTsmlKernel, writeNotebook } from "../notebook";
import { acquireFolderLock } from "../supervision";
import { makeAssignment, gradedCells } from "./assign";
import { GradeOptions, SubmissionGrade, gradeSubmission, loadGradingSource, runAndScore, studentName } from "./grade";
import { feedbackHTML, gradeBookCSV } from "./gradebook";
import { computeChecksum, gradeIdOf, isLocked, nbgraderOf } from "./metadata";

/** Writes the student version of `sourceFile` into `outDir` (same file name) and, with `solutionsFile`, the solutions copy. */
export function assignNotebook(sourceFile: string, outDir: string, solutionsFile?: string): { release: string; solutions?: string } {
  const { release, solutions } = makeAssignment(readNotebook(sourceFile), sourceFile);
  const releaseFile = path.join(outDir, path.basename(sourceFile));
  if (path.resolve(releaseFile) === path.resolve(sourceFile))
    throw new Error(`--out ${outDir} is the source's own folder: the release would overwrite ${sourceFile}`);
  writeNotebook(releaseFile, release);
  if (solutionsFile) writeNotebook(solutionsFile, solutions);
  return { release: releaseFile, solutions: solutionsFile };
}

/** What grading a class wrote. */
export interface ClassGrades {
  grades: SubmissionGrade[];
  gradeBook: string;
  feedback: string[];
}

/**
 * Grades `submissions` against `sourceFile`, `jobs` at a time (default: one per core), and writes `outDir`/grades.csv,
 * `outDir`/feedback/<student>.html and `outDir`/graded/<student>.ipynb. One grader owns `outDir` at a time.
 */
export async function gradeClass(
  sourceFile: string,
  submissions: string[],
  outDir: string,
  options: GradeOptions & { jobs?: number; onGraded?: (grade: SubmissionGrade) => void } = {},
): Promise<ClassGrades> {
  const source = loadGradingSource(sourceFile);
  const names = submissions.map((file) => studentName(file, sourceFile));
  names.forEach((name, i) => {
    const other = names.indexOf(name);
    if (other !== i)
      throw new Error(
        `${submissions[other]} and ${submissions[i]} are both student ${JSON.stringify(name)}; name the files (or their folders) after the students`,
      );
  });
  const lock = acquireFolderLock(outDir, { purpose: "tsml classroom grade" });
  try {
    const grades = new Array<SubmissionGrade>(submissions.length);
    let next = 0;
    const worker = async () => {
      while (next < submissions.length) {
        const i = next++;
        grades[i] = await gradeSubmission(source, submissions[i], options, names[i]);
        const assignment = path.basename(sourceFile, ".ipynb");
        writeFileAtomic(path.join(outDir, "feedback", `${names[i]}.html`), feedbackHTML(grades[i], assignment));
        if (grades[i].graded) writeNotebook(path.join(outDir, "graded", `${names[i]}.ipynb`), grades[i].graded);
        options.onGraded?.(grades[i]);
      }
    };
    const jobs = Math.max(1, Math.min(options.jobs ?? os.cpus().length, submissions.length));
    await Promise.all(Array.from({ length: jobs }, worker));
    const gradeBook = path.join(outDir, "grades.csv");
    writeFileAtomic(
      gradeBook,
      gradeBookCSV(
        grades,
        gradedCells(source.solutions).map((c) => c.gradeId),
      ),
    );
    return { grades, gradeBook, feedback: names.map((n) => path.join(outDir, "feedback", `${n}.html`)) };
  } finally {
    lock.release();
  }
}

/** One test cell's result for a student checking their own work. */
export interface ValidationResult {
  gradeId: string;
  passed: boolean;
  /** The failure in one line. */
  reason?: string;
}

/**
 * Runs a student's notebook as it is (visible tests only, nothing restored) in a fresh kernel and reports each test
 * cell, and which locked cells were edited (their checksum no longer matches: the grader will restore them).
 */
export async function validateNotebook(file: string, options: GradeOptions = {}): Promise<{ results: ValidationResult[]; notes: string[] }> {
  const notebook = readNotebook(file);
  requireTsmlKernel(notebook, file);
  const notes = notebook.cells
    .filter((c) => isLocked(c) && typeof nbgraderOf(c)?.checksum === "string" && computeChecksum(c) !== nbgraderOf(c)!.checksum)
    .map((c) => `the locked cell ${JSON.stringify(gradeIdOf(c))} was changed: the grader will replace it with the original`);
  const cells = await runAndScore(notebook, { ...options, cwd: options.cwd ?? path.dirname(path.resolve(file)) });
  return { results: cells.map((c) => ({ gradeId: c.gradeId, passed: c.points === c.maxPoints, reason: c.reason })), notes };
}
