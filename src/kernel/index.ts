/** The "TypeScript ML" Jupyter kernel: kernelspec installation (the kernel process itself starts from main.ts). */
export {
  KERNELSPEC_NAME,
  JUPYTER_INSTALL_HINT,
  findJupyter,
  installKernelspec,
  uninstallKernelspec,
  installedKernelspecs,
  kernelspecJson,
  kernelHeapLimitMiB,
} from "./install";
export type { JupyterInstallation, KernelspecInstallOptions, InstalledKernelspec } from "./install";
