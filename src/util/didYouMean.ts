/** "Did you mean" suggestions for a mistyped name (options, grid keys). */

/** Edit distance between two names. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length];
}

/** "; did you mean X?" for the known name closest to `name` (within 2 edits, or a third of its length), else "". */
export function didYouMean(name: string, known: readonly string[], prefix = ""): string {
  const ranked = known.map((k) => ({ k, d: editDistance(name.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d);
  const best = ranked[0];
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) && best.d < name.length ? `; did you mean ${prefix}${best.k}?` : "";
}
