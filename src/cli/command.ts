/** A subcommand of the `tsml` command line: a one-line summary and a function that runs it and returns the exit code. */
export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}
