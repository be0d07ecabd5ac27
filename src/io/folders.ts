/** Output folders: created one level at a time (never a recursive mkdir) and, up front, probed with a real write. */
import * as fs from "fs";
import * as path from "path";

/**
 * Creates `dir` and its missing parents one level at a time, each level once, so any failure is reported: unlike
 * a recursive mkdir, which loops forever on procfs (/proc answers ENOENT). Errors name `what` and the folder.
 */
export function createFolder(dir: string, what: string): string {
  const target = path.resolve(dir);
  const missing: string[] = [];
  let existing = target;
  while (!fs.existsSync(existing)) {
    missing.unshift(existing);
    const up = path.dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  if (fs.existsSync(existing) && !fs.statSync(existing).isDirectory()) throw new Error(`${what} ${dir}: ${existing} is a file, not a folder`);
  for (const folder of missing) {
    try {
      fs.mkdirSync(folder);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== "EEXIST") throw new Error(`${what} ${dir}: cannot create the folder ${folder} (${e.code ?? e.message})`);
    }
  }
  return target;
}

/**
 * Creates `dir` (see createFolder) and checks that files can be written in it, so a bad output folder is found
 * before any work is done. Errors name `what` (e.g. "--reports-dir") and the folder.
 */
export function ensureWritableFolder(dir: string, what: string): string {
  const target = createFolder(dir, what);
  const probe = path.join(target, `.tsml-write-probe.${process.pid}`);
  try {
    fs.writeFileSync(probe, "");
    fs.rmSync(probe, { force: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`${what} ${dir}: cannot write files in ${target} (${e.code ?? e.message})`);
  }
  return target;
}
