/**
 * Runs cells: compiles TypeScript with tslab's converter (type checking against the previous cells'
 * declarations), executes the JavaScript in this process, and hands back the last expression's value.
 */
import * as vm from "vm";
import type { Converter } from "tslab/dist/converter";
import { describeDiagnostics, describeError, ErrorContent } from "./errors";
import { instrumentLoops } from "./instrument";
import { InterruptController } from "./interrupt";
import { CellModules } from "./modules";
import { installTsmlTypeResolution } from "./resolveTsml";
import { expandShorthandProperties, originalPosition } from "./shorthand";

/** What running one cell gave: its last expression's value (if it ended with an expression) or an error. */
export type CellOutcome = { ok: true; hasValue: boolean; value?: unknown } | { ok: false; error: ErrorContent };

/** Completion candidates for `complete_request` (UTF-16 offsets). */
export interface Completion {
  start: number;
  end: number;
  matches: string[];
}

/** Global declarations every cell sees (the kernel's globals). */
const KERNEL_GLOBALS = `declare global {
  /** Shows a value in the notebook (rich output when it implements Symbol.for("Jupyter.display")); the handle updates it in place. */
  function display(value: unknown): Promise<{ readonly displayId: string; update(value: unknown): Promise<void> }>;
  /** Clears this cell's output; with wait = true only when the next output arrives (no flicker in loops). */
  function clearOutput(wait?: boolean): void;
}`;

/** The cell executor of one kernel process (one notebook folder). */
export class CellExecutor {
  private converter: Converter | undefined;
  private previousDeclarations = "";
  private readonly modules: CellModules;
  /** Cell-level variables live here (tslab compiles `let x` in a cell to `exports.x`). */
  private readonly locals: Record<string, unknown> = {};

  constructor(private readonly cwd: string, private readonly packageRoot: string, private readonly interrupts: InterruptController) {
    this.modules = new CellModules(cwd, packageRoot);
    const target = this.locals;
    const exports = new Proxy(target, {
      // Compiled named imports use defineProperty with getters; keep plain, rewritable values instead.
      defineProperty: (_t, prop, attributes) => {
        if (prop !== "__esModule") (target as Record<PropertyKey, unknown>)[prop] = attributes.get ? attributes.get() : attributes.value;
        return true;
      },
    });
    Object.assign(globalThis, { __tsmlCell: { exports, require: this.modules.require } });
  }

  /** Creates the TypeScript converter (slow: seconds, it loads the lib and @types declarations); called once, early. */
  warmUp(): Converter {
    if (!this.converter) {
      installTsmlTypeResolution(this.cwd, this.packageRoot);
      const { createConverter } = require("tslab/dist/converter") as typeof import("tslab/dist/converter");
      this.converter = createConverter({ isJS: false, isBrowser: false });
      // A separate virtual file: declarations in the previous-cells file would be rewritten to `exports.<name>`.
      this.converter.addModule("__tsml_kernel_globals__", KERNEL_GLOBALS);
    }
    return this.converter;
  }

  /** Compiles and runs one cell; an interrupt (SIGINT, interrupt_request) ends it with KeyboardInterrupt. */
  async execute(code: string): Promise<CellOutcome> {
    try {
      return await this.interrupts.run(() => this.compileAndRun(code));
    } catch (err) {
      return { ok: false, error: describeError(err) };
    }
  }

  private async compileAndRun(code: string): Promise<CellOutcome> {
    const cell = expandShorthandProperties(code);
    const converted = this.warmUp().convert(this.previousDeclarations, cell.code);
    if (converted.sideOutputs) this.modules.addLocalModules(converted.sideOutputs);
    if (converted.diagnostics.length > 0) {
      const inCell = converted.diagnostics.map((d) => (d.fileName ? d : { ...d, start: originalPosition(cell, d.start), end: originalPosition(cell, d.end) }));
      return { ok: false, error: describeDiagnostics(inCell) };
    }
    if (!converted.output) {
      this.previousDeclarations = converted.declOutput ?? "";
      return { ok: true, hasValue: false };
    }
    const js = instrumentLoops(converted.output);
    await this.modules.preload([js, ...(converted.sideOutputs ?? []).map((output) => output.data)].join("\n"));
    // Give the event loop one turn so that a SIGINT sent while the cell compiled is handled before it runs.
    await new Promise((resolve) => setImmediate(resolve));
    this.interrupts.throwIfInterrupted();
    const wrapped =
      (converted.hasToplevelAwait ? "(async function (exports, require) {\n" : "(function (exports, require) {\n") +
      js +
      "\n})(__tsmlCell.exports, __tsmlCell.require)";
    await vm.runInThisContext(wrapped, { filename: "cell", breakOnSigint: true, displayErrors: false });
    this.previousDeclarations = converted.declOutput ?? "";
    const name = converted.lastExpressionVar;
    if (!name || !(name in this.locals)) return { ok: true, hasValue: false };
    const value = this.locals[name];
    delete this.locals[name];
    return { ok: true, hasValue: true, value };
  }

  /** Completion candidates at `position` (a UTF-16 offset into `code`). */
  complete(code: string, position: number): Completion {
    const info = this.warmUp().complete(this.previousDeclarations, code, position);
    return { start: info.start, end: info.end, matches: info.candidates };
  }

  /** Type and documentation of the symbol at `position`, as text, or undefined. */
  inspect(code: string, position: number): string | undefined {
    const info = this.warmUp().inspect(this.previousDeclarations, code, position);
    if (!info) return undefined;
    const { printQuickInfo } = require("tslab/dist/inspect") as typeof import("tslab/dist/inspect");
    return printQuickInfo(info) || undefined;
  }

  /** Whether `code` is a complete cell (for console frontends), with the indent to continue with. */
  isComplete(code: string): { complete: boolean; indent?: string } {
    const { isCompleteCode } = require("tslab/dist/converter") as typeof import("tslab/dist/converter");
    const result = isCompleteCode(code);
    return { complete: result.completed, indent: result.indent };
  }

  /** Releases the compiler's watchers. */
  close(): void {
    this.converter?.close();
  }
}
