/** What a CLI command reads and writes, passed in so tests can run commands in-process. */
export interface CliIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  out(line: string): void;
  err(line: string): void;
}

/** A command failed in a way the user can fix; `message` is printed as `canal: message`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit codes, documented in --help and docs/cli.md. */
export const ExitCode = {
  Ok: 0,
  /** Wrong arguments, bad configuration, or the command could not do its job. */
  Failure: 1,
} as const;
