/**
 * Strict parsing of `--flag value` / `--flag=value` / `--switch` command-line options with node:util's `parseArgs`,
 * the result typed from the option spec (a "number" option reads as a number, a "strings" option as string[]).
 */
import { parseArgs as parseNodeArgs, type ParseArgsConfig } from "node:util";
import { didYouMean } from "../util";

/** The kind of one option: a string, a number, a switch, or a repeatable string. */
export type OptionKind = "string" | "number" | "boolean" | "strings";

/** Declares the options a command accepts: name -> "string" | "number" | "boolean" | "strings" (repeatable). */
export type OptionSpec = Record<string, OptionKind>;

/** The value type an option of kind `K` parses to. */
type OptionValue<K extends OptionKind> = K extends "number" ? number : K extends "boolean" ? boolean : K extends "strings" ? string[] : string;

/** Parsed options (each absent unless given) plus positional arguments. */
export interface ParsedArgs<S extends OptionSpec = OptionSpec> {
  options: { [K in keyof S]?: OptionValue<S[K]> };
  positional: string[];
}

/**
 * Parses `argv` against `spec`; unknown flags, a flag where a value belongs (`--name --runs-dir X`), malformed
 * numbers and more than `maxPositional` positional arguments (default 0) throw an error naming them. `shortNames`
 * maps one-letter flags to options (`{ p: "parameter" }` reads `-p X` as `--parameter X`); a "strings" option may
 * be given several times and collects its values in order: `parseArgs(["--seeds", "3"], { seeds: "number" })` gives
 * `options.seeds` typed `number | undefined`.
 */
export function parseArgs<S extends OptionSpec>(argv: string[], spec: S, maxPositional = 0, shortNames: Record<string, string> = {}): ParsedArgs<S> {
  const names = Object.keys(spec);
  const flags = names.map((k) => "--" + k);
  const shortOf = new Map(Object.entries(shortNames).map(([s, long]) => [long, s] as [string, string]));
  const config: NonNullable<ParseArgsConfig["options"]> = {};
  for (const name of names) {
    const kind = spec[name];
    const short = shortOf.get(name);
    config[name] = { type: kind === "boolean" ? "boolean" : "string", multiple: kind === "strings", ...(short ? { short } : {}) };
  }
  // `--switch=false` reads as false (node's parser refuses a value on a boolean option).
  const args = argv.map((arg) => {
    const m = /^--([^=]+)=(true|false)$/.exec(arg);
    return m && spec[m[1]] === "boolean" ? (m[2] === "true" ? `--${m[1]}` : `--no-tsml-false-${m[1]}`) : arg;
  });
  const negated = new Set(args.filter((a) => a.startsWith("--no-tsml-false-")).map((a) => a.slice("--no-tsml-false-".length)));
  const filtered = args.filter((a) => !a.startsWith("--no-tsml-false-"));
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({ args: filtered, options: config, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    throw translateError(error as Error & { code?: string }, filtered, spec, shortNames, flags);
  }
  const positional = parsed.positionals;
  if (positional.length > maxPositional) {
    const stray = positional[maxPositional];
    const hint = spec[stray] ? `; did you mean --${stray}?` : "";
    throw new Error(`unexpected argument ${JSON.stringify(stray)}${hint} (options start with --: ${flags.join(", ")})`);
  }
  const options: Record<string, string | number | boolean | string[]> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === undefined) continue;
    const kind = spec[name];
    if (kind === "number") {
      const n = Number(value);
      if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(n))
        throw new Error(`option --${name} expects a number, got ${JSON.stringify(value)}`);
      options[name] = n;
    } else options[name] = value as string | boolean | string[];
  }
  for (const name of negated) options[name] = false;
  return { options: options as ParsedArgs<S>["options"], positional };
}

/** The project's wording for node's parse errors (unknown option, missing value). */
function translateError(error: Error & { code?: string }, argv: string[], spec: OptionSpec, shortNames: Record<string, string>, flags: string[]): Error {
  const option = /'(-{1,2}[^' <]+)/.exec(error.message)?.[1] ?? "";
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const name = option.replace(/^-+/, "").replace(/=.*$/, "");
    const expected = option.startsWith("--")
      ? flags
      : Object.keys(shortNames)
          .map((k) => "-" + k)
          .concat(flags);
    return new Error(`unknown option ${option}${didYouMean(name, Object.keys(spec), "--")}; expected one of ${expected.join(", ")}`);
  }
  if (error.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const short = /^-([A-Za-z])$/.exec(option);
    const name = short ? (shortNames[short[1]] ?? short[1]) : option.replace(/^-+/, "");
    if (spec[name] === "boolean") return new Error(`option --${name} is a switch and takes no value (write --${name} or --${name}=false)`);
    const at = argv.indexOf(option);
    const next = at >= 0 ? argv[at + 1] : undefined;
    if (next !== undefined)
      return new Error(`option --${name} needs a value, got the option ${next} (write --${name}=${next} if the value really starts with --)`);
    return new Error(`option --${name} needs a value`);
  }
  return error;
}
