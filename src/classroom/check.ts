/**
 * Checks for test cells: `check(name, ok, hint)` and `checkClose(name, actual, expected, tolerance, hint)` print a
 * clear pass/fail line (with the hint when it fails) and record the result for the grader: a pass as a display
 * output of mime type CHECK_MIME, a failure as the cell's error (CheckFailed), so the cell fails, which is how
 * nbgrader (and tsml's grader) score a test cell.
 */
import { kernelHook } from "../display";

/** The mime type of a recorded check in a cell's outputs. */
export const CHECK_MIME = "application/vnd.tsml.check+json";

/** One check's result, as recorded. */
export interface CheckRecord {
  name: string;
  ok: boolean;
  hint: string;
  /** What was compared (checkClose), e.g. "got 0.31, expected 0.25 ± 0.05". */
  detail?: string;
}

/** The error a failed check throws. */
export class CheckFailed extends Error {
  constructor(readonly record: CheckRecord) {
    super(checkLine(record).slice(2));
    this.name = "CheckFailed";
  }
}

/** The line a check prints: "✓ name" or "✗ name — detail — hint". */
export function checkLine(record: CheckRecord): string {
  if (record.ok) return `✓ ${record.name}`;
  return `✗ ${[record.name, record.detail, record.hint ? `hint: ${record.hint}` : ""].filter(Boolean).join(" — ")}`;
}

/** Passes when `ok` is true; otherwise prints the hint and throws CheckFailed, which fails the cell. */
export function check(name: string, ok: boolean, hint = ""): void {
  report({ name, ok: ok === true, hint });
}

/** Passes when `actual` is a finite number within `tolerance` (absolute) of `expected`; else as `check`. */
export function checkClose(name: string, actual: number, expected: number, tolerance = 1e-6, hint = ""): void {
  const ok = typeof actual === "number" && Number.isFinite(actual) && Math.abs(actual - expected) <= tolerance;
  report({ name, ok, hint, detail: `got ${formatValue(actual)}, expected ${formatValue(expected)} ± ${formatValue(tolerance)}` });
}

/** A pass prints its line (a display with the record, in the kernel); a failure throws, its message is the line. */
function report(record: CheckRecord): void {
  if (!record.ok) throw new CheckFailed(record);
  const line = checkLine(record);
  const hook = kernelHook();
  if (hook) hook.display({ "text/plain": line, [CHECK_MIME]: record });
  else console.log(line);
}

function formatValue(value: unknown): string {
  return typeof value === "number" ? String(Number(value.toPrecision(6))) : (JSON.stringify(value) ?? String(value));
}
