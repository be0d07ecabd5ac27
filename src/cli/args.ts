/** Minimal, strict parsing of `--flag value` / `--flag=value` / `--switch` command-line options. */

/** Declares the options a command accepts: name -> "string" | "number" | "boolean" | "strings" (repeatable). */
export type OptionSpec = Record<string, "string" | "number" | "boolean" | "strings">;

/** Parsed options plus positional arguments. */
export interface ParsedArgs {
  options: Record<string, string | number | boolean | string[] | undefined>;
  positional: string[];
}

/**
 * Parses `argv` against `spec`; unknown flags, a flag where a value belongs (`--name --runs-dir X`), malformed
 * numbers and more than `maxPositional` positional arguments (default 0) throw an error naming them. `shortNames`
 * maps one-letter flags to options (`{ p: "parameter" }` reads `-p X` as `--parameter X`); a "strings" option may
 * be given several times and collects its values in order.
 */
export function parseArgs(argv: string[], spec: OptionSpec, maxPositional = 0, shortNames: Record<string, string> = {}): ParsedArgs {
  const options: ParsedArgs["options"] = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    const short = /^-([A-Za-z])$/.exec(arg);
    if (short) {
      if (!shortNames[short[1]]) throw new Error(`unknown option ${arg}; expected one of ${Object.keys(shortNames).map((k) => "-" + k).concat(Object.keys(spec).map((k) => "--" + k)).join(", ")}`);
      arg = `--${shortNames[short[1]]}`;
    }
    if (!arg.startsWith("--")) {
      if (positional.length >= maxPositional) {
        const hint = spec[arg] ? `; did you mean --${arg}?` : "";
        throw new Error(`unexpected argument ${JSON.stringify(arg)}${hint} (options start with --: ${Object.keys(spec).map((k) => "--" + k).join(", ")})`);
      }
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const kind = spec[name];
    if (!kind) throw new Error(`unknown option --${name}; expected one of ${Object.keys(spec).map((k) => "--" + k).join(", ")}`);
    if (kind === "boolean") {
      options[name] = eq >= 0 ? arg.slice(eq + 1) !== "false" : true;
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new Error(`option --${name} needs a value`);
    if (eq < 0 && raw.startsWith("--")) throw new Error(`option --${name} needs a value, got the option ${raw} (write --${name}=${raw} if the value really starts with --)`);
    if (kind === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`option --${name} expects a number, got ${JSON.stringify(raw)}`);
      options[name] = n;
    } else if (kind === "strings") options[name] = [...((options[name] as string[] | undefined) ?? []), raw];
    else options[name] = raw;
  }
  return { options, positional };
}
