/**
 * The student version as nbgrader makes it: solution regions stubbed, hidden tests removed, outputs cleared, cells
 * locked, and checksums equal to nbgrader's (computed here by Python, from nbgrader's algorithm); clear errors for
 * malformed sources; check/checkClose outside a kernel.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { CheckFailed, CODE_STUB, check, checkClose, computeChecksum, makeAssignment } from "../../src/classroom";
import { cellSource } from "../../src/notebook";
import type { Notebook, NotebookCell } from "../../src/notebook";
import { sourceNotebook } from "./assignment";

/** nbgrader's compute_checksum (nbgrader/utils.py), run by Python on the cells given as JSON. */
const PYTHON_CHECKSUM = `
import hashlib, json, sys
def flag(meta, key): return meta.get(key, False)
def locked(meta): return False if flag(meta, "solution") else (True if flag(meta, "grade") else flag(meta, "locked"))
out = []
for cell in json.load(sys.stdin):
    meta = cell["metadata"]["nbgrader"]
    m = hashlib.md5()
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    for part in [source, cell["cell_type"], str(flag(meta, "grade")), str(flag(meta, "solution")), str(locked(meta)), meta["grade_id"]]:
        m.update(part.encode("utf-8"))
    if flag(meta, "grade"):
        m.update(str(float(meta["points"])).encode("utf-8"))
    out.append(m.hexdigest())
print(json.dumps(out))
`;

function pythonChecksums(cells: NotebookCell[]): string[] {
  return JSON.parse(execFileSync("/usr/bin/python3", ["-c", PYTHON_CHECKSUM], { input: JSON.stringify(cells), encoding: "utf8" }));
}

const meta = (c: NotebookCell) => c.metadata.nbgrader as Record<string, unknown>;

describe("tsml classroom assign", () => {
  const source = sourceNotebook();
  source.cells[3].outputs = [{ output_type: "stream", name: "stdout", text: "✓ square(3) is 9\n" }];
  source.cells[3].execution_count = 4;
  const { release, solutions } = makeAssignment(source, "functions.ipynb");

  it("replaces each solution region by the stub, indented, and keeps the code around it", () => {
    assert.equal(
      cellSource(release.cells[2]),
      `function square(x: number): number {\n${CODE_STUB.split("\n")
        .map((l) => "  " + l)
        .join("\n")}\n}`,
    );
    assert.equal(cellSource(solutions.cells[2]), cellSource(source.cells[2]));
  });

  it("removes the hidden tests from the release and keeps them in the solutions", () => {
    assert.equal(cellSource(release.cells[3]), 'check("square(3) is 9", square(3) === 9, "multiply x by itself");');
    assert.match(cellSource(solutions.cells[3]), /square\(-2\) is 4/);
  });

  it("clears outputs, locks test and locked cells, keeps answer cells editable", () => {
    for (const nb of [release, solutions]) for (const c of nb.cells) if (c.cell_type === "code") assert.deepEqual([c.outputs, c.execution_count], [[], null]);
    assert.deepEqual([release.cells[3].metadata.editable, release.cells[3].metadata.deletable], [false, false]);
    assert.deepEqual([release.cells[1].metadata.editable, release.cells[1].metadata.deletable], [false, false]);
    assert.deepEqual([release.cells[2].metadata.editable, release.cells[2].metadata.deletable], [undefined, false]);
    assert.equal(source.cells[3].outputs!.length, 1, "the source is not changed");
  });

  it("records nbgrader's checksum (as Python computes it) and cell_type on every graded, answer and locked cell", () => {
    const marked = release.cells.filter((c) => c.metadata.nbgrader);
    assert.equal(marked.length, source.cells.length);
    assert.deepEqual(
      marked.map((c) => meta(c).checksum),
      pythonChecksums(marked),
    );
    assert.deepEqual(
      marked.map((c) => meta(c).cell_type),
      marked.map((c) => c.cell_type),
    );
    // points that are not whole numbers, and non-ASCII text, hash as in Python too
    const odd: NotebookCell = {
      cell_type: "code",
      metadata: { nbgrader: { schema_version: 3, grade: true, solution: false, locked: true, grade_id: "ü-test", points: 0.5 } },
      source: ['check("π ≈ 3.14", true);\n', "// ✓"],
    };
    assert.deepEqual([computeChecksum(odd)], pythonChecksums([odd]));
  });

  it("refuses malformed sources with an error naming the cell", () => {
    const broken = (edit: (nb: Notebook) => void) => {
      const nb = sourceNotebook();
      edit(nb);
      return () => makeAssignment(nb, "functions.ipynb");
    };
    assert.throws(
      broken((nb) => (nb.cells[2].source = "// BEGIN SOLUTION\nreturn 1;")),
      /functions.ipynb: cell 3: "BEGIN SOLUTION" without an "END SOLUTION"/,
    );
    assert.throws(
      broken((nb) => (nb.cells[1].source = String(nb.cells[1].source) + "\n// BEGIN SOLUTION\n// END SOLUTION")),
      /cell 2: a "BEGIN SOLUTION" region in a cell that is not a solution cell/,
    );
    assert.throws(
      broken((nb) => (meta(nb.cells[5]).grade_id = "square-tests")),
      /cell 6: grade_id "square-tests" is also used by cell 4/,
    );
    assert.throws(
      broken((nb) => delete meta(nb.cells[3]).points),
      /cell 4 \(square-tests\): a grade cell needs nbgrader.points/,
    );
    assert.throws(
      broken((nb) => (nb.metadata.kernelspec = { name: "python3" })),
      /kernel "python3", not "tsml"/,
    );
  });
});

describe("check and checkClose outside a kernel", () => {
  it("print a pass and throw CheckFailed with the hint on a failure", () => {
    const printed: string[] = [];
    const log = console.log;
    console.log = (line: string) => printed.push(line);
    try {
      check("one is one", 1 === 1, "unused");
      checkClose("close enough", 0.1 + 0.2, 0.3, 1e-12);
    } finally {
      console.log = log;
    }
    assert.deepEqual(printed, ["✓ one is one", "✓ close enough"]);
    assert.throws(
      () => check("two is three", false, "count again"),
      (err: unknown) => err instanceof CheckFailed && err.message === "two is three — hint: count again",
    );
    assert.throws(() => checkClose("pi", 3, Math.PI, 0.1, "more digits"), /pi — got 3, expected 3.14159 ± 0.1 — hint: more digits/);
    assert.throws(() => checkClose("nan", NaN, 0, 1), CheckFailed);
  });
});
