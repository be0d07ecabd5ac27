/**
 * Where the Hub is and where its files are cached, from options first and then the environment variables that
 * Python's huggingface_hub reads (HF_ENDPOINT, HF_HUB_CACHE / HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME,
 * HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE, HF_TOKEN / HUGGING_FACE_HUB_TOKEN / the token file), so both share a cache.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Options of every Hub download (all optional; the environment supplies the rest). */
export interface HubOptions {
  /** Branch, tag or 40-hex commit (default "main"). */
  revision?: string;
  /** The hub cache folder (default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Use only the cache, never the network (also when HF_HUB_OFFLINE=1). */
  localFilesOnly?: boolean;
  /** Access token for private or gated repos (default: HF_TOKEN, else the token file of `huggingface-cli login`); false sends none. */
  token?: string | false;
  /** Hub address (default: HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  /** Draw a progress bar on stderr while downloading (default true unless HF_HUB_DISABLE_PROGRESS_BARS is set). */
  progress?: boolean;
  /** Called as bytes arrive: file name, bytes on disk so far and the total. */
  onProgress?: (event: HubProgressEvent) => void;
}

/** One progress report of a download. */
export interface HubProgressEvent {
  repoId: string;
  file: string;
  downloaded: number;
  total: number;
}

/** The settings in force for one call, options and environment merged. */
export interface HubSettings {
  endpoint: string;
  cacheDir: string;
  offline: boolean;
  /** Never printed; sent only as an Authorization header to the endpoint. */
  token: string | undefined;
  revision: string;
  progress: boolean;
  /** Seconds to wait for the answer to a file's HEAD (HF_HUB_ETAG_TIMEOUT, default 10 as huggingface_hub). */
  etagTimeoutSeconds: number;
  /** Seconds to wait for a download's answer and for each chunk of its bytes (HF_HUB_DOWNLOAD_TIMEOUT, default 10). */
  downloadTimeoutSeconds: number;
}

/** huggingface_hub's default for both timeouts. */
const DEFAULT_TIMEOUT_SECONDS = 10;

/** A timeout in seconds from the environment variable `name` (positive), else the default. */
function timeoutSeconds(name: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return DEFAULT_TIMEOUT_SECONDS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`${name} must be a positive number of seconds, got ${JSON.stringify(raw)}`);
  return seconds;
}

/** The Hub address, checked to be an http(s) URL; errors name where it came from. */
function hubEndpoint(fromOptions: string | undefined): string {
  const endpoint = fromOptions ?? (process.env.HF_ENDPOINT || "https://huggingface.co");
  const source = fromOptions !== undefined ? "the endpoint option" : "HF_ENDPOINT";
  let protocol = "";
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    protocol = "";
  }
  if (protocol !== "http:" && protocol !== "https:")
    throw new Error(`${source} ${JSON.stringify(endpoint)} is not an http:// or https:// URL (e.g. https://huggingface.co)`);
  return endpoint.replace(/\/+$/, "");
}

/** huggingface_hub's notion of a true environment flag. */
function envFlag(name: string): boolean {
  return ["1", "ON", "YES", "TRUE"].includes((process.env[name] ?? "").toUpperCase());
}

function hfHome(): string {
  return process.env.HF_HOME || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "huggingface");
}

/** The hub cache folder that huggingface_hub would use. */
export function defaultHubCacheDir(): string {
  return process.env.HF_HUB_CACHE || process.env.HUGGINGFACE_HUB_CACHE || path.join(hfHome(), "hub");
}

function defaultToken(): string | undefined {
  const fromEnv = process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const file = process.env.HF_TOKEN_PATH || path.join(hfHome(), "token");
  try {
    return fs.readFileSync(file, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Merges `options` with the environment. */
export function hubSettings(options: HubOptions = {}): HubSettings {
  return {
    endpoint: hubEndpoint(options.endpoint),
    cacheDir: path.resolve(options.cacheDir ?? defaultHubCacheDir()),
    offline: options.localFilesOnly === true || envFlag("HF_HUB_OFFLINE") || envFlag("TRANSFORMERS_OFFLINE"),
    token: options.token === false ? undefined : (options.token ?? defaultToken()),
    revision: options.revision ?? "main",
    progress: options.progress ?? !envFlag("HF_HUB_DISABLE_PROGRESS_BARS"),
    etagTimeoutSeconds: timeoutSeconds("HF_HUB_ETAG_TIMEOUT"),
    downloadTimeoutSeconds: timeoutSeconds("HF_HUB_DOWNLOAD_TIMEOUT"),
  };
}
