/** Token-length statistics of a corpus (per group), as a DataFrame ready for a chart. */
import { frameFromColumns, type DataFrame } from "./danfo";

/** Linear-interpolated percentile of ascending values (numpy's default), `q` in [0, 1]. */
export function percentile(sortedAscending: ArrayLike<number>, q: number): number {
  const n = sortedAscending.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sortedAscending[lo] + (sortedAscending[hi] - sortedAscending[lo]) * (pos - lo);
}

/** Options of `tokenLengthStats`. */
export interface TokenLengthStatsOptions {
  /** Length at which sequences get truncated; one row per (group, maxLength) when several are given. */
  maxLength: number | number[];
  /** Group name of each example (e.g. its label name); an "all" group is always included. */
  groups?: string[];
}

/**
 * Per group: count, mean, median, p90, max token length, and the share of examples longer than maxLength
 * (those that truncation would cut). Columns: group, maxLength, count, mean, median, p90, max, truncatedShare.
 */
export function tokenLengthStats(lengths: ArrayLike<number>, options: TokenLengthStatsOptions): DataFrame {
  const maxLengths = Array.isArray(options.maxLength) ? options.maxLength : [options.maxLength];
  if (lengths.length === 0) throw new Error("tokenLengthStats: no lengths given");
  if (options.groups && options.groups.length !== lengths.length) {
    throw new Error(`tokenLengthStats: ${options.groups.length} groups for ${lengths.length} lengths`);
  }
  const members = new Map<string, number[]>([["all", Array.from(lengths)]]);
  options.groups?.forEach((g, i) => {
    if (!members.has(g)) members.set(g, []);
    members.get(g)!.push(lengths[i]);
  });
  const rows: Array<Record<string, string | number>> = [];
  for (const [group, values] of members) {
    const sorted = Float64Array.from(values).sort();
    for (const maxLength of maxLengths) {
      rows.push({
        group,
        maxLength,
        count: sorted.length,
        mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
        median: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        max: sorted[sorted.length - 1],
        truncatedShare: sorted.filter((x) => x > maxLength).length / sorted.length,
      });
    }
  }
  const names = ["group", "maxLength", "count", "mean", "median", "p90", "max", "truncatedShare"];
  return frameFromColumns(Object.fromEntries(names.map((n) => [n, rows.map((r) => r[n])])));
}
