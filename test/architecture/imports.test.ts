/**
 * The import graph of src/ (read from the TypeScript sources with the compiler's own pre-processor: every
 * `import`, `import type`, `export ... from`, `require()` and `import()` of a relative path): no file imports
 * itself back through others, and the folders import strictly downward in the layer order below.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const SRC = path.resolve(__dirname, "../../../src");

/**
 * The folders of src/, top to bottom: a folder imports only folders of lower layers (never one of its own layer or
 * above). Derived from the import graph once its circles were gone (each folder sits one layer above the highest it
 * imports); src/index.ts, the package's entry point, stands above them all. A new folder goes into the highest
 * layer it may sit in without importing upward.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["cli"],
  ["classroom", "study"],
  ["notebook", "plan", "queue", "widgets"],
  ["experiments", "models", "plots", "tokenizers"],
  ["hub", "kernel", "train"],
  ["backend", "data", "stats", "supervision"],
  ["display", "io", "package", "random", "util"],
];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The file a relative specifier resolves to (X.ts, X/index.ts, or X.json as written), or undefined. */
function resolveRelative(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  return [base, `${base}.ts`, path.join(base, "index.ts")].find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile());
}

/** Every src file (relative to src/) with the src files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    const targets = info.importedFiles
      .map((ref) => ref.fileName)
      .filter((specifier) => specifier.startsWith("."))
      .map((specifier) => {
        const target = resolveRelative(file, specifier);
        if (!target) throw new Error(`${path.relative(SRC, file)}: cannot resolve import "${specifier}"`);
        return path.relative(SRC, target);
      })
      .filter((target) => target.endsWith(".ts"));
    graph.set(path.relative(SRC, file), [...new Set(targets)]);
  }
  return graph;
}

/** The strongly connected components of more than one node (or a node importing itself): Tarjan's algorithm. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let top = stack.pop()!; ; top = stack.pop()!) {
      onStack.delete(top);
      component.push(top);
      if (top === node) break;
    }
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return found;
}

/** The folder of a file relative to src/ ("." for src/index.ts). */
const folderOf = (file: string): string => (file.includes(path.sep) ? file.split(path.sep)[0] : ".");

describe("architecture: imports run in one direction", () => {
  const graph = importGraph();

  it("reads the whole of src/ (every folder, hundreds of imports)", () => {
    const folders = new Set([...graph.keys()].map(folderOf));
    assert.ok(folders.size >= LAYERS.flat().length, `${folders.size} folders`);
    const edges = [...graph.values()].reduce((n, targets) => n + targets.length, 0);
    assert.ok(edges > 300, `${edges} imports`);
  });

  it("has no import cycle between files, within a folder or across folders", () => {
    assert.deepEqual(cycles(graph), []);
  });

  it("detects a cycle (the check can fail)", () => {
    assert.deepEqual(
      cycles(
        new Map([
          ["a.ts", ["b.ts"]],
          ["b.ts", ["c.ts"]],
          ["c.ts", ["a.ts"]],
          ["d.ts", ["a.ts"]],
        ]),
      ),
      [["a.ts", "b.ts", "c.ts"]],
    );
  });

  it("every folder of src/ has a layer, and each imports only folders of lower layers", () => {
    const layerOf = new Map(LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer] as const)));
    const folders = [...new Set([...graph.keys()].map(folderOf))].filter((f) => f !== ".").sort();
    const unlisted = folders.filter((folder) => !layerOf.has(folder));
    assert.deepEqual(unlisted, [], `src/ folders missing from LAYERS in ${__filename.replace(/\.js$/, ".ts")}`);
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      if (from === ".") continue;
      for (const target of targets) {
        const to = folderOf(target);
        if (to !== from && layerOf.get(to)! <= layerOf.get(from)!) upward.push(`src/${file} imports src/${target} (${from} is not above ${to})`);
      }
    }
    assert.deepEqual(upward, []);
  });
});
