/** Provenance of a run: everything needed to say what produced a number and to rerun it. */
import { execFileSync } from "child_process";
import * as os from "os";
import * as tf from "@tensorflow/tfjs";
import { BackendInfo, describeBlas } from "../backend";
import { tsmlPackageRoot, tsmlPackageVersion } from "../package";

/** Versions, machine, code revision and command line behind a run or a study. */
export interface Provenance {
  tsmlVersion: string;
  tfjsVersion: string;
  nodeVersion: string;
  backend: { name: string; threads: number; blas: string | null; reason: string } | null;
  /** `git rev-parse HEAD` of the checkout tsml runs from, or null outside a git checkout. */
  gitCommit: string | null;
  /** True when the checkout had uncommitted changes to tracked files. */
  gitDirty: boolean | null;
  commandLine: string[];
  platform: string;
  cpus: number;
  hostname: string;
  createdAt: string;
}

function git(args: string[], cwd: string): string | null {
  try {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** Collects provenance now; `backend` is the running backend (from `initBackend`), if any. */
export function collectProvenance(backend?: BackendInfo, commandLine: string[] = process.argv.slice()): Provenance {
  const root = tsmlPackageRoot();
  const commit = git(["rev-parse", "HEAD"], root);
  const status = commit === null ? null : git(["status", "--porcelain", "--untracked-files=no"], root);
  return {
    tsmlVersion: tsmlPackageVersion(),
    tfjsVersion: tf.version.tfjs,
    nodeVersion: process.version,
    backend: backend ? { name: backend.name, threads: backend.threads, blas: describeBlas(backend), reason: backend.reason } : null,
    gitCommit: commit,
    gitDirty: status === null ? null : status.length > 0,
    commandLine,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    hostname: os.hostname(),
    createdAt: new Date().toISOString(),
  };
}
