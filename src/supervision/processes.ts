/**
 * Is a process still there? On Linux /proc/<pid>/stat tells apart a live process, a zombie (dead, not yet reaped,
 * yet still answering kill(pid, 0)) and a new process that reuses the pid (its start time differs). Elsewhere only
 * kill(pid, 0) is available.
 */
import * as fs from "fs";

/** What identifies a process over time: its pid and, where the system tells, its start time (clock ticks after boot). */
export interface ProcessIdentity {
  pid: number;
  startTime: string | null;
}

/** Fields of /proc/<pid>/stat after the command name, or null when the file cannot be read. */
function procStat(pid: number): string[] | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** The identity of process `pid` now (start time null where /proc is not available). */
export function processIdentity(pid: number = process.pid): ProcessIdentity {
  const stat = procStat(pid);
  return { pid, startTime: stat ? stat[19] : null };
}

/** The parent pid of this process as it is now (Node's `process.ppid` is fixed at start-up). */
export function currentParentPid(): number {
  const stat = procStat(process.pid);
  return stat ? Number(stat[1]) : process.ppid;
}

/** True while the process `who` runs: it exists, is not a zombie, and (when known) started when `who` says. */
export function isProcessAlive(who: ProcessIdentity): boolean {
  if (!Number.isInteger(who.pid) || who.pid <= 0) return false;
  const stat = procStat(who.pid);
  if (stat) {
    if (stat[0] === "Z" || stat[0] === "X") return false;
    return who.startTime === null || stat[19] === who.startTime;
  }
  try {
    process.kill(who.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
