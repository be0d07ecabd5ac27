/** `tsml kernel install|uninstall|list`: manages the "TypeScript ML" Jupyter kernelspec. */
import type { Command } from "../command";
import { parseArgs } from "../args";
import { KERNELSPEC_NAME, installKernelspec, installedKernelspecs, uninstallKernelspec } from "../../kernel";

const HELP = `usage: tsml kernel <install|uninstall|list> [options]

  install [--user | --prefix DIR] [--name NAME]
      Installs the "TypeScript ML" kernelspec (default name "${KERNELSPEC_NAME}") into Jupyter, running this
      install's node and kernel. Default: --user unless run as root (then system-wide).
  uninstall [--name NAME]     Removes the kernelspec.
  list                        Lists the kernelspecs Jupyter sees.`;

/** The `tsml kernel` command. */
export const command: Command = {
  summary: 'install, uninstall or list the "TypeScript ML" Jupyter kernelspec',
  // eslint-disable-next-line @typescript-eslint/require-await -- Command.run returns a Promise: async turns this synchronous body's throws into rejections
  run: async (argv) => {
    const { options, positional } = parseArgs(argv, { user: "boolean", prefix: "string", name: "string", help: "boolean" }, 1);
    const [action] = positional;
    if (options.help || !action) {
      console.log(HELP);
      return action || options.help ? 0 : 2;
    }
    const name = options.name ?? KERNELSPEC_NAME;
    switch (action) {
      case "install": {
        if (options.user && options.prefix !== undefined) throw new Error("use either --user or --prefix DIR, not both");
        const dir = installKernelspec({ user: options.user, prefix: options.prefix, name });
        console.log(`Installed the "TypeScript ML" kernelspec "${name}" in ${dir}`);
        return 0;
      }
      case "uninstall":
        console.log(`Removed ${uninstallKernelspec(name)}`);
        return 0;
      case "list":
        for (const spec of installedKernelspecs()) console.log(`${spec.name.padEnd(16)} ${spec.displayName.padEnd(20)} ${spec.resourceDir}`);
        return 0;
      default:
        console.error(`tsml kernel: unknown action ${JSON.stringify(action)}; expected install, uninstall or list\n\n${HELP}`);
        return 2;
    }
  },
};
