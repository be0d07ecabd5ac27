/**
 * The public API: `tsml` exports by name every name the README, the notebooks and environment.md import from it, and
 * each subpath entry point of package.json "exports" loads and has matching types for the kernel's type checker.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "../helpers";

const ROOT = repoRoot();

/** The text of the README, environment.md and every notebook's cells. */
function userFacingTexts(): Map<string, string> {
  const texts = new Map<string, string>();
  for (const file of ["README.md", "environment.md"]) texts.set(file, fs.readFileSync(path.join(ROOT, file), "utf8"));
  for (const file of fs.readdirSync(path.join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb"))) {
    const notebook = JSON.parse(fs.readFileSync(path.join(ROOT, "notebooks", file), "utf8")) as { cells: { source: string | string[] }[] };
    texts.set(`notebooks/${file}`, notebook.cells.map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source)).join("\n"));
  }
  return texts;
}

/** Names imported with `import { a, b as c, type D } from "<specifier>"` in `text` (module `specifier`). */
function importedNames(text: string, specifier: string): string[] {
  const pattern = new RegExp(`import\\s*(?:type\\s*)?\\{([^}]*)\\}\\s*from\\s*["']${specifier.replace("/", "\\/")}["']`, "g");
  return [...text.matchAll(pattern)]
    .flatMap((m) =>
      m[1].split(",").map((n) =>
        n
          .trim()
          .replace(/^type\s+/, "")
          .split(/\s+as\s+/)[0]
          .trim(),
      ),
    )
    .filter((n) => /^\w+$/.test(n));
}

describe("architecture: the public API", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    exports: Record<string, string | { types: string; default: string }>;
    typesVersions: Record<string, Record<string, string[]>>;
  };

  it("tsml exports every name the README, environment.md and the notebooks import from it", () => {
    const tsml = require(path.join(ROOT, "dist", "src", "index.js")) as Record<string, unknown>;
    const declarations = fs.readFileSync(path.join(ROOT, "dist", "src", "index.d.ts"), "utf8");
    const missing: string[] = [];
    let checked = 0;
    for (const [file, text] of userFacingTexts()) {
      for (const name of importedNames(text, "tsml")) {
        checked++;
        // A value is on the module; a type only in the declarations.
        if (!(name in tsml) && !new RegExp(`\\b${name}\\b`).test(declarations)) missing.push(`${file}: ${name}`);
      }
    }
    assert.ok(checked > 30, `${checked} imports read`);
    assert.deepEqual(missing, []);
  });

  it("tsml names its exports (no `export *`), a curated list", () => {
    const source = fs.readFileSync(path.join(ROOT, "src", "index.ts"), "utf8");
    assert.doesNotMatch(source, /export \*/);
    const values = Object.keys(require(path.join(ROOT, "dist", "src", "index.js")));
    assert.ok(values.length > 50 && values.length < 150, `${values.length} values`);
  });

  it("every subpath entry point loads, and the kernel's type checker (typesVersions) finds the same declarations", () => {
    const subpaths = Object.keys(manifest.exports).filter((key) => key.startsWith("./") && key !== "./package.json");
    assert.ok(subpaths.length >= 8, subpaths.join(", "));
    for (const subpath of subpaths) {
      const target = manifest.exports[subpath] as { types: string; default: string };
      const loaded = require(`tsml/${subpath.slice(2)}`) as Record<string, unknown>;
      assert.ok(Object.keys(loaded).length > 0, `tsml/${subpath.slice(2)} exports something`);
      assert.equal(require.resolve(`tsml/${subpath.slice(2)}`), path.join(ROOT, target.default));
      assert.deepEqual(manifest.typesVersions["*"][subpath.slice(2)], [target.types.slice(2)], `typesVersions of ${subpath}`);
      assert.ok(fs.existsSync(path.join(ROOT, target.types)), target.types);
    }
  });
});
