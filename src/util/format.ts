/** The one number formatter for people (reports, conclusions, chart labels, progress lines). */

/**
 * `value` for reading: "n/a" when not finite, integers as they are, magnitudes below `exponentBelow` in the
 * shortest exponent form ("1e-4", "2.5e-5"), everything else to `digits` significant digits ("0.272").
 */
export function formatNumber(value: number | null | undefined, digits = 3, exponentBelow = 1e-3): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "n/a";
  if (Number.isInteger(value)) return String(value);
  const rounded = Number(value.toPrecision(digits));
  return Math.abs(value) < exponentBelow ? rounded.toExponential() : String(rounded);
}
