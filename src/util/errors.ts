// The one error base for failures a user can cause or fix. Domain modules
// throw a CliError (or a subclass naming the stage) with the exit code the
// failure deserves; the command base (src/cli/command.ts) is the only place
// that turns it into a message and an exit status. Anything else that
// escapes is a bug and keeps its stack trace.

export const EXIT_OK = 0;
/** The inputs (or an output) are unusable, or the stage could not complete. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
  }
}

/** A bad option value or combination: exit 2, like clipanion's own usage errors. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, { exitCode: EXIT_USAGE });
  }
}
