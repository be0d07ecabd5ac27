/** Rewrites compiled cell code so that every loop iteration first calls the interrupt check (see interrupt.ts). */
import * as ts from "@tslab/typescript-for-tslab";
import { INTERRUPT_CHECK_NAME } from "./interrupt";

/** Returns `js` with `__tsmlInterruptCheck();` at the head of every loop body. */
export function instrumentLoops(js: string): string {
  if (!/\b(for|while|do)\b/.test(js)) return js;
  const source = ts.createSourceFile("cell.js", js, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const result = ts.transform(source, [addLoopChecks]);
  try {
    return ts.createPrinter({ newLine: ts.NewLineKind.LineFeed }).printFile(result.transformed[0]);
  } finally {
    result.dispose();
  }
}

function addLoopChecks(context: ts.TransformationContext): ts.Transformer<ts.SourceFile> {
  const f = context.factory;
  const withCheck = (body: ts.Statement): ts.Statement => {
    const check = f.createExpressionStatement(f.createCallExpression(f.createIdentifier(INTERRUPT_CHECK_NAME), undefined, []));
    const statements = ts.isBlock(body) ? body.statements : [body];
    return f.createBlock([check, ...statements], true);
  };
  const visit = (node: ts.Node): ts.Node => {
    const n = ts.visitEachChild(node, visit, context);
    if (ts.isWhileStatement(n)) return f.updateWhileStatement(n, n.expression, withCheck(n.statement));
    if (ts.isDoStatement(n)) return f.updateDoStatement(n, withCheck(n.statement), n.expression);
    if (ts.isForStatement(n)) return f.updateForStatement(n, n.initializer, n.condition, n.incrementor, withCheck(n.statement));
    if (ts.isForInStatement(n)) return f.updateForInStatement(n, n.initializer, n.expression, withCheck(n.statement));
    if (ts.isForOfStatement(n)) return f.updateForOfStatement(n, n.awaitModifier, n.initializer, n.expression, withCheck(n.statement));
    return n;
  };
  return (file) => ts.visitNode(file, visit) as ts.SourceFile;
}
