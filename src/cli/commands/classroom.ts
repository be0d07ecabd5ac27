/**
 * `tsml classroom assign|grade|validate`: nbgrader-style assignments for TypeScript notebooks — the student version,
 * automatic grading of a class into grades.csv and feedback pages, and a student's own check before handing in.
 */
import { assignNotebook, gradeClass, validateNotebook } from "../../classroom";
import { parseArgs } from "../args";
import type { Command } from "../command";

const USAGE = `usage: tsml classroom assign SOURCE.ipynb --out DIR [--solutions SOLUTIONS.ipynb]
       tsml classroom grade SOURCE.ipynb SUBMISSION.ipynb... --out DIR [--timeout SECONDS] [--memory MIB] [--jobs N]
       tsml classroom validate MY.ipynb [--timeout SECONDS] [--memory MIB]

The source is a notebook with nbgrader's cell metadata (schema version 3: nbgrader.solution for answer cells,
nbgrader.grade + points for test cells, nbgrader.locked for read-only cells, each with a grade_id) and nbgrader's
markers in TypeScript comments: // BEGIN SOLUTION ... // END SOLUTION, // BEGIN HIDDEN TESTS ... // END HIDDEN TESTS.
Test cells use check(name, ok, hint) and checkClose(name, actual, expected, tolerance, hint) from "tsml".

  assign    writes DIR/<SOURCE name>: solutions replaced by a stub that throws "write your solution here", hidden
            tests removed, outputs cleared, checksums of answer, test and locked cells recorded;
            --solutions FILE also writes the answer key (every solution and hidden test; runs top to bottom)
  grade     runs each submission in a fresh kernel with its locked and test cells restored from SOURCE (edits are
            noted), hidden tests included; a test cell earns its points when it runs without an error. Writes
            DIR/grades.csv (student, each test's grade_id, total, max), DIR/feedback/<student>.html and
            DIR/graded/<student>.ipynb. The student is the file's name (or its folder's, when the file is named
            like SOURCE). An endless loop, memory exhaustion, a killed kernel or a syntax error costs that cell only.
  validate  runs your notebook as it is and lists each visible test: passed, or why not; exit code 1 if one failed

  --timeout SECONDS  per-cell time limit (default 60)
  --memory MIB       memory cap of each kernel (default 2048)
  --jobs N           submissions graded at once (default: the number of cores)`;

/** The `classroom` subcommand. */
export const command: Command = {
  summary: "assign, grade and validate nbgrader-style TypeScript notebook assignments",
  run: async (argv) => {
    const [action, ...rest] = argv;
    if (!action || action === "--help" || action === "-h") {
      console.log(USAGE);
      return action ? 0 : 2;
    }
    const spec = { out: "string", solutions: "string", timeout: "number", memory: "number", jobs: "number", help: "boolean" } as const;
    const { options, positional } = parseArgs(rest, { ...spec }, Number.POSITIVE_INFINITY);
    if (options.help) {
      console.log(USAGE);
      return 0;
    }
    const limits = {
      cellTimeoutMs: positiveOption(options.timeout, "--timeout", 60) * 1000,
      memoryCapMiB: positiveOption(options.memory, "--memory", 2048),
    };
    const out = typeof options.out === "string" ? options.out : undefined;
    if (action === "assign") {
      if (positional.length !== 1 || !out) return usageError("assign needs one SOURCE.ipynb and --out DIR");
      const written = assignNotebook(positional[0], out, typeof options.solutions === "string" ? options.solutions : undefined);
      console.log(`wrote ${written.release}${written.solutions ? ` and ${written.solutions}` : ""}`);
      return 0;
    }
    if (action === "grade") {
      if (positional.length < 2 || !out) return usageError("grade needs SOURCE.ipynb, at least one SUBMISSION.ipynb and --out DIR");
      const [source, ...submissions] = positional;
      const jobs = options.jobs === undefined ? undefined : positiveOption(options.jobs, "--jobs", 1);
      const result = await gradeClass(source, submissions, out, {
        ...limits,
        jobs,
        onGraded: (g) => console.error(`${g.student}: ${g.total} / ${g.max}${g.notes.length ? ` (${g.notes.join("; ")})` : ""}`),
      });
      console.log(`wrote ${result.gradeBook} and ${result.feedback.length} feedback pages`);
      return 0;
    }
    if (action === "validate") {
      if (positional.length !== 1) return usageError("validate needs one notebook");
      const { results, notes } = await validateNotebook(positional[0], limits);
      for (const r of results) console.log(`${r.passed ? "✓" : "✗"} ${r.gradeId}${r.reason ? `: ${r.reason}` : ""}`);
      for (const note of notes) console.log(`! ${note}`);
      const passed = results.filter((r) => r.passed).length;
      console.log(`${passed} of ${results.length} tests passed`);
      return passed === results.length && notes.length === 0 ? 0 : 1;
    }
    return usageError(`unknown action ${JSON.stringify(action)}; expected assign, grade or validate`);
  },
};

function usageError(message: string): number {
  console.error(`tsml classroom: ${message}\n\n${USAGE}`);
  return 2;
}

function positiveOption(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0)) throw new Error(`${flag} must be a positive number, got ${JSON.stringify(value)}`);
  return value;
}
