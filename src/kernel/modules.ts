/**
 * The `require` that cells get: resolves from the notebook's folder, maps "tsml" to this install, falls back to
 * this install's dependencies, serves ES-module-only packages (tslab issue #72) that were imported with a real
 * dynamic `import()` before the cell ran, and runs local .ts files next to the notebook as compiled by the kernel.
 */
import * as path from "path";
import * as vm from "vm";
import { createRequire, builtinModules } from "module";
import { TSML_PACKAGE_NAME } from "../package";

const ESM_ONLY_ERRORS = new Set(["ERR_REQUIRE_ESM", "ERR_REQUIRE_ASYNC_MODULE", "ERR_PACKAGE_PATH_NOT_EXPORTED"]);

/** Module loading for cells run in the notebook folder `cwd`. */
export class CellModules {
  /** ES modules loaded by `preload`, shaped like compiled CommonJS (`__esModule` + named exports + default). */
  private readonly esModules = new Map<string, unknown>();
  /** Compiled local .ts files by their .js path, and the modules made from them. */
  private readonly localSources = new Map<string, string>();
  private readonly localModules = new Map<string, { exports: unknown }>();
  private readonly fromNotebook: NodeRequire;
  private readonly fromInstall: NodeRequire;

  constructor(
    private readonly cwd: string,
    private readonly packageRoot: string,
  ) {
    this.fromNotebook = createRequire(path.join(cwd, "__tsml_cell__.js"));
    this.fromInstall = createRequire(path.join(packageRoot, "package.json"));
  }

  /** The `require` function handed to cell code. */
  readonly require = (id: string): unknown => this.requireFrom(this.cwd, id);

  /** Registers local .ts files compiled along with a cell (tslab's "side outputs"); replaces older versions. */
  addLocalModules(outputs: readonly { path: string; data: string }[]): void {
    for (const output of outputs) {
      this.localSources.set(path.resolve(output.path), output.data);
      this.localModules.delete(path.resolve(output.path));
    }
  }

  private requireFrom(dir: string, id: string): unknown {
    if (id.startsWith(".")) {
      const file = path.resolve(dir, id);
      const local = this.localSources.has(file) ? file : path.extname(file) === "" ? `${file}.js` : undefined;
      if (local && this.localSources.has(local)) return this.loadLocal(local);
      if (dir !== this.cwd) return createRequire(path.join(dir, "__tsml_local__.js"))(id);
    }
    if (this.esModules.has(id)) return this.esModules.get(id);
    if (id === TSML_PACKAGE_NAME || id.startsWith(TSML_PACKAGE_NAME + "/")) {
      // Through this install's package.json "exports" (tsml, tsml/experiments, ...), else a path inside the install.
      try {
        return this.fromInstall(id);
      } catch (err) {
        if (errorCode(err) !== "MODULE_NOT_FOUND" && errorCode(err) !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw err;
      }
      return this.fromInstall(path.join(this.packageRoot, id.slice(TSML_PACKAGE_NAME.length)));
    }
    try {
      return this.fromNotebook(id);
    } catch (err) {
      if (errorCode(err) !== "MODULE_NOT_FOUND" || !isBarePackage(id)) throw err;
      return this.fromInstall(id);
    }
  }

  private loadLocal(file: string): unknown {
    const loaded = this.localModules.get(file);
    if (loaded) return loaded.exports;
    const module = { exports: {} as unknown };
    this.localModules.set(file, module);
    const wrapper = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${this.localSources.get(file)}\n})`, {
      filename: file,
    }) as (...args: unknown[]) => void;
    const dir = path.dirname(file);
    wrapper.call(module.exports, module.exports, (id: string) => this.requireFrom(dir, id), module, file, dir);
    return module.exports;
  }

  /**
   * Loads the ES-module-only packages among the static `require("...")` calls of compiled cell code with a real
   * `import()`, so that the cell's synchronous `require` can return them. Imports are hoisted in ES semantics, so
   * loading them before the cell runs matches what `import` means.
   */
  async preload(js: string): Promise<void> {
    for (const match of js.matchAll(/\brequire\("((?:[^"\\]|\\.)+)"\)/g)) {
      const id = JSON.parse(`"${match[1]}"`) as string;
      if (this.esModules.has(id)) continue;
      try {
        this.require(id);
      } catch (err) {
        if (!ESM_ONLY_ERRORS.has(errorCode(err) ?? "")) continue;
        const namespace = await this.importFromNotebook(id);
        this.esModules.set(id, { __esModule: true, ...(namespace as object) });
      }
    }
  }

  private async importFromNotebook(id: string): Promise<unknown> {
    try {
      return await dynamicImport(id, this.cwd);
    } catch (err) {
      if (errorCode(err) !== "ERR_MODULE_NOT_FOUND" || !isBarePackage(id)) throw err;
      return dynamicImport(id, this.packageRoot);
    }
  }
}

/** A real `import(id)` resolved from `dir`, which CommonJS compilation can't turn into `require`. */
function dynamicImport(id: string, dir: string): Promise<unknown> {
  const script = new vm.Script(`import(${JSON.stringify(id)})`, {
    filename: path.join(dir, "__tsml_import__.js"),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  return script.runInThisContext() as Promise<unknown>;
}

function isBarePackage(id: string): boolean {
  return !id.startsWith(".") && !path.isAbsolute(id) && !id.startsWith("node:") && !builtinModules.includes(id);
}

function errorCode(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}
