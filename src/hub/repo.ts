/**
 * Files of one Hub model repo at one revision, resolved to paths in the shared cache like Python's
 * `hf_hub_download`: the first file pins the revision to its commit, so every file comes from the same
 * snapshot folder, and files already in that snapshot (or known to be missing) need no request at all.
 * Offline (HF_HUB_OFFLINE=1 or `localFilesOnly`), or when the network cannot be reached, files come from
 * the cache alone and an error says exactly what is missing.
 */
import * as fs from "fs";
import { fetchBlobOnce, recordVerified, verifyCachedBlob } from "./blobs";
import { RepoCache, isCommitHash, isHubRepoId } from "./cacheLayout";
import { HubEntryNotFound, HubUnreachable, downloadVerified, fileMetadata } from "./http";
import { HubOptions, HubSettings, hubSettings } from "./settings";

/** One model repo at one revision, its files fetched on demand into the cache. */
export class HubRepo {
  private readonly settings: HubSettings;
  private readonly cache: RepoCache;
  /** The commit the revision resolved to (set by the first file). */
  private commit: string | undefined;

  /** A repo (`org/name`) with `options` merged over the environment; nothing is fetched yet. */
  constructor(
    readonly repoId: string,
    private readonly options: HubOptions = {},
  ) {
    if (!isHubRepoId(repoId))
      throw new Error(`Hugging Face Hub: ${JSON.stringify(repoId)} is not a repo id (expected "name" or "org/name" of letters, digits, "-", "_", ".")`);
    this.settings = hubSettings(options);
    this.cache = new RepoCache(this.settings.cacheDir, repoId);
    if (isCommitHash(this.settings.revision)) this.commit = this.settings.revision;
    else this.cache.refPath(this.settings.revision); // a revision such as "../../x" is refused before any request
  }

  /** The snapshot folder holding the files fetched so far (known once a file has been resolved). */
  get folder(): string {
    if (!this.commit) throw new Error(`Hugging Face Hub: ${this.repoId}: no file resolved yet`);
    return this.cache.snapshotFolder(this.commit);
  }

  /**
   * Path of the first of `candidates` the repo has, downloading it if needed; an error naming them all when it has
   * none (or, offline, when none is cached).
   */
  async file(...candidates: string[]): Promise<string> {
    const reasons: string[] = [];
    for (const file of candidates) {
      const found = await this.resolve(file);
      if (found.path) return found.path;
      if (found.notCached) reasons.push(found.notCached);
    }
    const names = candidates.length === 1 ? candidates[0] : `any of ${candidates.join(", ")}`;
    const revision = `at revision ${this.settings.revision}`;
    if (reasons.length > 0) throw new Error(`Hugging Face Hub: ${this.repoId}: ${names} ${revision} is not cached: ${reasons[0]}`);
    throw new Error(`Hugging Face Hub: ${this.repoId}: the repo has no ${names} ${revision}`);
  }

  /** Path of `file` in the cache, downloading it if needed; undefined when the repo has no such file (or, offline, it is not cached). */
  async fileIfPresent(file: string): Promise<string | undefined> {
    return (await this.resolve(file)).path;
  }

  /** Resolves `file`: its cached path, or why not (no `notCached`: the repo has no such file). */
  private async resolve(file: string): Promise<{ path?: string; notCached?: string }> {
    if (this.commit) {
      const cached = this.cache.cachedFile(this.commit, file);
      if (cached) return { path: await this.verified(cached, file) };
      if (this.cache.knownMissing(this.commit, file)) return {};
    }
    if (this.settings.offline) return this.fromCache(file, "offline mode (HF_HUB_OFFLINE=1 or localFilesOnly) allows no download");
    const revision = this.commit ?? this.settings.revision;
    const ref = { repoId: this.repoId, file, revision };
    let meta;
    try {
      meta = await fileMetadata(this.settings.endpoint, ref, this.settings.token, {
        seconds: this.settings.etagTimeoutSeconds,
        variable: "HF_HUB_ETAG_TIMEOUT",
      });
    } catch (e) {
      if (e instanceof HubEntryNotFound) {
        if (e.commit) {
          this.pin(e.commit);
          this.cache.markMissing(e.commit, file);
        }
        return {};
      }
      if (e instanceof HubUnreachable) return this.fromCache(file, e.message);
      throw e;
    }
    this.pin(meta.commit);
    const cached = this.cache.cachedFile(meta.commit, file);
    if (cached) return { path: await this.verified(cached, file) };
    const blob = this.cache.blobPath(meta.etag);
    const incomplete = `${blob}.incomplete`;
    const timeout = { seconds: this.settings.downloadTimeoutSeconds, variable: "HF_HUB_DOWNLOAD_TIMEOUT" as const };
    this.cache.checkWritable();
    await fetchBlobOnce({
      blob,
      incomplete,
      lockDir: this.cache.blobLockFolder(meta.etag),
      what: `${this.repoId}: ${file}`,
      stallSeconds: 6 * timeout.seconds,
      download: async () => {
        fs.mkdirSync(this.cache.blobPath(""), { recursive: true });
        await downloadVerified({
          meta,
          ref,
          token: this.settings.token,
          incomplete,
          progress: this.settings.progress,
          onProgress: this.options.onProgress,
          timeout,
        });
        fs.renameSync(incomplete, blob);
        recordVerified(blob);
      },
    });
    return { path: await this.verified(this.cache.link(meta.commit, file, meta.etag), file) };
  }

  /** `pointer` once its blob has been checked in this process (see verifyCachedBlob). */
  private verified(pointer: string, file: string): Promise<string> {
    return verifyCachedBlob(pointer, `${this.repoId}: ${file}`);
  }

  /** Fixes the commit every later file is fetched at, and records the revision's ref as huggingface_hub does. */
  private pin(commit: string): void {
    if (this.commit && this.commit !== commit) {
      throw new Error(`Hugging Face Hub: ${this.repoId}: revision ${this.settings.revision} moved from ${this.commit} to ${commit} during loading; run again`);
    }
    this.commit = commit;
    this.cache.writeRef(this.settings.revision, commit);
  }

  /** The cached `file` at the revision's cached commit, or why it is not there (and why there was no download). */
  private async fromCache(file: string, why: string): Promise<{ path?: string; notCached?: string }> {
    const commit = this.commit ?? this.cache.cachedCommit(this.settings.revision);
    const where = `the cache ${this.cache.folder}`;
    if (!commit) {
      const ref = this.cache.refPath(this.settings.revision);
      let text = "";
      try {
        text = fs.readFileSync(ref, "utf8").trim();
      } catch {
        text = "";
      }
      if (text !== "")
        return {
          notCached: `${why}, and ${ref} holds ${JSON.stringify(text.slice(0, 60))}, not a 40-hex commit hash (delete it; the next online load writes it again)`,
        };
      return { notCached: `${why}, and ${where} has no refs/${this.settings.revision} (the repo was never downloaded at this revision)` };
    }
    this.commit = commit;
    const cached = this.cache.cachedFile(commit, file);
    if (cached) return { path: await this.verified(cached, file) };
    if (this.cache.knownMissing(commit, file)) return {};
    return { notCached: `${why}, and snapshot ${commit} in ${where} has no ${file}` };
  }
}
