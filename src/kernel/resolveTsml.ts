/**
 * Makes `import ... from "tsml"` resolve to THIS install in a notebook in any directory, for both the type checker
 * and the runtime, and lets packages this install depends on (vega-lite, @tensorflow/tfjs, ...) be imported from
 * notebooks that have no node_modules of their own.
 *
 * Type checking: tslab's compiler reads files through `ts.sys`; paths under `<cwd>/node_modules/tsml` are forwarded
 * to the package root, and `<cwd>/node_modules/<pkg>` falls back to `<package root>/node_modules/<pkg>` when the
 * notebook's folder has no such package. The compiler in tslab resolves like Node 10 and ignores package.json
 * "exports", so packages that declare their types only there (vega-lite 6) get a top-level "types" added. Runtime: see modules.ts, which applies the same rule to `require`.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "@tslab/typescript-for-tslab";
import { TSML_PACKAGE_NAME } from "../package";

/** Maps a path the compiler asks for under `<cwd>/node_modules` to where the file really is. */
export function createPathForwarder(cwd: string, packageRoot: string): (p: string) => string {
  const notebookModules = path.join(cwd, "node_modules");
  const installModules = path.join(packageRoot, "node_modules");
  return (p: string) => {
    const rel = path.relative(notebookModules, p);
    if (!rel || rel.startsWith("..") || path.isAbsolute(rel)) return p;
    const [first, second] = rel.split(path.sep);
    if (first === TSML_PACKAGE_NAME) return path.join(packageRoot, path.relative(TSML_PACKAGE_NAME, rel));
    if (first === "@types" || first === "tslab") return p;
    const packageDir = path.join(notebookModules, first.startsWith("@") && second ? path.join(first, second) : first);
    return fs.existsSync(packageDir) ? p : path.join(installModules, rel);
  };
}

/** Patches tslab's `ts.sys` (before its converter is created) so the compiler sees the forwarded paths. */
export function installTsmlTypeResolution(cwd: string, packageRoot: string): void {
  const forward = createPathForwarder(cwd, packageRoot);
  const sys = ts.sys;
  const { fileExists, readFile, directoryExists, getDirectories, readDirectory, realpath } = sys;
  sys.fileExists = (p) => fileExists.call(sys, forward(p));
  sys.readFile = (p, encoding) => {
    const text = readFile.call(sys, forward(p), encoding);
    return text !== undefined && /[/\\]node_modules[/\\].*package\.json$/.test(p) ? withTypesFromExports(text) : text;
  };
  sys.directoryExists = (p) => directoryExists.call(sys, forward(p));
  sys.getDirectories = (p) => getDirectories.call(sys, forward(p));
  sys.readDirectory = (p, ...rest) => readDirectory.call(sys, forward(p), ...rest);
  sys.realpath = (p) => {
    const target = forward(p);
    return realpath ? realpath.call(sys, target) : target;
  };
}

/** Adds a top-level "types" to a package.json whose types are declared only in "exports" (vega-lite 6). */
export function withTypesFromExports(packageJson: string): string {
  let manifest: { types?: unknown; typings?: unknown; exports?: unknown };
  try {
    manifest = JSON.parse(packageJson) as typeof manifest;
  } catch {
    return packageJson;
  }
  if (manifest.types || manifest.typings || !manifest.exports) return packageJson;
  const root = (manifest.exports as Record<string, unknown>)["."] ?? manifest.exports;
  const types = typesCondition(root);
  return types ? JSON.stringify({ ...manifest, types }) : packageJson;
}

function typesCondition(entry: unknown): string | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const conditions = entry as Record<string, unknown>;
  if (typeof conditions.types === "string") return conditions.types;
  for (const key of ["import", "node", "default", "require"]) {
    const found = typesCondition(conditions[key]);
    if (found) return found;
  }
  return undefined;
}
