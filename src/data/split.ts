/** Seeded stratified train/dev/test splits and the class balance of each part. */
import { frameFromColumns, type DataFrame } from "./danfo";
import { allocateProportionally, seededRng } from "./random";

/** Shares of the three parts (need not sum to 1; they are normalised). */
export interface SplitFractions {
  train: number;
  dev: number;
  test: number;
}

/** Example indices of each part, ascending. */
export interface DatasetSplit {
  train: number[];
  dev: number[];
  test: number[];
}

/** Options of `stratifiedSplit`. */
export interface StratifiedSplitOptions {
  seed?: number;
  /** Default 70/15/15. */
  fractions?: SplitFractions;
}

const PARTS = ["train", "dev", "test"] as const;

/**
 * Splits example indices into train/dev/test so that every class is divided in the given proportions
 * (per class, each part's count is within 1 of its exact share and the counts sum to the class size).
 * Which examples go where is a seeded shuffle per class.
 */
export function stratifiedSplit(labels: ArrayLike<number>, options: StratifiedSplitOptions = {}): DatasetSplit {
  const fractions = options.fractions ?? { train: 0.7, dev: 0.15, test: 0.15 };
  const weights = PARTS.map((p) => fractions[p]);
  if (weights.some((w) => !(w >= 0)) || weights.every((w) => w === 0)) {
    throw new Error(`stratifiedSplit: fractions ${JSON.stringify(fractions)} must be non-negative and not all zero`);
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0) throw new Error(`stratifiedSplit: label ${label} at index ${i} is not a class id`);
    if (!byClass.has(label)) byClass.set(label, []);
    byClass.get(label)!.push(i);
  }
  const split: DatasetSplit = { train: [], dev: [], test: [] };
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = seededRng(options.seed ?? 0, label).shuffle(byClass.get(label)!);
    const counts = allocateProportionally(members.length, weights);
    let start = 0;
    PARTS.forEach((part, k) => {
      split[part].push(...members.slice(start, start + counts[k]));
      start += counts[k];
    });
  }
  for (const part of PARTS) split[part].sort((a, b) => a - b);
  return split;
}

/** Counts and shares of each class in each part (and overall) as a DataFrame: split, label, count, share. */
export function classBalance(labels: ArrayLike<number>, labelNames: string[], split?: DatasetSplit): DataFrame {
  const all = Array.from({ length: labels.length }, (_, i) => i);
  const parts: Array<[string, number[]]> = split ? [["all", all], ...PARTS.map((p) => [p, split[p]] as [string, number[]])] : [["all", all]];
  const columns = { split: [] as string[], label: [] as string[], count: [] as number[], share: [] as number[] };
  for (const [name, indices] of parts) {
    const counts = labelNames.map(() => 0);
    for (const i of indices) counts[labels[i]]++;
    labelNames.forEach((label, c) => {
      columns.split.push(name);
      columns.label.push(label);
      columns.count.push(counts[c]);
      columns.share.push(indices.length ? counts[c] / indices.length : 0);
    });
  }
  return frameFromColumns(columns);
}
