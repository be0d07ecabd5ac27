/**
 * Test helper: a local HTTP server (loopback, free port) speaking the Hugging Face Hub's file protocol as
 * huggingface_hub expects it: `HEAD|GET /{repo}/resolve/{revision}/{file}` answers with X-Repo-Commit and,
 * for regular files, ETag = git blob sha1 and the body; for large ("LFS") files a 302 to `/blobs/{sha256}` with
 * X-Linked-Etag and X-Linked-Size. Blobs honour `Range: bytes=N-`. Errors carry the Hub's X-Error-Code.
 * Every request is recorded; faults (a dropped connection, corrupted bytes) can be injected per file.
 */
import * as crypto from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

/** One recorded request. */
export interface FakeHubRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

/** A repo served by the fake Hub. */
export interface FakeRepo {
  commit: string;
  files: Map<string, Buffer>;
  /** When set, only this token may read the repo (401 otherwise, as the Hub answers for private repos). */
  token?: string;
}

/** Files at least this large are served as LFS files (redirect to a blob URL, sha256 ETag). */
const LFS_THRESHOLD = 10_000;

/** git's blob id of `content`: what the Hub sends as the ETag of a regular file. */
export function gitBlobSha1(content: Buffer): string {
  return crypto.createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

/** sha256 of `content`: the ETag (X-Linked-Etag) of an LFS file. */
export function sha256(content: Buffer): string {
  return crypto.createHash("sha256").update(content).digest("hex");
}

/** The ETag the fake Hub announces for `content`. */
export function hubEtag(content: Buffer): string {
  return content.length >= LFS_THRESHOLD ? sha256(content) : gitBlobSha1(content);
}

/** A fake Hub on 127.0.0.1; `endpoint` is its base URL once `start` has resolved. */
export class FakeHub {
  readonly repos = new Map<string, FakeRepo>();
  readonly requests: FakeHubRequest[] = [];
  /** File names whose next blob GET is cut after this many bytes (the socket is destroyed), once. */
  readonly dropAfter = new Map<string, number>();
  /** File names whose bytes are served with one byte flipped (the announced hash stays the true one). */
  readonly corrupt = new Set<string>();
  /** File names whose blob GETs send this many bytes and then nothing more, the connection left open. */
  readonly stallAfter = new Map<string, number>();
  /** File names whose HEAD is never answered (the connection left open). */
  readonly stallHead = new Set<string>();
  /** File names whose blob bytes are sent in 8 pieces, this many milliseconds apart (a slow download). */
  readonly slowBlobs = new Map<string, number>();
  /** When true, every resolve URL redirects to itself (a misconfigured proxy). */
  redirectLoop = false;
  /** When true, any revision resolves to the repo's commit (as a Hub with that branch or tag would answer). */
  anyRevision = false;
  endpoint = "";
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  /** Listens on a free loopback port. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  /** Stops listening and closes open connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests for files (resolve or blob URLs) of the given method. */
  fileRequests(method: string): FakeHubRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://fake");
    this.requests.push({
      method: req.method ?? "",
      path: decodeURIComponent(url.pathname),
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
    const blob = /^\/blobs\/([0-9a-f]{64})$/.exec(url.pathname);
    if (blob) return this.serveBlob(blob[1], req, res);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!resolve) return this.fail(res, 404, "RepoNotFound");
    if (this.redirectLoop) {
      res.writeHead(302, { Location: url.pathname });
      return void res.end();
    }
    const [, repoId, revision, file] = resolve.map(decodeURIComponent);
    const repo = this.repos.get(repoId);
    if (!repo || (repo.token && req.headers.authorization !== `Bearer ${repo.token}`)) return this.fail(res, 401, "RepoNotFound");
    if (revision !== "main" && revision !== repo.commit && !this.anyRevision) return this.fail(res, 404, "RevisionNotFound");
    const content = repo.files.get(file);
    if (!content) return this.fail(res, 404, "EntryNotFound", repo.commit);
    if (this.stallHead.has(file)) return;
    if (content.length >= LFS_THRESHOLD) {
      res.writeHead(302, {
        Location: `${this.endpoint}/blobs/${sha256(content)}`,
        "X-Repo-Commit": repo.commit,
        "X-Linked-Etag": `"${sha256(content)}"`,
        "X-Linked-Size": String(content.length),
        ETag: `"${gitBlobSha1(Buffer.from("version https://git-lfs.github.com/spec/v1\n"))}"`,
        "Content-Length": "0",
      });
      return void res.end();
    }
    res.writeHead(200, {
      "X-Repo-Commit": repo.commit,
      ETag: `"${gitBlobSha1(content)}"`,
      "Content-Length": String(content.length),
      "Content-Type": "application/octet-stream",
    });
    res.end(req.method === "HEAD" ? undefined : this.bytesOf(file, content));
  }

  private serveBlob(hash: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    for (const repo of this.repos.values()) {
      for (const [file, content] of repo.files) {
        if (sha256(content) !== hash) continue;
        const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
        const start = range ? Number(range[1]) : 0;
        if (start >= content.length) {
          res.writeHead(416, { "Content-Range": `bytes */${content.length}` });
          return void res.end();
        }
        const body = this.bytesOf(file, content).subarray(start);
        res.writeHead(range ? 206 : 200, {
          "Content-Length": String(body.length),
          "Accept-Ranges": "bytes",
          ...(range ? { "Content-Range": `bytes ${start}-${content.length - 1}/${content.length}` } : {}),
        });
        const stall = this.stallAfter.get(file);
        if (stall !== undefined && req.method === "GET") return void res.write(body.subarray(0, stall));
        const pause = this.slowBlobs.get(file);
        if (pause !== undefined && req.method === "GET") {
          const piece = Math.ceil(body.length / 8);
          const send = (k: number): void => {
            if (k * piece >= body.length) return void res.end();
            res.write(body.subarray(k * piece, (k + 1) * piece), () => setTimeout(() => send(k + 1), pause));
          };
          return send(0);
        }
        const cut = this.dropAfter.get(file);
        if (cut !== undefined && req.method === "GET") {
          this.dropAfter.delete(file);
          res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
          return;
        }
        return void res.end(req.method === "HEAD" ? undefined : body);
      }
    }
    this.fail(res, 404, "EntryNotFound");
  }

  private bytesOf(file: string, content: Buffer): Buffer {
    if (!this.corrupt.has(file)) return content;
    const bad = Buffer.from(content);
    bad[bad.length >> 1] ^= 0xff;
    return bad;
  }

  private fail(res: http.ServerResponse, status: number, code: string, commit?: string): void {
    res.writeHead(status, { "X-Error-Code": code, ...(commit ? { "X-Repo-Commit": commit } : {}), "Content-Type": "text/plain" });
    res.end(`${code}\n`);
  }
}
