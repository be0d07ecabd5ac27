#!/usr/bin/env node
/** The `tsml` command: dispatches to one module per subcommand in ./commands. */

import type { Command } from "./command";

/** Kept for src/cli/commands/study.ts until it imports ./command (it is being rewritten elsewhere); then remove. */

const commands: Record<string, () => Command> = {
  kernel: () => require("./commands/kernel").command,
  convert: () => require("./commands/convert").command,
  doctor: () => require("./commands/doctor").command,
  predict: () => require("./commands/predict").command,
  study: () => require("./commands/study").command,
  plan: () => require("./commands/plan").command,
  worker: () => require("./commands/worker").command,
  run: () => require("./commands/run").command,
  classroom: () => require("./commands/classroom").command,
};

function usage(): string {
  const lines = Object.keys(commands).map((name) => {
    let summary = "";
    try {
      summary = commands[name]().summary;
    } catch {
      summary = "(not available in this build)";
    }
    return `  ${name.padEnd(9)} ${summary}`;
  });
  return ["usage: tsml <command> [options]", "", "commands:", ...lines, "", "Run `tsml <command> --help` for its options."].join("\n");
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`tsml: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return load().run(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`tsml: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
