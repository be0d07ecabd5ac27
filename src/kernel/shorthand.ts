/**
 * Expands shorthand properties (`{ x }` -> `{ x: x }`) in a cell's TypeScript before tslab converts it.
 *
 * tslab turns names declared by earlier cells into `exports.<name>`, but it finds them with
 * `checker.getSymbolAtLocation`, which for a shorthand property's name answers the *property*, not the variable, so
 * `{ maxLength }` stayed a bare reference to a variable that no longer exists (ReferenceError). Written out as
 * `{ maxLength: maxLength }`, the value is an ordinary identifier that tslab rewrites. The expansion means the same in
 * object literals and in destructuring assignments (`({ x = 1 } = o)` -> `({ x: x = 1 } = o)`).
 */
import * as ts from "@tslab/typescript-for-tslab";

/** A cell with its shorthand properties written out, and where the text was inserted (offsets into the new code). */
export interface ExpandedCell {
  code: string;
  /** Sorted by `at`: `length` characters (`: name`) were inserted at offset `at` of `code`, after the name at `nameStart`. */
  insertions: { at: number; length: number; nameStart: number }[];
}

/** Returns `code` with every shorthand property assignment written as `name: name`. */
export function expandShorthandProperties(code: string): ExpandedCell {
  if (!code.includes("{")) return { code, insertions: [] };
  const source = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const names: ts.Identifier[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isShorthandPropertyAssignment(node)) names.push(node.name);
    ts.forEachChild(node, visit);
  };
  visit(source);
  let expanded = "";
  let copied = 0;
  const insertions: ExpandedCell["insertions"] = [];
  for (const name of names) {
    const text = `: ${name.getText(source)}`;
    expanded += code.slice(copied, name.end);
    insertions.push({ at: expanded.length, length: text.length, nameStart: expanded.length - (name.end - name.getStart(source)) });
    expanded += text;
    copied = name.end;
  }
  return { code: expanded + code.slice(copied), insertions };
}

/** A cell diagnostic's position in the original cell (insertions hold no line breaks, so only columns move). */
export function originalPosition<P extends { offset: number; line: number; character: number }>(cell: ExpandedCell, pos: P): P {
  const lineStart = pos.offset - pos.character;
  const shiftInLine = pos.offset - originalOffset(cell, pos.offset) - (lineStart - originalOffset(cell, lineStart));
  return { ...pos, offset: originalOffset(cell, pos.offset), character: pos.character - shiftInLine };
}

/** The offset in the original cell of `offset` in the expanded one (the inserted copy of a name maps to the name). */
function originalOffset(cell: ExpandedCell, offset: number): number {
  let shift = 0;
  for (const { at, length, nameStart } of cell.insertions) {
    if (offset <= at) break;
    if (offset < at + length) return nameStart - shift;
    shift += length;
  }
  return offset - shift;
}
