/** The one positive-integer check (counts, sizes, numbers of steps) behind every option that needs one. */

/** True for a number that is an integer >= 1. */
export function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1;
}

/** Throws "`name` must be a positive integer, got `value`" unless `value` is an integer >= 1. */
export function requirePositiveInteger(value: unknown, name: string): asserts value is number {
  if (!isPositiveInteger(value))
    throw new Error(`${name} must be a positive integer, got ${typeof value === "string" ? JSON.stringify(value) : String(value)}`);
}
