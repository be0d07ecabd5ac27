/**
 * Rewrites a cell's compiled code so that every loop iteration first checks for an interrupt (see interrupt.ts):
 * `__tsmlInterruptCheck();` in synchronous code, `await __tsmlInterruptPoint();` in async code (which also lets
 * the event loop turn now and then, so that the interrupt can arrive at all).
 */
import * as ts from "@tslab/typescript-for-tslab";
import type { SourceMapPayload } from "module";
import { INTERRUPT_CHECK_NAME, INTERRUPT_POINT_NAME } from "./interrupt";

/** Instrumented code, and its source map back to the input when it changed. */
export interface InstrumentedCode {
  code: string;
  map?: SourceMapPayload;
}

/** Returns `js` (a script) with an interrupt check at the head of every loop body. */
export function instrumentLoops(js: string): InstrumentedCode {
  if (!/\b(for|while|do)\b/.test(js)) return { code: js };
  const output = ts.transpileModule(js, {
    fileName: "cell.js",
    compilerOptions: { target: ts.ScriptTarget.ESNext, sourceMap: true, newLine: ts.NewLineKind.LineFeed, noImplicitUseStrict: true },
    transformers: { before: [addLoopChecks] },
  });
  return {
    code: output.outputText.replace(/^\/\/# sourceMappingURL=.*$/gm, ""),
    map: output.sourceMapText ? (JSON.parse(output.sourceMapText) as SourceMapPayload) : undefined,
  };
}

function addLoopChecks(context: ts.TransformationContext): ts.Transformer<ts.SourceFile> {
  const f = context.factory;
  const withCheck = (body: ts.Statement, inAsync: boolean): ts.Statement => {
    const call = f.createCallExpression(f.createIdentifier(inAsync ? INTERRUPT_POINT_NAME : INTERRUPT_CHECK_NAME), undefined, []);
    const check = f.createExpressionStatement(inAsync ? f.createAwaitExpression(call) : call);
    const statements = ts.isBlock(body) ? body.statements : [body];
    return f.createBlock([check, ...statements], true);
  };
  const visit = (node: ts.Node, inAsync: boolean): ts.Node => {
    const async = ts.isFunctionLike(node) ? (ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Async) !== 0 : inAsync;
    const n = ts.visitEachChild(node, (child) => visit(child, async), context);
    if (ts.isWhileStatement(n)) return f.updateWhileStatement(n, n.expression, withCheck(n.statement, async));
    if (ts.isDoStatement(n)) return f.updateDoStatement(n, withCheck(n.statement, async), n.expression);
    if (ts.isForStatement(n)) return f.updateForStatement(n, n.initializer, n.condition, n.incrementor, withCheck(n.statement, async));
    if (ts.isForInStatement(n)) return f.updateForInStatement(n, n.initializer, n.expression, withCheck(n.statement, async));
    if (ts.isForOfStatement(n)) return f.updateForOfStatement(n, n.awaitModifier, n.initializer, n.expression, withCheck(n.statement, async));
    return n;
  };
  return (file) => visit(file, false) as ts.SourceFile;
}
