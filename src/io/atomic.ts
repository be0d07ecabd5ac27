/** Crash-safe file writes: write a temporary file beside the target, fsync it, then rename over the target. */
import * as fs from "fs";
import * as path from "path";
import { createFolder } from "./folders";

/** Writes `data` to `file` atomically: readers see the old file or the whole new one, never a torn write. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  createFolder(dir, `cannot write ${file}: its folder`);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(temp, "w");
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
}

/** Atomically writes `value` as pretty-printed JSON with a trailing newline. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
}
