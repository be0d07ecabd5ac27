/** Crash-safe file writes and links: make a temporary file (or link) beside the target, then rename over the target. */
import * as fs from "fs";
import * as path from "path";
import { createFolder } from "./folders";

/** Writes `data` to `file` atomically: readers see the old file or the whole new one, never a torn write. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  createFolder(dir, `cannot write ${file}: its folder`);
  const temp = temporaryBeside(file);
  try {
    const fd = fs.openSync(temp, "w");
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (e) {
    // A full disk (ENOSPC) or any other failure leaves the old file as it was and no temporary file behind.
    fs.rmSync(temp, { force: true });
    const err = e as NodeJS.ErrnoException;
    throw Object.assign(new Error(`cannot write ${file}: ${err.message}`), { code: err.code });
  }
}

/** Atomically writes `value` as pretty-printed JSON with a trailing newline. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
}

/**
 * Points `file` at `target` with a symbolic link, atomically: readers see the old link or the new one, and processes
 * that link one file at once each replace it whole (removing it, then linking, lets two of them collide: EEXIST).
 */
export function symlinkAtomic(target: string, file: string): void {
  const temp = temporaryBeside(file);
  fs.symlinkSync(target, temp);
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/** A temporary name beside `file` for replacing it: `.<name>.<pid>.<ms>.tmp` (what resume cleans up after a crash). */
function temporaryBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
}
