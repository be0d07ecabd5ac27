/**
 * Notebook 03 is the source of an assignment: its release (stubs, no hidden tests) and its solutions are generated,
 * then graded as two submissions in fresh kernels: the solutions earn every point, the untouched release none.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { SubmissionGrade, assignNotebook, gradeClass, makeAssignment } from "../../src/classroom";
import { cellSource, readNotebook } from "../../src/notebook";
import type { NotebookCell } from "../../src/notebook";
import { repoRoot, tempDir } from "../helpers";

const SOURCE = path.join(repoRoot(), "notebooks", "03-classroom-gradient-accumulation.ipynb");
const nbgrader = (c: NotebookCell) =>
  c.metadata.nbgrader as { grade?: boolean; solution?: boolean; grade_id?: string; points?: number; checksum?: string } | undefined;

describe("notebook 03 as an assignment", function () {
  this.timeout(900_000);
  const dir = tempDir("tsml-nb03-");
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("has an answer cell and a test cell with hidden tests for each of its four exercises", () => {
    const source = readNotebook(SOURCE);
    const answers = source.cells.filter((c) => nbgrader(c)?.solution);
    const tests = source.cells.filter((c) => nbgrader(c)?.grade);
    assert.equal(answers.length, 4);
    assert.equal(tests.length, 4);
    for (const c of answers) assert.match(cellSource(c), /\/\/ BEGIN SOLUTION[\s\S]*\/\/ END SOLUTION/, nbgrader(c)!.grade_id);
    for (const c of tests) assert.match(cellSource(c), /\/\/ BEGIN HIDDEN TESTS[\s\S]*check[\s\S]*\/\/ END HIDDEN TESTS/, nbgrader(c)!.grade_id);
  });

  it("releases stubs without solutions or hidden tests, and grades the solutions full and the untouched release zero", async () => {
    const solutionsFile = path.join(dir, "solutions", "03-classroom-gradient-accumulation.ipynb");
    const { release: releaseFile } = assignNotebook(SOURCE, path.join(dir, "release"), solutionsFile);
    const release = readNotebook(releaseFile);
    const text = release.cells.map(cellSource).join("\n");
    assert.doesNotMatch(text, /BEGIN SOLUTION|HIDDEN TESTS|return 1 \/ 4|tensorsBefore/);
    assert.equal(text.split('throw new Error("write your solution here");').length - 1, 6); // exercises 1 and 3 have two functions each
    assert.ok(release.cells.every((c) => (c.outputs ?? []).length === 0));
    assert.deepEqual(release, makeAssignment(readNotebook(SOURCE), SOURCE).release);
    const { grades } = await gradeClass(SOURCE, [solutionsFile, releaseFile], path.join(dir, "grades"), {
      jobs: 2,
      cellTimeoutMs: 300_000,
      env: { TSML_SMALL: "1" },
    });
    const [solutions, untouched] = grades as [SubmissionGrade, SubmissionGrade];
    assert.equal(solutions.student, "solutions");
    assert.equal(untouched.student, "release");
    assert.deepEqual(
      solutions.cells.map((c) => [c.gradeId, c.points, c.reason]),
      [
        ["ex1-tests", 3, undefined],
        ["ex2-tests", 3, undefined],
        ["ex3-tests", 2, undefined],
        ["ex4-tests", 2, undefined],
      ],
    );
    assert.equal(solutions.total, 10);
    assert.deepEqual([solutions.notes, untouched.notes], [[], []]);
    assert.equal(untouched.total, 0);
    for (const c of untouched.cells) assert.match(c.reason ?? "", /write your solution here/, c.gradeId);
  });
});
