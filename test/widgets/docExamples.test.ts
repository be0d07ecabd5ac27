/** The `@example` of every module doc comment in src/widgets type-checks as a notebook cell importing "tsml". */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { repoRoot, tempDir } from "../helpers";

/** The code after `@example` in `source`'s doc comments, one string per example. */
function examples(source: string): string[] {
  return [...source.matchAll(/@example\n((?: \*.*\n)+?) \*\//g)].map((m) => m[1].split("\n").map((line) => line.replace(/^ \* ?/, "")).join("\n"));
}

describe("widgets: doc-comment examples", function () {
  this.timeout(120_000);

  it("every module's @example compiles against tsml's types", () => {
    const dir = path.join(repoRoot(), "src", "widgets");
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ts")).sort();
    const out = tempDir("tsml-widget-examples-");
    const written: string[] = [];
    for (const file of files) {
      examples(fs.readFileSync(path.join(dir, file), "utf8")).forEach((code, i) => {
        const target = path.join(out, `${path.basename(file, ".ts")}-${i}.ts`);
        fs.writeFileSync(target, `export {};\n${code}`);
        written.push(target);
      });
    }
    const documented = ["controls", "dashboard", "interact", "link", "output"];
    assert.deepStrictEqual(written.map((f) => path.basename(f, ".ts").replace(/-\d+$/, "")), documented, "one example per public module");
    const program = ts.createProgram(written, {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      skipLibCheck: true,
      resolveJsonModule: true,
      lib: ["lib.es2022.d.ts"],
      types: ["node"],
      typeRoots: [path.join(repoRoot(), "node_modules", "@types")],
      baseUrl: repoRoot(),
      paths: { tsml: ["src/index.ts"], "vega-lite": ["node_modules/vega-lite/build/index.d.ts"] },
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && written.includes(path.resolve(d.file.fileName)))
      .map((d) => `${path.basename(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    assert.deepStrictEqual(problems, []);
  });
});
