/** Locating this tsml install (kept free of heavy imports: the package index loads it). */
import * as fs from "fs";
import * as path from "path";

/** The name notebooks import this package by. */
export const TSML_PACKAGE_NAME = "tsml";

/** The root of this tsml install (the folder with its package.json). */
export function tsmlPackageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: unknown }).name === TSML_PACKAGE_NAME) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json named "${TSML_PACKAGE_NAME}" above ${__dirname}`);
    dir = up;
  }
}

/** The version in this install's package.json. */
export function tsmlPackageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(tsmlPackageRoot(), "package.json"), "utf8")) as { version: string }).version;
}
