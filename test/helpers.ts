/** Shared test utilities: locating the repository and the read-only fixtures in ../shared. */
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

/** Path inside `../shared/fixtures` beside the checkout (override with TSML_SHARED). */
export function fixturePath(...parts: string[]): string {
  const shared = process.env.TSML_SHARED ?? path.resolve(repoRoot(), "..", "shared");
  const p = path.join(shared, "fixtures", ...parts);
  if (!fs.existsSync(p)) throw new Error(`fixture not found: ${p} (set TSML_SHARED to the shared/ folder)`);
  return p;
}

/** A fresh temporary directory, removed by the caller or left for the OS. */
export function tempDir(prefix = "tsml-test-"): string {
  return fs.mkdtempSync(path.join(require("os").tmpdir(), prefix));
}
