/**
 * Grading a class of synthetic submissions of a small assignment: each gets the grade and the reason a teacher
 * would expect, and the grade book equals one computed by hand from the points of the cells each student passes.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ClassGrades, SubmissionGrade, assignNotebook, gradeClass } from "../../src/classroom";
import { readNotebook } from "../../src/notebook";
import type { Notebook } from "../../src/notebook";
import { tempDir } from "../helpers";
import { CORRECT, POINTS, WRONG, sourceNotebook, submission, writeSubmission } from "./assignment";

describe("tsml classroom grade: a class of synthetic submissions", function () {
  this.timeout(600_000);
  let dir: string;
  let result: ClassGrades;
  const byStudent = new Map<string, SubmissionGrade>();
  /** The test cells each student should pass (everything else scores 0). */
  const expectedPasses: Record<string, (keyof typeof POINTS)[]> = {
    alice: ["square-tests", "mean-tests", "fib-tests"],
    bob: [],
    carol: ["square-tests", "fib-tests"],
    dave: ["square-tests", "mean-tests"],
    erin: ["mean-tests", "fib-tests"],
    frank: ["mean-tests", "fib-tests"],
    grace: ["square-tests", "fib-tests"],
    heidi: ["square-tests", "mean-tests"],
    ivan: [],
    judy: [],
    kim: [],
    liam: ["mean-tests", "fib-tests"],
  };

  before(async () => {
    dir = tempDir("tsml-classroom-");
    const sourceFile = path.join(dir, "functions.ipynb");
    fs.writeFileSync(sourceFile, JSON.stringify(sourceNotebook(), null, 1));
    const release = readNotebook(assignNotebook(sourceFile, path.join(dir, "release")).release);
    const submissions = path.join(dir, "submitted");
    fs.mkdirSync(submissions);
    const write = (name: string, content: Notebook | string) => writeSubmission(submissions, name, content);
    const files = [
      write("alice", submission(release, CORRECT)),
      write("bob", submission(release, WRONG)),
      write("carol", submission(release, { ...CORRECT, mean: WRONG.mean })),
      write("dave", submission(release, { ...CORRECT, fib: "function fib(n: number): number {\n  while (true) {}\n}" })),
      write(
        "erin",
        submission(release, { ...CORRECT, square: WRONG.square }, (nb) => {
          const tests = nb.cells.find((c) => (c.metadata.nbgrader as { grade_id?: string } | undefined)?.grade_id === "square-tests")!;
          tests.source = 'check("square(3) is 9", true, "");';
        }),
      ),
      write("frank", submission(release, { ...CORRECT, square: "function square(x: number): number {\n  return x * ;\n}" })),
      write(
        "grace",
        submission(release, {
          ...CORRECT,
          mean: "function mean(values: number[]): number {\n  const hog: number[][] = [];\n  for (;;) hog.push(new Array(1e6).fill(values.length));\n}",
        }),
      ),
      write("heidi", submission(release, { ...CORRECT, fib: `process.kill(process.pid);\n${CORRECT.fib}` })),
      write("ivan", {
        nbformat: 4,
        nbformat_minor: 4,
        metadata: { kernelspec: { name: "tsml", display_name: "TypeScript ML", language: "typescript" } },
        cells: [],
      }),
      write("judy", { ...submission(release, CORRECT), metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } } }),
      write("kim", '{"cells": [{"cell_type": "code", "source": "square'),
      write("liam", submission(release, { ...CORRECT, square: "function square(x: number): number {\n  return x * Math.abs(x);\n}" })),
    ];
    result = await gradeClass(sourceFile, files, path.join(dir, "grades"), { cellTimeoutMs: 20_000, memoryCapMiB: 1536, jobs: 2 });
    for (const grade of result.grades) byStudent.set(grade.student, grade);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const points = (student: string) => Object.fromEntries(byStudent.get(student)!.cells.map((c) => [c.gradeId, c.points]));
  const reason = (student: string, gradeId: string) => byStudent.get(student)!.cells.find((c) => c.gradeId === gradeId)?.reason ?? "";

  it("grades every submission, each test cell once", () => {
    assert.deepEqual([...byStudent.keys()].sort(), Object.keys(expectedPasses).sort());
    for (const grade of result.grades)
      assert.deepEqual(
        grade.cells.map((c) => c.gradeId),
        Object.keys(POINTS),
        grade.student,
      );
  });

  it("gives each student the points of the tests they should pass, and 0 for the others", () => {
    for (const [student, passes] of Object.entries(expectedPasses)) {
      const expected = Object.fromEntries(Object.entries(POINTS).map(([id, p]) => [id, passes.includes(id as keyof typeof POINTS) ? p : 0]));
      assert.deepEqual(points(student), expected, student);
    }
  });

  it("says why points were lost: the failed check with its hint, the loop, the memory, the dead kernel, the syntax error", () => {
    assert.match(reason("bob", "square-tests"), /✗ square\(3\) is 9 — hint: multiply x by itself/);
    assert.match(reason("bob", "mean-tests"), /mean\(\[1, 2, 3\]\) is 2 — got 3, expected 2/);
    assert.match(reason("carol", "mean-tests"), /add them up/);
    assert.match(reason("dave", "fib-tests"), /time limit of 20 s/);
    assert.match(reason("frank", "square-tests"), /answer cell "square" failed/);
    assert.match(reason("grace", "mean-tests"), /memory/);
    // The kernel refuses process.kill(process.pid) (issue 24): the answer cell fails with that reason, the kernel lives on.
    assert.match(reason("heidi", "fib-tests"), /answer cell "fib" failed: Error: process\.kill\(process\.pid\) is refused in a notebook/);
    assert.match(reason("ivan", "square-tests"), /write your solution here/);
    assert.match(reason("judy", "fib-tests"), /kernel "python3" \(Python 3\), not "tsml"/);
    assert.match(reason("kim", "mean-tests"), /not valid JSON/);
    assert.equal(reason("alice", "fib-tests"), "");
  });

  it("runs the hidden tests: an answer that passes the visible check and fails a hidden one loses the points", () => {
    assert.match(reason("liam", "square-tests"), /✗ square\(-2\) is 4 — hint: negative numbers too/);
    const liamTests = byStudent.get("liam")!.cells.find((c) => c.gradeId === "square-tests")!;
    assert.deepEqual(
      liamTests.checks.map((c) => c.ok),
      [true, false],
    );
  });

  it("restores an edited locked cell and says so, and notes the cells an empty notebook lacks", () => {
    assert.ok(
      byStudent.get("erin")!.notes.some((n) => /locked cell "square-tests" was edited/.test(n)),
      byStudent.get("erin")!.notes.join("\n"),
    );
    assert.equal(byStudent.get("alice")!.notes.length, 0, byStudent.get("alice")!.notes.join("\n"));
    assert.ok(byStudent.get("ivan")!.notes.some((n) => /answer cell "fib" is missing/.test(n)));
  });

  it("writes grades.csv equal to the hand-computed grade book, and a feedback page per student", () => {
    const ids = Object.keys(POINTS) as (keyof typeof POINTS)[];
    const max = ids.reduce((s, id) => s + POINTS[id], 0);
    const rows = Object.entries(expectedPasses).map(([student, passes]) => {
      const cells: number[] = ids.map((id) => (passes.includes(id) ? POINTS[id] : 0));
      return [student, ...cells, cells.reduce((a, b) => a + b, 0), max].join(",");
    });
    const csv = fs.readFileSync(result.gradeBook, "utf8").trim().split("\n");
    assert.equal(csv[0], ["student", ...ids, "total", "max"].join(","));
    assert.deepEqual(csv.slice(1).sort(), rows.sort());
    for (const student of Object.keys(expectedPasses)) {
      const html = fs.readFileSync(path.join(dir, "grades", "feedback", `${student}.html`), "utf8");
      assert.match(html, new RegExp(`Score: ${byStudent.get(student)!.total} of ${max}`), student);
    }
    assert.match(fs.readFileSync(path.join(dir, "grades", "feedback", "bob.html"), "utf8"), /hint: multiply x by itself/);
  });
});
