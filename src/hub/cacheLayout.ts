/**
 * The on-disk cache layout of Python's huggingface_hub, so tsml and Python share one cache:
 *
 *     <cacheDir>/models--<org>--<name>/
 *       blobs/<etag>                      file contents, named by the Hub's ETag (sha256 for LFS files, git sha1 otherwise)
 *       blobs/<etag>.incomplete           a download in progress (resumed from its length)
 *       refs/<revision>                   the commit a branch or tag pointed to (the 40-hex hash, no newline)
 *       snapshots/<commit>/<file>         relative symlink to ../../blobs/<etag>
 *       .no_exist/<commit>/<file>         empty marker: the repo has no such file at that commit
 *     <cacheDir>/.locks/models--<org>--<name>/<etag>.tsml-download/   tsml's lock of one blob's download
 */
import * as fs from "fs";
import * as path from "path";
import { ensureWritableFolder, pathInside, symlinkAtomic, writeFileAtomic } from "../io";

const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** True for a full 40-hex commit hash (a revision that never moves). */
export function isCommitHash(revision: string): boolean {
  return COMMIT_HASH.test(revision);
}

/** True when `id` is a valid model repo id: `name` or `org/name` ([A-Za-z0-9_.-], no `--` or `..`, at most 96 chars). */
export function isHubRepoId(id: string): boolean {
  return /^(?:[\w.-]+\/)?[\w.-]+$/.test(id) && !id.includes("--") && !id.includes("..") && id.length <= 96 && !/(^|\/)[.-]|[.-]($|\/)/.test(id);
}

/** The paths of one model repo inside a hub cache. */
export class RepoCache {
  /** `<cacheDir>/models--org--name`. */
  readonly folder: string;
  /** Set once the repo's folder has been checked to be writable (a cache that is only read may be read-only). */
  private writable = false;

  constructor(
    cacheDir: string,
    readonly repoId: string,
  ) {
    this.folder = path.join(cacheDir, ["models", ...repoId.split("/")].join("--"));
  }

  /** The file holding a content-addressed blob. */
  blobPath(etag: string): string {
    return path.join(this.folder, "blobs", etag);
  }

  /**
   * Checks, before the first write, that the repo's folder can be created (level by level: a recursive mkdir into a
   * path such as /proc/x never returns) and written to; an error names the cache.
   */
  checkWritable(): void {
    if (this.writable) return;
    ensureWritableFolder(this.folder, "Hugging Face Hub cache (cacheDir, HF_HUB_CACHE or HF_HOME)");
    this.writable = true;
  }

  /** The folder of the cross-process lock of one blob's download (in `.locks/`, which huggingface_hub's scanner skips). */
  blobLockFolder(etag: string): string {
    return path.join(path.dirname(this.folder), ".locks", path.basename(this.folder), `${etag}.tsml-download`);
  }

  /** The snapshot entry of `file` at `commit`. */
  pointerPath(commit: string, file: string): string {
    return path.join(this.folder, "snapshots", commit, ...file.split("/"));
  }

  /** The folder of the snapshot at `commit`. */
  snapshotFolder(commit: string): string {
    return path.join(this.folder, "snapshots", commit);
  }

  /** The file `refs/<revision>` (an error when the revision would name a path outside `refs/`). */
  refPath(revision: string): string {
    return pathInside(path.join(this.folder, "refs"), revision, "Hugging Face Hub: revision", true);
  }

  /** The commit `revision` resolves to from the cache alone: itself if a hash, else `refs/<revision>`. */
  cachedCommit(revision: string): string | undefined {
    if (isCommitHash(revision)) return revision;
    const ref = this.refPath(revision);
    try {
      const commit = fs.readFileSync(ref, "utf8");
      return isCommitHash(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records that `revision` (a branch or tag) points at `commit`; a commit hash needs no ref. */
  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const ref = this.refPath(revision);
    if (this.cachedCommit(revision) === commit) return;
    this.checkWritable();
    writeFileAtomic(ref, commit);
  }

  /** The cached file of `file` at `commit`, if present (symlink resolved). */
  cachedFile(commit: string, file: string): string | undefined {
    const pointer = this.pointerPath(commit, file);
    return fs.existsSync(pointer) ? pointer : undefined;
  }

  /** True when the cache records that the repo has no `file` at `commit`. */
  knownMissing(commit: string, file: string): boolean {
    return fs.existsSync(path.join(this.folder, ".no_exist", commit, ...file.split("/")));
  }

  /** Records that the repo has no `file` at `commit` (huggingface_hub reads the same marker). */
  markMissing(commit: string, file: string): void {
    const marker = path.join(this.folder, ".no_exist", commit, ...file.split("/"));
    this.checkWritable();
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    fs.closeSync(fs.openSync(marker, "a"));
  }

  /** Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative symlink (as huggingface_hub does), atomically. */
  link(commit: string, file: string, etag: string): string {
    const pointer = this.pointerPath(commit, file);
    this.checkWritable();
    fs.mkdirSync(path.dirname(pointer), { recursive: true });
    symlinkAtomic(path.relative(path.dirname(pointer), this.blobPath(etag)), pointer);
    return pointer;
  }
}
