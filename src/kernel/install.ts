/**
 * Installing the "TypeScript ML" kernelspec into Jupyter, and asking Jupyter what is installed.
 *
 * Jupyter's own Python API (jupyter_client.kernelspec.KernelSpecManager, what `jupyter kernelspec install` runs)
 * does the work, so every Jupyter path rule (--user, --prefix, JUPYTER_PATH, JUPYTER_DATA_DIR) is honoured.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as v8 from "v8";
import { tsmlPackageRoot } from "../package";

/** The kernelspec name notebooks refer to (metadata.kernelspec.name). */
export const KERNELSPEC_NAME = "tsml";

/** A Python interpreter with jupyter_client importable. */
export interface JupyterInstallation {
  python: string;
  jupyterClientVersion: string;
}

/** Where to install: the user's Jupyter data dir, a prefix (`<prefix>/share/jupyter/kernels`), or system-wide. */
export interface KernelspecInstallOptions {
  user?: boolean;
  prefix?: string;
  name?: string;
}

/** An installed kernelspec as Jupyter lists it. */
export interface InstalledKernelspec {
  name: string;
  resourceDir: string;
  displayName: string;
  argv: string[];
}

/** How to get Jupyter when it is missing (used in error messages and by the doctor). */
export const JUPYTER_INSTALL_HINT =
  "Install Jupyter first: `apt-get install jupyter-nbconvert python3-nbclient python3-jupyter-client` (Debian/Ubuntu) or `pip install jupyter`.";

const PYTHON_CANDIDATES = ["/usr/bin/python3", "python3", "python"];

/** Finds a Python with jupyter_client (only $TSML_JUPYTER_PYTHON when set), or undefined when Jupyter is missing. */
export function findJupyter(): JupyterInstallation | undefined {
  const candidates = process.env.TSML_JUPYTER_PYTHON ? [process.env.TSML_JUPYTER_PYTHON] : PYTHON_CANDIDATES;
  const key = candidates.join("\0");
  if (!probedPythons.has(key)) probedPythons.set(key, probe(candidates));
  return probedPythons.get(key);
}

/** Probe results per candidate list (starting Python costs about a second). */
const probedPythons = new Map<string, JupyterInstallation | undefined>();

function probe(candidates: string[]): JupyterInstallation | undefined {
  for (const python of candidates) {
    const result = spawnSync(python, ["-c", "import jupyter_client; print(jupyter_client.__version__)"], { encoding: "utf8" });
    if (result.status === 0) return { python, jupyterClientVersion: result.stdout.trim() };
  }
  return undefined;
}

/**
 * The kernel's JavaScript heap limit in MiB for this machine: half its memory (the other half stays for tensors,
 * which live outside the JS heap in WASM memory or libtensorflow, and for the system), never below Node's default.
 */
export function kernelHeapLimitMiB(): number {
  const nodeDefault = Math.ceil(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
  return Math.max(nodeDefault, Math.floor(os.totalmem() / 2 / 2 ** 20));
}

/**
 * The kernel.json for this install: `kernelspec/kernel.json` with this node, this kernel entry point and a heap
 * limit for this machine (`--max-old-space-size`, see kernelHeapLimitMiB) filled in.
 */
export function kernelspecJson(): Record<string, unknown> {
  const root = tsmlPackageRoot();
  const template = JSON.parse(fs.readFileSync(path.join(root, "kernelspec", "kernel.json"), "utf8")) as Record<string, unknown>;
  const main = path.join(root, "dist", "src", "kernel", "main.js");
  if (!fs.existsSync(main)) throw new Error(`kernel entry point ${main} is missing; run \`npm run build\` first`);
  const heap = String(kernelHeapLimitMiB());
  template.argv = (template.argv as string[]).map((arg) => arg.replace("@NODE@", process.execPath).replace("@KERNEL_MAIN@", main).replace("@HEAP_MIB@", heap));
  return template;
}

/** Installs the kernelspec into Jupyter and returns the folder it was written to; throws if Jupyter is missing. */
export function installKernelspec(options: KernelspecInstallOptions = {}): string {
  const jupyter = requireJupyter();
  const name = options.name ?? KERNELSPEC_NAME;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) throw new Error(`invalid kernelspec name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-"`);
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), "tsml-kernelspec-"));
  try {
    const source = path.join(tsmlPackageRoot(), "kernelspec");
    for (const file of fs.readdirSync(source)) {
      if (file !== "kernel.json") fs.copyFileSync(path.join(source, file), path.join(staging, file));
    }
    fs.writeFileSync(path.join(staging, "kernel.json"), JSON.stringify(kernelspecJson(), null, 2) + "\n");
    const user = options.user ?? (options.prefix === undefined && process.getuid?.() !== 0);
    const script = [
      "import sys",
      "from jupyter_client.kernelspec import KernelSpecManager",
      "src, name, user, prefix = sys.argv[1], sys.argv[2], sys.argv[3] == '1', sys.argv[4] or None",
      "print(KernelSpecManager().install_kernel_spec(src, kernel_name=name, user=user, prefix=prefix, replace=True))",
    ].join("\n");
    return runPython(jupyter, script, [staging, name, user ? "1" : "0", options.prefix ?? ""]).trim();
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Removes an installed kernelspec; returns the folder removed. */
export function uninstallKernelspec(name = KERNELSPEC_NAME): string {
  const script = "import sys\nfrom jupyter_client.kernelspec import KernelSpecManager\nprint(KernelSpecManager().remove_kernel_spec(sys.argv[1]))";
  return runPython(requireJupyter(), script, [name]).trim();
}

/** Every kernelspec Jupyter can see (honours JUPYTER_PATH); empty when Jupyter is not installed. */
export function installedKernelspecs(): InstalledKernelspec[] {
  const jupyter = findJupyter();
  if (!jupyter) return [];
  const script = "import json\nfrom jupyter_client.kernelspec import KernelSpecManager\nprint(json.dumps(KernelSpecManager().get_all_specs()))";
  const specs = JSON.parse(runPython(jupyter, script, [])) as Record<string, { resource_dir: string; spec: { display_name: string; argv: string[] } }>;
  return Object.entries(specs).map(([name, s]) => ({ name, resourceDir: s.resource_dir, displayName: s.spec.display_name, argv: s.spec.argv }));
}

function requireJupyter(): JupyterInstallation {
  const jupyter = findJupyter();
  if (!jupyter) throw new Error(`Jupyter (the Python package jupyter_client) was not found. ${JUPYTER_INSTALL_HINT}`);
  return jupyter;
}

function runPython(jupyter: JupyterInstallation, script: string, args: string[]): string {
  const result = spawnSync(jupyter.python, ["-c", script, ...args], { encoding: "utf8" });
  if (result.status !== 0) {
    const detail = (result.stderr || result.error?.message || "").trim().split("\n").slice(-3).join("\n");
    throw new Error(`${jupyter.python} (jupyter_client) failed: ${detail}`);
  }
  return result.stdout;
}
