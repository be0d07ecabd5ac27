/**
 * nbgrader's region markers, in TypeScript comments: `// BEGIN SOLUTION` ... `// END SOLUTION` (replaced by a stub
 * in the student version) and `// BEGIN HIDDEN TESTS` ... `// END HIDDEN TESTS` (removed from it). As in nbgrader, a
 * marker is any line that contains the phrase, and the marker lines go with their region.
 */

/** What replaces a solution region in a code cell: a comment and a statement that fails when run. */
export const CODE_STUB = '// YOUR CODE HERE\nthrow new Error("write your solution here");';
/** What replaces a solution region (or a whole solution cell) in a markdown cell. */
export const TEXT_STUB = "YOUR ANSWER HERE";

const SOLUTION = { begin: "BEGIN SOLUTION", end: "END SOLUTION", what: "solution" };
const HIDDEN_TESTS = { begin: "BEGIN HIDDEN TESTS", end: "END HIDDEN TESTS", what: "hidden tests" };

/** A source with its regions replaced, and whether it had any. */
export interface Replaced {
  source: string;
  found: boolean;
}

/** Replaces each solution region by `stub` (indented like its BEGIN line); throws on nested or unclosed regions. */
export function replaceSolutionRegions(source: string, stub: string, where: string): Replaced {
  return replaceRegions(source, SOLUTION, (indent) => stub.split("\n").map((line) => indent + line), where);
}

/** Removes each hidden-tests region; throws on nested or unclosed regions. */
export function removeHiddenTests(source: string, where: string): Replaced {
  return replaceRegions(source, HIDDEN_TESTS, () => [], where);
}

/** True when the source has a solution region. */
export function hasSolutionRegion(source: string): boolean {
  return source.split("\n").some((line) => line.includes(SOLUTION.begin));
}

/** True when the source has a hidden-tests region. */
export function hasHiddenTests(source: string): boolean {
  return source.split("\n").some((line) => line.includes(HIDDEN_TESTS.begin));
}

function replaceRegions(source: string, markers: typeof SOLUTION, replacement: (indent: string) => string[], where: string): Replaced {
  const out: string[] = [];
  let inside = false;
  let found = false;
  for (const line of source.split("\n")) {
    if (line.includes(markers.begin)) {
      if (inside) throw new Error(`${where}: "${markers.begin}" inside another ${markers.what} region (regions cannot nest)`);
      inside = true;
      found = true;
      out.push(...replacement(/^\s*/.exec(line)![0]));
    } else if (line.includes(markers.end)) {
      if (!inside) throw new Error(`${where}: "${markers.end}" without a "${markers.begin}" before it`);
      inside = false;
    } else if (!inside) out.push(line);
  }
  if (inside) throw new Error(`${where}: "${markers.begin}" without an "${markers.end}" after it`);
  return { source: out.join("\n"), found };
}
