/**
 * tslab's TypeScript converter, with source maps.
 *
 * tslab compiles a cell in two emits (TypeScript -> ES module JS in its watch program, then ES module -> CommonJS
 * with `ts.transpileModule`) and offers no option for source maps. Its compiler options are fixed inside
 * `createConverter`, and the TypeScript module's exports can't be patched (they are non-configurable getters), so
 * this file loads tslab's converter module once more with its own `require`, handing it a copy of TypeScript
 * whose two entry points add source-map options. The maps of the last conversion are then read with `takeMaps`.
 * Nothing else about the conversion changes, except its timers (see `withOneRebuildTimer`).
 */
import * as fs from "fs";
import * as path from "path";
import Module = require("module");
import * as realTs from "@tslab/typescript-for-tslab";
import type { Converter } from "tslab/dist/converter";
import type { SourceMapPayload } from "module";

/** The two source maps of a converted cell: CommonJS -> ES module JS -> TypeScript (tslab's file, with its prefix). */
export interface ConversionMaps {
  commonJs: SourceMapPayload;
  esModule: SourceMapPayload;
}

/** A converter whose last conversion's source maps can be read. */
export interface MappedConverter {
  converter: Converter;
  /** The maps of the cell converted last (undefined when it emitted nothing); forgets them. */
  takeMaps(): ConversionMaps | undefined;
  /** For the last completion inside an object literal: each option name's declared type; forgets them. */
  takeCompletionTypes(): Map<string, string>;
}

type QuickInfoAt = (sourceFile: realTs.SourceFile, checker: realTs.TypeChecker, token: unknown, position: number) => realTs.QuickInfo | undefined;
type CompletionsAt = (
  host: unknown,
  program: realTs.Program,
  log: unknown,
  sourceFile: realTs.SourceFile,
  position: number,
  ...rest: unknown[]
) => realTs.CompletionInfo | undefined;

/**
 * Where help inside a call's parentheses comes from: the position of the callee's name (`Trainer` in
 * `new Trainer(|`, `lossCurveChart` in `lossCurveChart(h, {|`), for the innermost call or `new` whose argument list
 * holds `position` (an unclosed one too, as while typing); undefined outside any argument list.
 */
function calleeNameAt(sourceFile: realTs.SourceFile, cursor: number): number | undefined {
  const position = beforeWhitespace(sourceFile.text, cursor);
  let found: realTs.CallExpression | realTs.NewExpression | undefined;
  const visit = (node: realTs.Node): void => {
    if (position < node.pos || position > node.end) return;
    if ((realTs.isCallExpression(node) || realTs.isNewExpression(node)) && node.arguments) {
      const closed = sourceFile.text[node.end - 1] === ")";
      if (position >= node.arguments.pos && (position < node.end || !closed)) found = node;
    }
    realTs.forEachChild(node, visit);
  };
  visit(sourceFile);
  if (!found) return undefined;
  let callee: realTs.Node = found.expression;
  while (realTs.isPropertyAccessExpression(callee) || realTs.isParenthesizedExpression(callee))
    callee = realTs.isPropertyAccessExpression(callee) ? callee.name : callee.expression;
  return callee.getStart(sourceFile);
}

/** The cursor moved back over the blanks before it (an unclosed node ends at its last token, not at the cursor). */
function beforeWhitespace(text: string, cursor: number): number {
  let position = cursor;
  while (position > 0 && /\s/.test(text[position - 1])) position--;
  return position;
}

/** Quick info at `position`, with the documentation of the declaration an import alias stands for when it has none. */
function quickInfoWithDocs(quickInfoAt: QuickInfoAt, sourceFile: realTs.SourceFile, checker: realTs.TypeChecker, token: unknown, position: number) {
  const info = quickInfoAt(sourceFile, checker, token, position);
  if (!info || (info.documentation?.length ?? 0) > 0) return info;
  const node = (realTs as unknown as { getTokenAtPosition(file: realTs.SourceFile, at: number): realTs.Node }).getTokenAtPosition(sourceFile, position);
  let symbol = checker.getSymbolAtLocation(node);
  if (symbol && symbol.flags & realTs.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  if (!symbol) return info;
  return { ...info, documentation: symbol.getDocumentationComment(checker), tags: [...(info.tags ?? []), ...symbol.getJsDocTags(checker)] };
}

/** The declared type of each property the object literal around `position` may have (its contextual type's). */
function objectLiteralPropertyTypes(program: realTs.Program, sourceFile: realTs.SourceFile, cursor: number): Map<string, string> {
  const position = beforeWhitespace(sourceFile.text, cursor);
  const types = new Map<string, string>();
  let literal: realTs.ObjectLiteralExpression | undefined;
  const visit = (node: realTs.Node): void => {
    if (position <= node.pos || position > node.end) return;
    if (realTs.isObjectLiteralExpression(node)) literal = node;
    realTs.forEachChild(node, visit);
  };
  visit(sourceFile);
  if (!literal) return types;
  const checker = program.getTypeChecker();
  const contextual = checker.getContextualType(literal);
  if (!contextual) return types;
  for (const property of checker.getNonNullableType(contextual).getProperties()) {
    const type = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(property, literal));
    types.set(property.name, checker.typeToString(type, literal, realTs.TypeFormatFlags.NoTruncation));
  }
  return types;
}

const INLINE_MAP = /^\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/m;
const MAP_COMMENT = /^\/\/# sourceMappingURL=.*$/gm;

/** The timer functions of TypeScript's watch host. */
interface WatchTimers {
  setTimeout?(callback: (...args: unknown[]) => void, ms: number, ...args: unknown[]): unknown;
  clearTimeout?(timer: unknown): void;
}

/**
 * Makes TypeScript's watch timers fit tslab's one. tslab runs TypeScript's watch program without real timers: its
 * host keeps ONE pending timer and fires it itself when a cell is converted, and throws "Unexpected pending
 * rebuildTimer" when TypeScript asks for a second. TypeScript has two (a program update and, when a watched folder
 * changes — a module installed, a folder rebuilt under the notebook — an invalidation of failed module lookups,
 * which itself schedules an update), so a file change between cells broke every later cell and completion. Here
 * all of TypeScript's pending timers share tslab's one, and all run (in order, including those they schedule) when
 * tslab fires it.
 */
function withOneRebuildTimer<Host extends WatchTimers>(host: Host): Host {
  const tslabSetTimeout = host.setTimeout?.bind(host);
  const tslabClearTimeout = host.clearTimeout?.bind(host);
  if (!tslabSetTimeout || !tslabClearTimeout) return host;
  const pending = new Map<object, () => void>();
  let registered: unknown;
  let running = false;
  const runAll = () => {
    registered = undefined;
    running = true;
    try {
      for (let pass = 0; pass < 100 && pending.size > 0; pass++) {
        const due = [...pending.values()];
        pending.clear();
        for (const callback of due) callback();
      }
    } finally {
      running = false;
    }
  };
  host.setTimeout = (callback, _ms, ...args) => {
    const timer = {};
    pending.set(timer, () => callback(...args));
    if (!running && registered === undefined) registered = tslabSetTimeout(runAll, 0);
    return timer;
  };
  host.clearTimeout = (timer) => {
    pending.delete(timer as object);
    if (pending.size === 0 && registered !== undefined && !running) {
      tslabClearTimeout(registered);
      registered = undefined;
    }
  };
  return host;
}

/** Creates tslab's converter (as `createConverter({ isJS: false, isBrowser: false })` does) with source maps. */
export function createMappedConverter(): MappedConverter {
  let last: ConversionMaps | undefined;
  let completionTypes = new Map<string, string>();
  const ts: typeof realTs = { ...realTs };
  const quickInfoAt = (realTs as unknown as { getQuickInfoAtPosition: QuickInfoAt }).getQuickInfoAtPosition;
  const completions = (realTs as unknown as { Completions: Record<string, unknown> }).Completions;
  const completionsAt = completions.getCompletionsAtPositionForTslab as CompletionsAt;
  Object.assign(ts, {
    // Shift-Tab inside a call's parentheses, where no name is under the cursor, shows the callee's signature and doc.
    getQuickInfoAtPosition: ((sourceFile, checker, token, position) => {
      const info = quickInfoAt(sourceFile, checker, token, position);
      if (info) return info;
      const callee = calleeNameAt(sourceFile, position);
      return callee === undefined ? undefined : quickInfoWithDocs(quickInfoAt, sourceFile, checker, token, callee);
    }) satisfies QuickInfoAt,
    // Completions inside an options object also record the options' types (complete_reply's metadata).
    Completions: {
      ...completions,
      getCompletionsAtPositionForTslab: ((host, program, log, sourceFile, position, ...rest) => {
        const info = completionsAt(host, program, log, sourceFile, position, ...rest);
        completionTypes = info ? objectLiteralPropertyTypes(program, sourceFile, position) : new Map<string, string>();
        return info;
      }) satisfies CompletionsAt,
    },
    createWatchCompilerHost: (roots: string[], options: realTs.CompilerOptions, ...rest: unknown[]) =>
      withOneRebuildTimer((realTs.createWatchCompilerHost as (...args: unknown[]) => WatchTimers)(roots, { ...options, inlineSourceMap: true }, ...rest)),
    transpileModule: (input: string, options: realTs.TranspileOptions): realTs.TranspileOutput => {
      last = undefined;
      if (typeof input !== "string") return realTs.transpileModule(input, options);
      const inline = INLINE_MAP.exec(input);
      const compilerOptions = { ...options.compilerOptions, sourceMap: true, inlineSourceMap: false };
      const output = realTs.transpileModule(input.replace(MAP_COMMENT, ""), { ...options, compilerOptions });
      last =
        inline && output.sourceMapText
          ? {
              esModule: JSON.parse(Buffer.from(inline[1], "base64").toString("utf8")) as SourceMapPayload,
              commonJs: JSON.parse(output.sourceMapText) as SourceMapPayload,
            }
          : undefined;
      return { ...output, outputText: output.outputText.replace(MAP_COMMENT, "") };
    },
  });
  const file = require.resolve("tslab/dist/converter");
  const tslabModule = new Module(file, module);
  tslabModule.filename = file;
  tslabModule.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  const requireInTslab = tslabModule.require.bind(tslabModule);
  tslabModule.require = ((id: string) => (id === "@tslab/typescript-for-tslab" ? ts : (requireInTslab(id) as unknown))) as NodeRequire;
  (tslabModule as unknown as { _compile(code: string, file: string): void })._compile(fs.readFileSync(file, "utf8"), file);
  const { createConverter } = tslabModule.exports as typeof import("tslab/dist/converter");
  return {
    converter: createConverter({ isJS: false, isBrowser: false }),
    takeCompletionTypes: () => {
      const types = completionTypes;
      completionTypes = new Map();
      return types;
    },
    takeMaps: () => {
      const maps = last;
      last = undefined;
      return maps;
    },
  };
}
