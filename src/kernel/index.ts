/** The "TypeScript ML" Jupyter kernel: the display contract for library code and kernelspec installation. */
export * from "./display";
export { tsmlPackageRoot, tsmlPackageVersion } from "./packageRoot";
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
