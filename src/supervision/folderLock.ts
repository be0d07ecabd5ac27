/**
 * One owner per folder: an advisory lock file `<dir>/.tsml-lock` holding the owner's pid, process start time, host
 * and purpose. It is taken atomically (a complete file hard-linked into place, which fails when one exists) and it
 * is released when the owner releases it, exits, or dies in any way, kill -9 included: a lock whose owner no longer
 * runs (checked by pid and start time, so a reused pid does not count) is stale and taken over.
 *
 * Hand-written rather than from npm: proper-lockfile (the well-kept choice) decides staleness by an mtime that the
 * owner refreshes on a timer, so a kill -9 is noticed only after its stale period, and an owner whose event loop
 * is blocked by a long synchronous step (a WASM training step) is wrongly declared dead; flock(2) needs a native
 * addon (fs-ext) that does not install offline. Liveness by pid and start time has neither problem on one host.
 *
 * Across machines (a runs folder on NFS) a pid cannot be checked, so another host's lock counts as held, unless
 * both sides hold it under a lease from an outside arbiter: a BullMQ job lock grants a trial to one worker at a
 * time, so a lock taken under an older grant of the same subject belongs to a worker that lost the trial.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isProcessAlive, processIdentity } from "./processes";

/** Name of the lock file inside a locked folder. */
export const FOLDER_LOCK_FILE = ".tsml-lock";

/** A grant from an outside arbiter (a queue's job lock): who may work on `subject` now. */
export interface FolderLease {
  /** What is granted, e.g. a queue job id. */
  subject: string;
  /** This grant of it, e.g. the job lock's token; every new grant has another one. */
  grant: string;
}

/** Who holds a lock (the content of the lock file). */
export interface LockOwner {
  pid: number;
  /** Start time of the owner process (clock ticks after boot; null where /proc is not available). */
  startTime: string | null;
  hostname: string;
  /** What the owner does, e.g. "tsml study" or "run b8-a1". */
  purpose: string;
  acquiredAt: string;
  /** The arbiter's grant the owner holds the folder under, if any. */
  lease?: FolderLease;
}

/** Thrown when another live process holds the folder's lock. */
export class FolderLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: LockOwner,
  ) {
    super(
      `${dir} is in use by another process: pid ${owner.pid} (${owner.purpose}) on ${owner.hostname}, since ${owner.acquiredAt}. ` +
        `Wait for it to finish or stop it (kill ${owner.pid}); the lock is released as soon as that process ends.`,
    );
    this.name = "FolderLockedError";
  }
}

/** A held lock. */
export interface FolderLock {
  readonly dir: string;
  readonly file: string;
  /** Gives the lock up (idempotent); also done when the process exits. */
  release(): void;
}

/** Options of `acquireFolderLock`. */
export interface FolderLockOptions {
  /** Shown to a process that finds the folder locked. */
  purpose?: string;
  /** Keep trying this long while a live owner holds the lock (default 0: fail at once). */
  waitSeconds?: number;
  /**
   * The arbiter's grant this process works under. Another host's lock held under an older grant of the same
   * subject is taken over: the arbiter has given the subject to this process since.
   */
  lease?: FolderLease;
}

/** The lock file's text and owner (owner null: not a lock file tsml wrote), or undefined when there is none. */
function readOwner(file: string): { text: string; owner: LockOwner | null } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    return { text, owner: Number.isInteger(owner?.pid) ? owner : null };
  } catch {
    return { text, owner: null };
  }
}

function ownerIsAlive(owner: LockOwner, lease: FolderLease | undefined): boolean {
  if (owner.hostname !== os.hostname()) {
    // Another machine's process cannot be checked from here; the arbiter's newer grant says it lost the folder.
    const superseded = lease !== undefined && owner.lease?.subject === lease.subject && owner.lease.grant !== lease.grant;
    return !superseded;
  }
  return isProcessAlive({ pid: owner.pid, startTime: owner.startTime });
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Creates `target` holding `text`, failing with EEXIST when it exists; readers never see it half-written. */
function createExclusive(target: string, text: string): void {
  const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(temp, text);
  try {
    fs.linkSync(temp, target);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/**
 * Removes the lock file when it still holds `stale`. A second file, `<lock>.break`, admits one breaker at a time,
 * so two processes that found the same stale lock cannot remove the fresh lock the faster one took meanwhile.
 */
function breakStaleLock(file: string, staleText: string): void {
  const breaker = `${file}.break`;
  try {
    createExclusive(breaker, String(process.pid));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    // A breaker that died mid-way leaves its file; breaking takes milliseconds, so an old one is abandoned.
    const age = Date.now() - (fs.statSync(breaker, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > 5000) fs.rmSync(breaker, { force: true });
    return;
  }
  try {
    let current: string | undefined;
    try {
      current = fs.readFileSync(file, "utf8");
    } catch {
      current = undefined;
    }
    if (current === staleText) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

/**
 * Takes the advisory lock of `dir` (created when missing) for this process, or throws FolderLockedError naming the
 * live owner. A lock left by a dead owner (crash, kill -9) is taken over. Reentrant locks are not supported: a
 * second call from the holder throws too.
 */
export function acquireFolderLock(dir: string, options: FolderLockOptions = {}): FolderLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, FOLDER_LOCK_FILE);
  const me = processIdentity();
  const owner: LockOwner = {
    pid: me.pid,
    startTime: me.startTime,
    hostname: os.hostname(),
    purpose: options.purpose ?? process.argv.slice(1).join(" "),
    acquiredAt: new Date().toISOString(),
    ...(options.lease ? { lease: options.lease } : {}),
  };
  const text = JSON.stringify(owner) + "\n";
  const deadline = Date.now() + (options.waitSeconds ?? 0) * 1000;
  for (;;) {
    try {
      createExclusive(file, text);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`cannot lock ${dir}: ${(err as Error).message}`);
    }
    const current = readOwner(file);
    if (current === undefined) continue; // released meanwhile
    if (current.owner !== null && ownerIsAlive(current.owner, options.lease)) {
      if (Date.now() >= deadline) throw new FolderLockedError(dir, current.owner);
      sleepMs(100);
      continue;
    }
    // Dead owner, or a file that is not a lock tsml wrote: stale.
    breakStaleLock(file, current.text);
    sleepMs(5);
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.removeListener("exit", release);
    if (readOwner(file)?.text === text) fs.rmSync(file, { force: true });
  };
  process.on("exit", release);
  return { dir, file, release };
}
