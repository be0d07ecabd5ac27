/** Output folders checked up front: created one level at a time and probed with a real write. */
import * as fs from "fs";
import * as path from "path";

/**
 * Creates `dir` (and missing parents) and checks that files can be written in it, so a bad output folder is found
 * before any work is done. Errors name `what` (e.g. "--reports-dir") and the folder. Unlike a recursive mkdir, which
 * loops forever on procfs (/proc answers ENOENT), every level is created once and any failure is reported.
 */
export function ensureWritableFolder(dir: string, what: string): string {
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
