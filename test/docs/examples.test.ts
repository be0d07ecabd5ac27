/**
 * Every `@example` in a doc comment under src/ compiles, as a notebook user would paste it: each example is its own
 * module importing from "tsml" (mapped to src/index.ts, "tsml/<area>" to src/<area>), type-checked with the project's
 * strict settings and top-level await allowed. Values an example assumes (a model, a dataset) are declared in it
 * with `declare const`. A broken example fails here with its file, line and the compiler's message.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { repoRoot } from "../helpers";

interface DocExample {
  /** The source file and line of the `@example` tag. */
  where: string;
  code: string;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The `@example` blocks of every doc comment in `file`, with their code fences removed. */
function examplesOf(file: string, root: string): DocExample[] {
  const text = fs.readFileSync(file, "utf8");
  const examples: DocExample[] = [];
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const lines = comment[0].split("\n").map((line) => line.replace(/^\s*\/?\*+\/?\s?/, "").replace(/\s*\*\/$/, ""));
    const firstLine = text.slice(0, comment.index).split("\n").length;
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i].startsWith("@example")) continue;
      const body: string[] = [];
      for (let j = i + 1; j < lines.length && !/^@\w/.test(lines[j]); j++) body.push(lines[j]);
      const code = body
        .filter((line) => !/^```/.test(line.trim()))
        .join("\n")
        .trim();
      examples.push({ where: `${path.relative(root, file)}:${firstLine + i}`, code });
    }
  }
  return examples;
}

describe("doc-comment examples", function () {
  this.timeout(120_000);

  it("every @example under src/ compiles against tsml's public entry points", () => {
    const root = repoRoot();
    const examples = sourceFiles(path.join(root, "src")).flatMap((file) => examplesOf(file, root));
    assert.ok(examples.length >= 3, `expected doc examples under src/ (found ${examples.length})`);
    const virtual = new Map(examples.map((example, i) => [path.join(root, `.doc-example-${i}.ts`), example]));
    for (const [, example] of virtual) {
      assert.match(example.code, /from "tsml(\/[a-z]+)?"/, `${example.where}: an example imports what it uses from "tsml"`);
    }
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ES2022,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ["lib.es2022.d.ts"],
      types: ["node"],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      esModuleInterop: true,
      resolveJsonModule: true,
      baseUrl: root,
      paths: {
        tsml: ["src/index.ts"],
        "tsml/*": ["src/*/index.ts", "src/*"],
        "vega-lite": ["node_modules/vega-lite/build/index.d.ts"],
      },
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.readFile = (name) => virtual.get(path.resolve(name))?.code ?? readFile(name);
    host.fileExists = (name) => virtual.has(path.resolve(name)) || fileExists(name);
    host.getSourceFile = (name, language, onError, create) => {
      const example = virtual.get(path.resolve(name));
      return example ? ts.createSourceFile(name, example.code, language) : getSourceFile(name, language, onError, create);
    };
    const program = ts.createProgram([...virtual.keys()], options, host);
    const problems: string[] = [];
    let checked = 0;
    for (const [file, example] of virtual) {
      const source = program.getSourceFile(file);
      assert.ok(source, `${example.where}: not compiled`);
      for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
        const line = d.start !== undefined ? source.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
        problems.push(`${example.where} (example line ${line}): ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
      }
      checked++;
    }
    assert.equal(checked, examples.length);
    assert.deepEqual(problems, [], `doc examples that do not compile:\n${problems.join("\n")}`);
  });
});
