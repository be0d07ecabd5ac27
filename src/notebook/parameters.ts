/**
 * Notebook parameters with papermill's conventions: the cell tagged `parameters` holds the defaults, and a cell
 * tagged `injected-parameters` right after it (replacing an earlier injected one) sets the values given.
 */
import { randomUUID } from "crypto";
import { Notebook, NotebookCell, cellSource, copyNotebook } from "./format";

/** The tag of the cell with the defaults, and of the cell tsml inserts. */
export const PARAMETERS_TAG = "parameters";
/** Tag of the cell that `injectParameters` adds after the parameters cell. */
export const INJECTED_PARAMETERS_TAG = "injected-parameters";

/** A parameter value: what JSON can write. */
export type ParameterValue = string | number | boolean | null | ParameterValue[] | { [key: string]: ParameterValue };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Parses `NAME=VALUE` as `-p` gives it: VALUE is read as JSON when it is JSON (numbers, true, false, null, "quoted",
 * [lists], {objects}), else taken as a string, as papermill does for Python literals.
 */
export function parseParameter(text: string): [string, ParameterValue] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new Error(`parameter ${JSON.stringify(text)} is not NAME=VALUE`);
  const name = text.slice(0, eq).trim();
  if (!IDENTIFIER.test(name)) throw new Error(`parameter name ${JSON.stringify(name)} is not a TypeScript identifier`);
  const raw = text.slice(eq + 1);
  try {
    return [name, JSON.parse(raw) as ParameterValue];
  } catch {
    return [name, raw];
  }
}

/** The names a parameters cell declares (`const`, `let` or `var` at the start of a line). */
export function declaredParameters(cell: NotebookCell): string[] {
  const names: string[] = [];
  for (const match of cellSource(cell).matchAll(/^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][A-Za-z0-9_$]*)/gm)) names.push(match[1]);
  return names;
}

/** The result of injecting: the new notebook, and the names given that the parameters cell does not declare. */
export interface InjectedParameters {
  notebook: Notebook;
  undeclared: string[];
}

/**
 * A copy of `nb` with a cell tagged `injected-parameters` that sets `values`, right after the cell tagged
 * `parameters` (or first, when there is none), replacing an earlier injected cell. With no values, `nb` is copied.
 */
export function injectParameters(nb: Notebook, values: Record<string, ParameterValue>): InjectedParameters {
  const notebook = copyNotebook(nb);
  const names = Object.keys(values);
  if (names.length === 0) return { notebook, undeclared: [] };
  for (const name of names) if (!IDENTIFIER.test(name)) throw new Error(`parameter name ${JSON.stringify(name)} is not a TypeScript identifier`);
  notebook.cells = notebook.cells.filter((c) => !hasTag(c, INJECTED_PARAMETERS_TAG));
  const parametersAt = notebook.cells.findIndex((c) => c.cell_type === "code" && hasTag(c, PARAMETERS_TAG));
  const declared = parametersAt >= 0 ? declaredParameters(notebook.cells[parametersAt]) : [];
  const lines = ["// Parameters", ...names.map((name) => `const ${name} = ${JSON.stringify(values[name])};`)];
  const injected: NotebookCell = {
    cell_type: "code",
    metadata: { tags: [INJECTED_PARAMETERS_TAG] },
    source: lines.join("\n"),
    outputs: [],
    execution_count: null,
  };
  if (notebook.nbformat_minor >= 5) injected.id = randomUUID().slice(0, 8);
  notebook.cells.splice(parametersAt + 1, 0, injected);
  return { notebook, undeclared: names.filter((n) => !declared.includes(n)) };
}

/** True when the cell carries `tag` in metadata.tags. */
export function hasTag(cell: NotebookCell, tag: string): boolean {
  return Array.isArray(cell.metadata.tags) && cell.metadata.tags.includes(tag);
}
