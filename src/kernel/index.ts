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
/** The Jupyter wire protocol (signing, framing, headers), for clients such as `tsml run`'s executor. */
export { MessageSigner, decodeMessage, encodeMessage, makeMessage } from "./wire";
export type { ConnectionInfo, JupyterMessage } from "./wire";
