/** A small assignment (three exercises, 2 + 3 + 5 points) and submissions made from its release, for the grader tests. */
import * as fs from "fs";
import * as path from "path";
import type { Notebook, NotebookCell } from "../../src/notebook";

type Nbgrader = { grade: boolean; solution: boolean; locked: boolean; grade_id: string; points?: number };

function cell(cellType: "code" | "markdown", source: string, nbgrader?: Nbgrader): NotebookCell {
  const metadata = nbgrader ? { nbgrader: { schema_version: 3, ...nbgrader } } : {};
  return cellType === "code" ? { cell_type: "code", metadata, source, outputs: [], execution_count: null } : { cell_type: "markdown", metadata, source };
}

const answer = (id: string, source: string) => cell("code", source, { grade: false, solution: true, locked: false, grade_id: id });
const test = (id: string, points: number, source: string) => cell("code", source, { grade: true, solution: false, locked: true, grade_id: id, points });

/** The points of each test cell, by grade_id. */
export const POINTS = { "square-tests": 2, "mean-tests": 3, "fib-tests": 5 } as const;

/** The source notebook, with solutions and hidden tests. */
export function sourceNotebook(): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 4,
    metadata: { kernelspec: { name: "tsml", display_name: "TypeScript ML", language: "typescript" } },
    cells: [
      cell("markdown", "# Three small functions", { grade: false, solution: false, locked: true, grade_id: "intro" }),
      cell("code", 'import { check, checkClose } from "tsml";', { grade: false, solution: false, locked: true, grade_id: "setup" }),
      answer("square", "function square(x: number): number {\n  // BEGIN SOLUTION\n  return x * x;\n  // END SOLUTION\n}"),
      test(
        "square-tests",
        POINTS["square-tests"],
        'check("square(3) is 9", square(3) === 9, "multiply x by itself");\n// BEGIN HIDDEN TESTS\ncheck("square(-2) is 4", square(-2) === 4, "negative numbers too");\n// END HIDDEN TESTS',
      ),
      answer(
        "mean",
        "function mean(values: number[]): number {\n  // BEGIN SOLUTION\n  return values.reduce((a, b) => a + b, 0) / values.length;\n  // END SOLUTION\n}",
      ),
      test(
        "mean-tests",
        POINTS["mean-tests"],
        'checkClose("mean([1, 2, 3]) is 2", mean([1, 2, 3]), 2, 1e-12, "add them up, divide by how many");\n// BEGIN HIDDEN TESTS\ncheckClose("mean([0.5]) is 0.5", mean([0.5]), 0.5, 1e-12, "one value is its own mean");\n// END HIDDEN TESTS',
      ),
      answer(
        "fib",
        "function fib(n: number): number {\n  // BEGIN SOLUTION\n  let [a, b] = [0, 1];\n  for (let i = 0; i < n; i++) [a, b] = [b, a + b];\n  return a;\n  // END SOLUTION\n}",
      ),
      test(
        "fib-tests",
        POINTS["fib-tests"],
        'check("fib(10) is 55", fib(10) === 55, "fib(0) = 0, fib(1) = 1, then add the last two");\n// BEGIN HIDDEN TESTS\ncheck("fib(1) is 1", fib(1) === 1, "start from 0 and 1");\n// END HIDDEN TESTS',
      ),
    ],
  };
}

/** Correct answers a student might write (not the source's words). */
export const CORRECT = {
  square: "function square(x: number): number {\n  return x ** 2;\n}",
  mean: "function mean(values: number[]): number {\n  let sum = 0;\n  for (const v of values) sum += v;\n  return sum / values.length;\n}",
  fib: "function fib(n: number): number {\n  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}",
};

/** Wrong answers. */
export const WRONG = {
  square: "function square(x: number): number {\n  return x + x;\n}",
  mean: "function mean(values: number[]): number {\n  return values.length;\n}",
  fib: "function fib(n: number): number {\n  return n;\n}",
};

/** A submission: the release with the answer cells replaced, and `edit` applied to the notebook last. */
export function submission(
  release: Notebook,
  answers: Partial<Record<"square" | "mean" | "fib", string>>,
  edit: (nb: Notebook) => void = () => undefined,
): Notebook {
  const nb = JSON.parse(JSON.stringify(release)) as Notebook;
  for (const c of nb.cells) {
    const id = (c.metadata.nbgrader as { grade_id?: string } | undefined)?.grade_id as keyof typeof answers | undefined;
    if (id && answers[id] !== undefined) c.source = answers[id]!;
  }
  edit(nb);
  return nb;
}

/** Writes a notebook (or raw text) into `dir` as `<name>.ipynb` and returns the path. */
export function writeSubmission(dir: string, name: string, content: Notebook | string): string {
  const file = path.join(dir, `${name}.ipynb`);
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 1));
  return file;
}
