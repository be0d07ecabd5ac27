#!/usr/bin/env node
/** The `tsml` command: dispatches to one module per subcommand in ./commands. */

import type { Command } from "./command";

/** Kept for src/cli/commands/study.ts until it imports ./command (it is being rewritten elsewhere); then remove. */

/** What each module in ./commands exports. */
type CommandModule = { command: Command };

const commands: Record<string, () => Command> = {
  kernel: () => (require("./commands/kernel") as CommandModule).command,
  convert: () => (require("./commands/convert") as CommandModule).command,
  doctor: () => (require("./commands/doctor") as CommandModule).command,
  predict: () => (require("./commands/predict") as CommandModule).command,
  study: () => (require("./commands/study") as CommandModule).command,
  plan: () => (require("./commands/plan") as CommandModule).command,
  worker: () => (require("./commands/worker") as CommandModule).command,
  run: () => (require("./commands/run") as CommandModule).command,
  classroom: () => (require("./commands/classroom") as CommandModule).command,
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
