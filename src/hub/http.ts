/**
 * The Hub's HTTP protocol for one file, as huggingface_hub speaks it: `HEAD {endpoint}/{repo}/resolve/{revision}/{file}`
 * (redirects not followed) gives the commit (X-Repo-Commit), the content hash (X-Linked-Etag or ETag), the size
 * (X-Linked-Size or Content-Length) and, for large files, a redirect to the blob's URL; a GET of that URL (with
 * `Range: bytes=N-` to resume) downloads it. Errors name the repo, the file and the revision; the token is
 * sent only in the Authorization header and never appears in a message.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import { DownloadProgress } from "./progress";
import type { HubProgressEvent } from "./settings";

/** What the Hub says about one file. */
export interface HubFileMetadata {
  commit: string;
  /** Normalised ETag: the sha256 of an LFS file, the git blob sha1 of a regular file. */
  etag: string;
  size: number;
  /** Where to GET the bytes (the blob URL after a redirect, else the resolve URL). */
  location: string;
  /** False when the bytes come from another address than the resolve URL (the token stays with the Hub). */
  sendToken: boolean;
}

/** The repo has no such file at that revision (HTTP 404 EntryNotFound); `commit` is the revision's commit. */
export class HubEntryNotFound extends Error {
  constructor(
    message: string,
    readonly commit: string | undefined,
  ) {
    super(message);
  }
}

/** The network could not be reached (as opposed to an answer from the Hub). */
export class HubUnreachable extends Error {}

/** Identifies one file request in messages. */
export interface HubFileRef {
  repoId: string;
  file: string;
  revision: string;
}

function describe(ref: HubFileRef): string {
  return `${ref.repoId}: ${ref.file} at revision ${ref.revision}`;
}

/** huggingface_hub's ETag normalisation (drop a weak `W/` prefix and the quotes). */
function normaliseEtag(etag: string | null): string | undefined {
  return etag ? etag.replace(/^W\//, "").replace(/^"|"$/g, "") : undefined;
}

/** How long a request may wait for the Hub, and the environment variable that sets it (named in the error). */
export interface HubTimeout {
  seconds: number;
  variable: "HF_HUB_ETAG_TIMEOUT" | "HF_HUB_DOWNLOAD_TIMEOUT";
}

/** The message of a request that got no answer (or no data) within `timeout`. */
function timeoutMessage(url: string, ref: HubFileRef, timeout: HubTimeout, what: string): string {
  return `Hugging Face Hub: ${describe(ref)}: ${what} from ${new URL(url).origin} within ${timeout.seconds} s (${timeout.variable}=${timeout.seconds}; set it higher for a slow network)`;
}

/**
 * Fetches `url`, giving up (HubUnreachable) when the connection fails or no answer arrives within `timeout`
 * (or, when the caller times the request itself, once `stalled` is aborted).
 */
async function request(url: string, init: RequestInit, ref: HubFileRef, timeout: HubTimeout, stalled?: AbortSignal): Promise<Response> {
  const signal = stalled ?? AbortSignal.timeout(timeout.seconds * 1000);
  try {
    return await fetch(url, { ...init, signal });
  } catch (e) {
    if (signal.aborted) throw new HubUnreachable(timeoutMessage(url, ref, timeout, "no answer"));
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new HubUnreachable(
      `Hugging Face Hub: cannot reach ${new URL(url).origin} for ${describe(ref)} (${cause?.code ?? cause?.message ?? (e as Error).message})`,
    );
  }
}

/** An error for a non-success answer, telling what it means for this repo and file. */
function answerError(response: Response, ref: HubFileRef, hasToken: boolean): Error {
  const code = response.headers.get("x-error-code") ?? "";
  const status = `HTTP ${response.status}${code ? ` ${code}` : ""}`;
  const auth = hasToken ? "the token given has no access to it" : "no token was given (pass { token } or set HF_TOKEN)";
  if (response.status === 404 && code === "EntryNotFound") {
    const commit = response.headers.get("x-repo-commit") ?? undefined;
    // The commit names cache folders (.no_exist/<commit>): only a 40-hex hash is taken from the answer.
    return new HubEntryNotFound(
      `Hugging Face Hub: ${describe(ref)}: the repo has no such file (${status})`,
      commit && /^[0-9a-f]{40}$/.test(commit) ? commit : undefined,
    );
  }
  if (response.status === 404 && code === "RevisionNotFound")
    return new Error(`Hugging Face Hub: ${describe(ref)}: revision ${ref.revision} does not exist (${status})`);
  if (response.status === 401 || response.status === 404) {
    return new Error(
      `Hugging Face Hub: ${describe(ref)}: repository not found or private (${status}); check the repo id, and for a private or gated repo: ${auth}`,
    );
  }
  if (response.status === 403)
    return new Error(`Hugging Face Hub: ${describe(ref)}: access refused (${status}); a gated repo needs its terms accepted on the Hub, and ${auth}`);
  return new Error(`Hugging Face Hub: ${describe(ref)}: unexpected answer ${status} ${response.statusText}`);
}

/** HEADs the file's resolve URL (following only relative redirects, as huggingface_hub does) and reads its metadata. */
export async function fileMetadata(endpoint: string, ref: HubFileRef, token: string | undefined, timeout: HubTimeout): Promise<HubFileMetadata> {
  const resolveUrl = `${endpoint}/${ref.repoId}/resolve/${encodeURIComponent(ref.revision)}/${ref.file.split("/").map(encodeURIComponent).join("/")}`;
  const headers: Record<string, string> = { "Accept-Encoding": "identity", "User-Agent": "tsml" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let url = resolveUrl;
  for (let hops = 0; ; hops++) {
    const response = await request(url, { method: "HEAD", headers, redirect: "manual" }, ref, timeout);
    const location = response.headers.get("location");
    const redirected = response.status >= 300 && response.status < 400 && location !== null;
    if (redirected && location.startsWith("/")) {
      if (hops >= 5)
        throw new Error(
          `Hugging Face Hub: ${describe(ref)}: more than 5 redirects (the last to ${new URL(location, url).href}); ${endpoint} redirects in a loop`,
        );
      url = new URL(location, url).href;
      continue;
    }
    if (!redirected && !response.ok) throw answerError(response, ref, token !== undefined);
    const commit = response.headers.get("x-repo-commit");
    const etag = normaliseEtag(response.headers.get("x-linked-etag") ?? response.headers.get("etag"));
    const size = Number(response.headers.get("x-linked-size") ?? response.headers.get("content-length"));
    if (!commit || !/^[0-9a-f]{40}$/.test(commit))
      throw new Error(`Hugging Face Hub: ${describe(ref)}: the answer has no X-Repo-Commit header; ${endpoint} does not look like a Hugging Face Hub`);
    if (!etag || !/^[\w-]+$/.test(etag))
      throw new Error(`Hugging Face Hub: ${describe(ref)}: the answer has no usable ETag (${JSON.stringify(etag)}), so the download could not be verified`);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`Hugging Face Hub: ${describe(ref)}: the answer gives no file size`);
    const target = redirected ? new URL(location, url).href : url;
    return { commit, etag, size, location: target, sendToken: target === resolveUrl };
  }
}

/** Why `file` is not the content the ETag promises (its sha256, or git sha1), or undefined when it is (or the ETag is neither). */
export async function verifyContent(file: string, etag: string, size: number): Promise<string | undefined> {
  const kind = /^[0-9a-f]{64}$/.test(etag) ? "sha256" : /^[0-9a-f]{40}$/.test(etag) ? "sha1" : undefined;
  if (!kind) return undefined;
  const hash = crypto.createHash(kind);
  // A regular (non-LFS) file's ETag is its git blob id: sha1("blob <size>\0" + content).
  if (kind === "sha1") hash.update(`blob ${size}\0`);
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  const digest = hash.digest("hex");
  return digest === etag ? undefined : `${kind === "sha1" ? "git sha1" : "sha256"} is ${digest}, the Hub says ${etag}`;
}

/** Options of one download. */
export interface DownloadTarget {
  meta: HubFileMetadata;
  ref: HubFileRef;
  token: string | undefined;
  /** The partial file (`blobs/<etag>.incomplete`), appended to and resumed from its length. */
  incomplete: string;
  progress: boolean;
  onProgress?: (event: HubProgressEvent) => void;
  /** Longest wait for the answer and for each chunk of the body (HF_HUB_DOWNLOAD_TIMEOUT). */
  timeout: HubTimeout;
}

/** Most attempts at one file when the connection drops (each resumes where the last stopped). */
const MAX_ATTEMPTS = 5;

/** GETs the rest of the file into `incomplete` once; returns when the body ends or throws when it breaks. */
async function downloadOnce(target: DownloadTarget, display: DownloadProgress | undefined): Promise<void> {
  const { meta, ref } = target;
  let have = fs.existsSync(target.incomplete) ? fs.statSync(target.incomplete).size : 0;
  if (have === meta.size && have > 0) return;
  if (have > meta.size) have = 0; // longer than the file: not a prefix of it, start over
  const headers: Record<string, string> = { "Accept-Encoding": "identity", "User-Agent": "tsml" };
  if (target.token && meta.sendToken) headers.Authorization = `Bearer ${target.token}`;
  if (have > 0) headers.Range = `bytes=${have}-`;
  // One timer bounds the wait for the answer and, restarted by every chunk, each wait for more bytes.
  const stalled = new AbortController();
  let timer = setTimeout(() => stalled.abort(), target.timeout.seconds * 1000);
  const restart = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => stalled.abort(), target.timeout.seconds * 1000);
  };
  try {
    await receive(target, display, have, headers, stalled.signal, restart);
  } catch (e) {
    if (stalled.signal.aborted) throw new HubUnreachable(timeoutMessage(meta.location, ref, target.timeout, "no data"));
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** The GET of `downloadOnce`, appending to the partial file; `restart` is called whenever bytes arrive. */
async function receive(
  target: DownloadTarget,
  display: DownloadProgress | undefined,
  have: number,
  headers: Record<string, string>,
  signal: AbortSignal,
  restart: () => void,
): Promise<void> {
  const { meta, ref } = target;
  const response = await request(meta.location, { headers, redirect: "follow" }, ref, target.timeout, signal);
  if (!response.ok) throw answerError(response, ref, target.token !== undefined);
  let offset = have;
  if (have > 0 && response.status !== 206) offset = 0; // the server ignored the range: start over
  if (response.status === 206) {
    const start = Number(/^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "")?.[1]);
    if (start !== have) throw new Error(`Hugging Face Hub: ${describe(ref)}: asked to resume at byte ${have}, the server answered from byte ${start}`);
  }
  const out = fs.openSync(target.incomplete, offset === 0 ? "w" : "a");
  try {
    if (!response.body) return;
    for await (const chunk of response.body) {
      restart();
      fs.writeSync(out, chunk as Uint8Array);
      offset += (chunk as Uint8Array).length;
      if (offset > meta.size) throw new Error(`Hugging Face Hub: ${describe(ref)}: the server sent more than the ${meta.size} bytes it announced`);
      display?.update(offset);
      target.onProgress?.({ repoId: ref.repoId, file: ref.file, downloaded: offset, total: meta.size });
    }
  } finally {
    fs.closeSync(out);
  }
}

/**
 * Downloads the file described by `target.meta` into `target.incomplete`, resuming a partial file and retrying
 * a dropped connection, then checks its size and hash. On a mismatch the partial file is deleted and an error
 * names the repo and file; on success the verified file is left in place for the caller to move into the cache.
 */
export async function downloadVerified(target: DownloadTarget): Promise<void> {
  const { meta, ref } = target;
  const initial = fs.existsSync(target.incomplete) ? fs.statSync(target.incomplete).size : 0;
  const display = target.progress ? new DownloadProgress(`${ref.repoId}/${ref.file}`, meta.size, initial) : undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      await downloadOnce(target, display);
      break;
    } catch (e) {
      // A dropped connection keeps what arrived; anything the Hub said (an HTTP error) or a bad answer ends here.
      const dropped = e instanceof HubUnreachable || (e instanceof TypeError && /terminated|fetch failed|socket/i.test(e.message));
      if (!dropped || attempt >= MAX_ATTEMPTS)
        throw e instanceof HubUnreachable || !dropped
          ? e
          : new Error(`Hugging Face Hub: ${describe(ref)}: the connection dropped ${attempt} times (${e.message}); run again to resume from the partial file`);
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
  const size = fs.statSync(target.incomplete).size;
  const problem = size !== meta.size ? `size is ${size} bytes, the Hub says ${meta.size}` : await verifyContent(target.incomplete, meta.etag, size);
  if (problem) {
    fs.rmSync(target.incomplete, { force: true });
    throw new Error(`Hugging Face Hub: ${describe(ref)}: download failed verification (${problem}); the partial file was removed, nothing was cached`);
  }
  display?.finish(size);
}
