/** Test helpers: a throw-away kernelspec install and kernels started from it, never touching real Jupyter dirs. */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { KernelClient } from "./client";
import { KERNELSPEC_NAME, installKernelspec } from "../../src/kernel";
import { tempDir } from "../helpers";

/** A kernelspec installed under a temporary prefix, and the environment that makes Jupyter find it. */
export interface TestKernelspec {
  name: string;
  prefix: string;
  kernelJsonPath: string;
  /** process.env plus JUPYTER_PATH=<prefix>/share/jupyter (and no user-site kernels from elsewhere). */
  env: NodeJS.ProcessEnv;
}

/** Installs the kernelspec into a fresh temporary prefix. */
export function installTestKernelspec(): TestKernelspec {
  const prefix = tempDir("tsml-kernelspec-prefix-");
  const dir = installKernelspec({ prefix, name: KERNELSPEC_NAME });
  const jupyterData = path.join(prefix, "share", "jupyter");
  return {
    name: KERNELSPEC_NAME,
    prefix,
    kernelJsonPath: path.join(dir, "kernel.json"),
    env: { ...process.env, JUPYTER_PATH: jupyterData, JUPYTER_DATA_DIR: path.join(prefix, "data") },
  };
}

/** Kernels started here that may still run; whatever a test's after hook missed is killed when mocha exits. */
const runningKernels = new Set<KernelClient>();
process.on("exit", () => runningKernels.forEach((kernel) => kernel.kill()));

/**
 * Starts a kernel with the installed kernel.json's argv (changed by `adjustArgv` if given), in `cwd` (shut it down
 * in an after hook).
 */
export async function startKernel(spec: TestKernelspec, cwd: string, adjustArgv: (argv: string[]) => string[] = (a) => a): Promise<KernelClient> {
  const argv = adjustArgv((JSON.parse(fs.readFileSync(spec.kernelJsonPath, "utf8")) as { argv: string[] }).argv);
  const kernel = await KernelClient.start({ argv, cwd, env: spec.env, startTimeoutMs: 90_000 });
  runningKernels.add(kernel);
  kernel.process.once("exit", () => runningKernels.delete(kernel));
  return kernel;
}

/** What `runNbconvert` saw: nbconvert's exit code (null when it was stopped at the deadline) and its output. */
export interface NbconvertResult {
  code: number | null;
  /** nbconvert's stdout and stderr (a kernel's stderr included), then, when the deadline stopped it, why. */
  output: string;
}

/**
 * Runs `jupyter nbconvert <args>` in `cwd`; resolves when it has exited and its output pipes have closed. Every cell
 * has `cellTimeoutSeconds` (nbclient's own timeout: a stuck cell fails naming itself); past `deadlineMs` nbconvert is
 * killed (its kernels follow: they watch their parent) and the result, at once, says so with the processes that were
 * still running, so a hang fails the test showing what it was doing instead of running into mocha's timeout with
 * nothing to show.
 */
export function runNbconvert(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; cellTimeoutSeconds: number; deadlineMs: number },
): Promise<NbconvertResult> {
  const execute = args.includes("--execute") ? [`--ExecutePreprocessor.timeout=${options.cellTimeoutSeconds}`] : [];
  const child = spawn("/usr/bin/jupyter", ["nbconvert", ...execute, ...args], { cwd: options.cwd, env: options.env });
  let output = "";
  child.stdout.on("data", (chunk) => (output += String(chunk)));
  child.stderr.on("data", (chunk) => (output += String(chunk)));
  return new Promise((resolve) => {
    const deadline = setTimeout(() => {
      const running = spawnSync("ps", ["-eo", "pid,ppid,pgid,stat,wchan:24,etime,args"], { encoding: "utf8" })
        .stdout.split("\n")
        .filter((line, i) => i === 0 || /jupyter|kernel|python|node/.test(line))
        .join("\n");
      output += `\n[test] nbconvert had not finished after ${options.deadlineMs} ms: killed. Processes then:\n${running}\n`;
      child.kill("SIGKILL");
      // Not waiting for its pipes to close: a process it started may hold them open (the hang being reported).
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code: null, output });
    }, options.deadlineMs);
    child.on("close", (code) => {
      clearTimeout(deadline);
      resolve({ code, output });
    });
  });
}
