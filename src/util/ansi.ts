/** ANSI colour escapes: the few the kernel's tracebacks use (as ipykernel colours its own), their removal, and their HTML form. */
import AnsiUp from "ansi_up";

/** The SGR codes of the colours tracebacks use (ipykernel's "Linux" scheme: light red names, green places, cyan functions). */
export const ANSI = {
  red: "1;31",
  green: "1;32",
  cyan: "0;36",
  yellow: "1;33",
} as const;

/** `text` in `colour` (one of ANSI's codes), reset after; empty text stays empty. */
export function colour(text: string, code: string): string {
  return text ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** Text without ANSI colour codes (tracebacks carry them). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
}

/**
 * `text` as HTML for a `<pre>`: special characters escaped and ANSI colours as styled spans (ansi_up, the
 * converter Jupyter front-ends have used), so an exported traceback keeps the colours the notebook showed.
 */
export function ansiToHTML(text: string): string {
  // A converter carries the open colour from one call to the next: one per text.
  return new AnsiUp().ansi_to_html(text);
}
