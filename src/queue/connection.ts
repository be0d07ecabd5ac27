/**
 * The Redis behind a trial queue: its URL (`redis://[[user]:password@]host:port[/db]`, `rediss://` for TLS) is
 * checked, shown only with the password masked, probed once with a short timeout (an unreachable server is an
 * error within seconds, not a hang), and then handed to BullMQ with settings that ride out a Redis restart.
 */
import * as fs from "fs";
import type { RedisOptions } from "bullmq";

/** BullMQ, loaded on first use: importing tsml (a notebook, every trial process) does not pay for it. */
export function loadBullmq(): typeof import("bullmq") {
  return require("bullmq") as typeof import("bullmq");
}

/** Seconds the start-up probe waits for Redis to answer. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 5;

/** `url` with its password (and a `password=` query value) replaced by `***`, safe to print and log. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password && !parsed.searchParams.has("password")) return url;
    if (parsed.password) parsed.password = "***";
    if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***");
    return parsed.toString().replace("%2A%2A%2A", "***");
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@").replace(/password=[^&]*/g, "password=***");
  }
}

/** `text` with every occurrence of the URL's password masked (an error message may quote what it was given). */
export function maskPassword(text: string, url: string): string {
  let password = "";
  try {
    const parsed = new URL(url);
    password = decodeURIComponent(parsed.password || parsed.searchParams.get("password") || "");
  } catch {
    password = "";
  }
  const masked = text.split(url).join(maskRedisUrl(url));
  return password.length > 0 ? masked.split(password).join("***") : masked;
}

/** `args` (a command line to record) with the password of the queue URL `url` masked; unchanged without a queue. */
export function maskQueueArguments(args: string[], url: string | undefined): string[] {
  return url === undefined ? args : args.map((arg) => maskPassword(arg, url));
}

/** The environment variable a queue URL is read from when no option gives one (it stays out of `ps`). */
export const QUEUE_URL_VARIABLE = "TSML_QUEUE_URL";

/**
 * The queue URL a command was given: `--queue URL`, else the first line of `--queue-url-file FILE` (readable by its
 * owner only, say), else $TSML_QUEUE_URL; undefined when none is given. Errors name the option or the file.
 */
export function resolveQueueUrl(fromOption: string | undefined, file: string | undefined): string | undefined {
  if (fromOption !== undefined && file !== undefined) throw new Error("give --queue or --queue-url-file, not both");
  if (file !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new Error(`--queue-url-file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const url = text.split("\n")[0].trim();
    if (url === "")
      throw new Error(`--queue-url-file ${file}: the file is empty; it should hold the queue URL (redis://:PASSWORD@HOST:PORT) on its first line`);
    return url;
  }
  const fromEnvironment = process.env[QUEUE_URL_VARIABLE]?.trim();
  return fromOption ?? (fromEnvironment ? fromEnvironment : undefined);
}

/** Throws a clear error unless `url` is a redis:// or rediss:// URL naming a host. */
export function checkRedisUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") || parsed.hostname === "") {
    throw new Error(
      `queue URL ${JSON.stringify(maskRedisUrl(url))} is not a Redis URL; expected redis://HOST:PORT[/DB] or rediss://... (e.g. redis://localhost:6379)`,
    );
  }
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db))
    throw new Error(`queue URL ${JSON.stringify(maskRedisUrl(url))}: the database after the port must be a number, got ${JSON.stringify(db)}`);
}

/**
 * Connects to `url` once, without retrying, and sends PING; throws `cannot reach Redis at <masked url>` when that
 * fails or takes longer than `timeoutSeconds`.
 */
export async function probeRedis(url: string, timeoutSeconds = DEFAULT_CONNECT_TIMEOUT_SECONDS): Promise<void> {
  checkRedisUrl(url);
  const timeoutMs = timeoutSeconds * 1000;
  const { Redis } = require("ioredis") as typeof import("ioredis");
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let cause: Error | undefined;
  client.on("error", (error: Error) => (cause ??= error)); // says more than connect()'s "Connection is closed"

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutSeconds} s`)), timeoutMs);
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
  } catch (error) {
    const reason = maskPassword((cause ?? (error as Error)).message ?? String(error), url).replace(/\.$/, "");
    throw new Error(
      `cannot reach Redis at ${maskRedisUrl(url)}: ${reason}. Start redis-server there (see environment.md, "Sweeps on many machines") or fix --queue.`,
    );
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/**
 * BullMQ connection options for `url`: commands wait for a lost connection to come back instead of failing
 * (maxRetriesPerRequest null, as BullMQ requires of workers), reconnecting every ≤ 2 s, so a restarted Redis
 * (with persistence) continues the sweep.
 */
export function queueConnection(url: string): RedisOptions {
  checkRedisUrl(url);
  return { url, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(100 * times, 2000) };
}
