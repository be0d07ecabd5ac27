/** Shared test utilities: locating the repository and its golden fixtures (test/fixtures). */
import * as fs from "fs";
import * as path from "path";

/** The repository root (the folder holding package.json), found from the compiled test's location. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** Path inside the repository's golden fixtures, `test/fixtures` (see test/fixtures/README.md). */
export function fixturePath(...parts: string[]): string {
  const p = path.join(repoRoot(), "test", "fixtures", ...parts);
  if (!fs.existsSync(p)) throw new Error(`fixture not found: ${p} (the repository carries its fixtures in test/fixtures)`);
  return p;
}

/** A fresh temporary directory, removed by the caller or left for the OS. */
export function tempDir(prefix = "tsml-test-"): string {
  return fs.mkdtempSync(path.join(require("os").tmpdir(), prefix));
}
