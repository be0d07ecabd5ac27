/**
 * `tsml run NOTEBOOK.ipynb [-p NAME=VALUE ...] [-o OUT.ipynb] [--html OUT.html]`: executes a notebook headless in a
 * fresh tsml kernel with papermill's conventions, printing one progress line per cell; exits 1 when a cell fails.
 */
import * as path from "path";
import { writeFileAtomic } from "../../io";
import {
  describeProgress,
  executeNotebook,
  injectParameters,
  notebookToHTML,
  parseParameter,
  readNotebook,
  requireTsmlKernel,
  writeNotebook,
} from "../../notebook";
import type { ParameterValue } from "../../notebook";
import { parseArgs } from "../args";
import type { Command } from "../command";

const USAGE = `usage: tsml run NOTEBOOK.ipynb [-p NAME=VALUE ...] [-o OUT.ipynb] [--html OUT.html] [--timeout SECONDS]

Executes every code cell of NOTEBOOK in a fresh TypeScript ML kernel (no Python needed), in the notebook's folder.

  -p, --parameter NAME=VALUE  set a parameter (repeatable): a cell tagged "injected-parameters" with
                              \`const NAME = VALUE;\` is inserted after the cell tagged "parameters" (as papermill
                              does); VALUE is read as JSON when it is JSON (1e-3, true, "text", [1, 2]), else as text
  -o, --output OUT.ipynb      write the executed notebook there (also when a cell fails: its error is saved in it)
  --html OUT.html             write the executed notebook as a self-contained HTML page
  --timeout SECONDS           stop a cell that runs longer (default: no limit)

Prints one line per cell to stderr. Exit code 0 when every cell ran, 1 when one failed (later cells are not run).`;

/** The `run` subcommand. */
export const command: Command = {
  summary: "execute a notebook headless (papermill-style parameters, -o OUT.ipynb, --html OUT.html)",
  run: async (argv) => {
    const { options, positional } = parseArgs(argv, { parameter: "strings", output: "string", html: "string", timeout: "number", help: "boolean" }, 1, {
      p: "parameter",
      o: "output",
      h: "help",
    });
    if (options.help) {
      console.log(USAGE);
      return 0;
    }
    const input = positional[0];
    if (!input) {
      console.error(`tsml run: which notebook?\n\n${USAGE}`);
      return 2;
    }
    const timeout = options.timeout;
    if (timeout !== undefined && !(timeout > 0)) throw new Error(`--timeout must be a positive number of seconds, got ${timeout}`);
    const values: Record<string, ParameterValue> = {};
    for (const text of options.parameter ?? []) {
      const [name, value] = parseParameter(text);
      values[name] = value;
    }
    const notebook = readNotebook(input);
    requireTsmlKernel(notebook, input);
    const { notebook: parameterised, undeclared } = injectParameters(notebook, values);
    if (undeclared.length) console.error(`tsml run: warning: the cell tagged "parameters" does not declare ${undeclared.join(", ")}`);
    const result = await executeNotebook(parameterised, {
      cwd: path.dirname(path.resolve(input)),
      cellTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
      onProgress: (progress) => console.error(describeProgress(progress)),
    });
    if (typeof options.output === "string") writeNotebook(options.output, result.notebook);
    if (typeof options.html === "string") {
      writeFileAtomic(options.html, notebookToHTML(result.notebook, path.basename(input)));
    }
    if (!result.failure) return 0;
    const { cellIndex, outcome } = result.failure;
    console.error(`tsml run: ${input}: cell ${cellIndex + 1} failed: ${outcome.error?.ename}: ${outcome.error?.evalue}`);
    return 1;
  },
};
