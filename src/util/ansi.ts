/** ANSI colour escapes: the few the kernel's tracebacks use (as ipykernel colours its own), and their removal. */

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
