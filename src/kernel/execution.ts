/**
 * Runs cells: compiles TypeScript with tslab's converter (type checking against the previous cells'
 * declarations), executes the JavaScript in this process, and hands back the last expression's value.
 */
import * as vm from "vm";
import * as ts from "@tslab/typescript-for-tslab";
import type { Converter } from "tslab/dist/converter";
import { cellFileName, CellSources } from "./cellSources";
import { createMappedConverter, MappedConverter } from "./converter";
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
  /** Inside an options object: the declared type of each matching option name. */
  types: Map<string, string>;
}

/** TypeScript's code for "Unterminated string literal" (a quoted string can't continue on the next line). */
const UNTERMINATED_STRING_LITERAL = 1002;

/** Global declarations every cell sees (the kernel's globals). */
const KERNEL_GLOBALS = `declare global {
  /** Shows a value in the notebook (rich output when it implements Symbol.for("Jupyter.display")); the handle updates it in place. */
  function display(value: unknown): Promise<{ readonly displayId: string; update(value: unknown): Promise<void> }>;
  /** Clears this cell's output; with wait = true only when the next output arrives (no flicker in loops). */
  function clearOutput(wait?: boolean): void;
  /** Asks the notebook user for a line of text (the client must allow stdin; nbconvert does not). */
  function input(prompt?: string): Promise<string>;
  /** Asks the notebook user for a secret: the front-end hides what is typed. */
  function password(prompt?: string): Promise<string>;
}`;

/** Who runs a cell: the tag its async context carries (the request), and how its stack frames are labelled. */
export interface CellRunInfo<Tag> {
  tag: Tag;
  /** `In[3]` for execution count 3. */
  label: string;
}

/** The cell executor of one kernel process (one notebook folder). */
export class CellExecutor<Tag = unknown> {
  private mapped: MappedConverter | undefined;
  private previousDeclarations = "";
  private readonly modules: CellModules;
  /** Every compiled cell, for mapping stack traces and attributing late errors. */
  readonly sources = new CellSources<Tag>();
  private cellSeq = 0;
  /** The compute backend (see `startBackend`); cells wait for it. */
  private backendReady: Promise<string | undefined> | undefined;
  /** Cell-level variables live here (tslab compiles `let x` in a cell to `exports.x`). */
  private readonly locals: Record<string, unknown> = {};

  constructor(
    private readonly cwd: string,
    private readonly packageRoot: string,
    private readonly interrupts: InterruptController<Tag>,
    private readonly log: (message: string) => void = () => undefined,
  ) {
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
    if (!this.mapped) {
      installTsmlTypeResolution(this.cwd, this.packageRoot);
      this.mapped = createMappedConverter();
      // A separate virtual file: declarations in the previous-cells file would be rewritten to `exports.<name>`.
      this.mapped.converter.addModule("__tsml_kernel_globals__", KERNEL_GLOBALS);
    }
    return this.mapped.converter;
  }

  /**
   * Calls the converter; if it throws (its own state broke: a compile error is a diagnostic, never a throw), the
   * converter is created afresh and the call is made once more, so that one bad state never outlives a request.
   */
  private withConverter<T>(use: (converter: Converter) => T): T {
    try {
      return use(this.warmUp());
    } catch (err) {
      this.log(`the TypeScript converter failed (${err instanceof Error ? err.message : String(err)}); starting a new one`);
      try {
        this.mapped?.converter.close();
      } catch {
        // a broken converter may fail to close; it is dropped either way
      }
      this.mapped = undefined;
      return use(this.warmUp());
    }
  }

  /**
   * Starts tsml's best compute backend (native TensorFlow, else WebAssembly; `TSML_BACKEND` forces one) before any
   * cell runs, so that a plain `import * as tf from "@tensorflow/tfjs"` in a cell computes on it (and tfjs's
   * "install the node backend" banner for its pure-JS fallback never shows).
   */
  startBackend(): void {
    this.backendReady ??= (async () => {
      // Emscripten's loader (the WASM backend) adds process handlers that rethrow every unhandled rejection and
      // uncaught exception, which would end the kernel; the kernel's own handlers report them in the notebook.
      const events = ["uncaughtException", "unhandledRejection"];
      const listeners = (event: string) => process.listeners(event as "uncaughtException") as ((...args: unknown[]) => void)[];
      const before = events.map((event) => new Set(listeners(event)));
      try {
        const { initBackend } = require("../backend") as typeof import("../backend");
        await initBackend();
        return undefined;
      } catch (err) {
        return `tsml kernel: no TensorFlow.js backend could be started: ${err instanceof Error ? err.message : String(err)}\n`;
      } finally {
        events.forEach((event, i) =>
          listeners(event)
            .filter((l) => !before[i].has(l))
            .forEach((l) => process.removeListener(event, l)),
        );
      }
    })();
  }

  /** Compiles and runs one cell; an interrupt (SIGINT, interrupt_request) ends it with KeyboardInterrupt. */
  async execute(code: string, run: CellRunInfo<Tag>): Promise<CellOutcome> {
    try {
      return await this.interrupts.run(run.tag, () => this.compileAndRun(code, run));
    } catch (err) {
      return { ok: false, error: describeError(err, this.sources) };
    }
  }

  private async compileAndRun(code: string, run: CellRunInfo<Tag>): Promise<CellOutcome> {
    this.startBackend();
    const backendProblem = await this.backendReady;
    if (backendProblem) {
      process.stderr.write(backendProblem);
      this.backendReady = Promise.resolve(undefined);
    }
    const cell = expandShorthandProperties(code);
    const converted = this.withConverter((converter) => converter.convert(this.previousDeclarations, cell.code));
    const conversion = this.mapped!.takeMaps();
    if (converted.sideOutputs) this.modules.addLocalModules(converted.sideOutputs);
    if (converted.diagnostics.length > 0) {
      const inCell = converted.diagnostics.map((d) => (d.fileName ? d : { ...d, start: originalPosition(cell, d.start), end: originalPosition(cell, d.end) }));
      return { ok: false, error: describeDiagnostics(inCell, { label: run.label, source: code }) };
    }
    if (!converted.output) {
      this.previousDeclarations = converted.declOutput ?? "";
      return { ok: true, hasValue: false };
    }
    await this.modules.preload([converted.output, ...(converted.sideOutputs ?? []).map((output) => output.data)].join("\n"));
    // Give the event loop one turn so that a SIGINT sent while the cell compiled is handled before it runs.
    await new Promise((resolve) => setImmediate(resolve));
    this.interrupts.throwIfInterrupted();
    const header = converted.hasToplevelAwait ? "(async function (exports, require) {" : "(function (exports, require) {";
    const body = converted.output.replace(/\n$/, "");
    const script = instrumentLoops(`${header}\n${body}\n})(__tsmlCell.exports, __tsmlCell.require)`);
    const file = cellFileName(++this.cellSeq);
    this.sources.add({
      file,
      label: run.label,
      source: code,
      expanded: cell,
      conversion,
      headerLines: 1,
      bodyLines: body.split("\n").length,
      instrumentation: script.map,
      tag: run.tag,
    });
    // Like a Python kernel, keep what the cell declared even when it fails or is interrupted part way: the values
    // it assigned so far stay (tslab stores them on `exports` as it goes), the rest are undefined.
    this.previousDeclarations = converted.declOutput ?? "";
    await vm.runInThisContext(script.code, { filename: file, breakOnSigint: true, displayErrors: false });
    const name = converted.lastExpressionVar;
    if (!name || !(name in this.locals)) return { ok: true, hasValue: false };
    const value = this.locals[name];
    delete this.locals[name];
    return { ok: true, hasValue: true, value };
  }

  /** Completion candidates at `position` (a UTF-16 offset into `code`). */
  complete(code: string, position: number): Completion {
    const info = this.withConverter((converter) => converter.complete(this.previousDeclarations, code, position));
    const optionTypes = this.mapped!.takeCompletionTypes();
    const types = new Map(info.candidates.filter((name) => optionTypes.has(name)).map((name) => [name, optionTypes.get(name)!] as [string, string]));
    return { start: info.start, end: info.end, matches: info.candidates, types };
  }

  /** Type and documentation of the symbol at `position`, as text, or undefined. */
  inspect(code: string, position: number): string | undefined {
    const info = this.withConverter((converter) => converter.inspect(this.previousDeclarations, code, position));
    if (!info) return undefined;
    const { printQuickInfo } = require("tslab/dist/inspect") as typeof import("tslab/dist/inspect");
    return printQuickInfo(info) || undefined;
  }

  /**
   * Whether `code` is a complete cell, for console frontends: "invalid" when TypeScript's parser reports a syntax
   * error before the end, "incomplete" (with the indent to continue with) when the only errors are at the very end
   * (an open brace, bracket, template literal or comment), else "complete". Two trailing blank lines force "complete".
   */
  isComplete(code: string): { status: "complete" | "incomplete" | "invalid"; indent?: string } {
    if (/(^|\n)\s*\n\s*$/.test(code)) return { status: "complete" };
    const source = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const diagnostics = (source as unknown as { parseDiagnostics: ts.DiagnosticWithLocation[] }).parseDiagnostics;
    if (diagnostics.length === 0) return { status: "complete" };
    const atEnd = (d: ts.DiagnosticWithLocation) => d.start >= code.length && d.code !== UNTERMINATED_STRING_LITERAL;
    if (!diagnostics.every(atEnd)) return { status: "invalid" };
    const { isCompleteCode } = require("tslab/dist/converter") as typeof import("tslab/dist/converter");
    return { status: "incomplete", indent: isCompleteCode(code).indent ?? "" };
  }

  /** Releases the compiler's watchers. */
  close(): void {
    this.mapped?.converter.close();
  }
}
