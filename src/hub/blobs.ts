/**
 * Blobs of the shared cache under concurrency and corruption: one process at a time downloads a blob (a lock per
 * blob; the others wait and then use the finished file), and a cached blob's size and hash are checked before its
 * first use in each process (a blob changed on disk since, a flipped byte included, is named with the fix).
 */
import * as fs from "fs";
import * as path from "path";
import { acquireFolderLock, FolderLockedError } from "../supervision";
import { verifyContent } from "./http";

/** The blobs verified by this process, each with the identity (device, inode, size, mtime) it had then. */
const verifiedThisProcess = new Map<string, string>();

function identity(file: string): string {
  const stat = fs.statSync(file, { bigint: true });
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`;
}

/** Records that `blob` was just verified (after its download), so its first use needs no second hash. */
export function recordVerified(blob: string): void {
  verifiedThisProcess.set(blob, identity(blob));
}

/**
 * Checks the blob behind the snapshot entry `pointer` against its name (the ETag: sha256 or git sha1, which covers
 * the size) once per process, and again only if the file changed since; throws naming the blob and the fix.
 */
export async function verifyCachedBlob(pointer: string, what: string): Promise<string> {
  const blob = fs.realpathSync(pointer);
  const current = identity(blob);
  if (verifiedThisProcess.get(blob) === current) return pointer;
  const problem = await verifyContent(blob, path.basename(blob), fs.statSync(blob).size);
  if (problem)
    throw new Error(`Hugging Face Hub: ${what}: the cached file ${blob} is damaged (${problem}); delete it (rm ${blob}) and load again to download it anew`);
  verifiedThisProcess.set(blob, current);
  return pointer;
}

/** Options of `fetchBlobOnce`. */
export interface BlobFetch {
  /** The finished blob. */
  blob: string;
  /** The partial file another process appends to while it downloads. */
  incomplete: string;
  /** The folder holding the blob's lock. */
  lockDir: string;
  /** Names the file in messages. */
  what: string;
  /** Give up waiting for another process whose partial file has not grown for this long. */
  stallSeconds: number;
  /** Downloads and verifies the blob into place (run only while this process holds the lock). */
  download: () => Promise<void>;
}

/**
 * Makes sure `blob` exists: downloads it under the blob's cross-process lock, or waits while another live process
 * holds that lock and then uses the blob it finished (or takes over when it died or gave up).
 */
export async function fetchBlobOnce(options: BlobFetch): Promise<void> {
  let lastSize = -1;
  let lastChange = Date.now();
  while (!fs.existsSync(options.blob)) {
    let lock;
    try {
      lock = acquireFolderLock(options.lockDir, { purpose: `download of ${options.what}` });
    } catch (e) {
      if (!(e instanceof FolderLockedError)) throw e;
      const size = fs.statSync(options.incomplete, { throwIfNoEntry: false })?.size ?? 0;
      if (size !== lastSize) [lastSize, lastChange] = [size, Date.now()];
      if (Date.now() - lastChange > options.stallSeconds * 1000) {
        throw new Error(
          `Hugging Face Hub: ${options.what}: pid ${e.owner.pid} has been downloading it for the same cache without progress for ${options.stallSeconds} s; stop that process or try again later`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    try {
      if (!fs.existsSync(options.blob)) await options.download();
    } finally {
      lock.release();
    }
  }
  removeEmptyLockFolders(options.lockDir);
}

/**
 * Removes a finished download's lock folder and its empty parents up to `.locks`, so that a cache holds only what
 * huggingface_hub's own layout has (its older scanners report a leftover `.locks` as an invalid repo). A folder
 * another process is using is not empty and stays.
 */
function removeEmptyLockFolders(lockDir: string): void {
  let dir = lockDir;
  for (let level = 0; level < 3; level++, dir = path.dirname(dir)) {
    try {
      fs.rmdirSync(dir);
    } catch {
      return;
    }
  }
}
