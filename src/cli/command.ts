// The base of every cis490 command, after Yarn berry's BaseCommand and
// StreamReport: a command parses its options, calls one domain function that
// returns a result object, and hands that object back. The base renders it
// (text, or one JSON document with --json), picks the exit code, and is the
// only place that maps errors to exit codes:
//   0  the stage completed (whatever it found)
//   1  a CliError: inputs unusable, stage could not complete
//   2  a usage error (bad option value or combination)
// Domain modules never write to stdout; progress and warnings go to stderr
// through the Reporter.

import { Command, Option } from "clipanion";
import { CliError, EXIT_OK } from "../util/errors.js";
import { createProgress, type Progress, type ProgressStream } from "./progress.js";

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../util/errors.js";

/** What a command's run() may use to talk to the user while it works (all on stderr). */
export interface Reporter {
  /** True when stderr is a terminal (bars and redraws); otherwise plain lines. */
  readonly interactive: boolean;
  info(message: string): void;
  warn(message: string): void;
  /** A progress display for `total` units: a bar on a terminal, a line per 10% otherwise. */
  progress(label: string, total: number, unit?: string): Progress;
}

export abstract class BaseCommand<Result extends object = object> extends Command {
  json = Option.Boolean("--json", false, { description: "Print one JSON document on stdout" });

  /** Does the work and returns the report object (the --json document). */
  protected abstract run(reporter: Reporter): Promise<Result>;

  /** The human summary of a result, printed on stdout without --json. */
  protected abstract render(result: Result): string;

  /** Exit code for a completed run; override where "completed" can still mean failure. */
  protected exitCodeOf(_result: Result): number {
    return EXIT_OK;
  }

  /** The document --json prints; override to leave internal fields out. */
  protected toJson(result: Result): unknown {
    return result;
  }

  /** Where the result goes: stderr when stdout carries the data itself (detect's rows without --out). */
  protected resultStream(_result: Result): "stdout" | "stderr" {
    return "stdout";
  }

  /** "cis490 <path>", the prefix of every message. */
  protected get label(): string {
    return ["cis490", ...(this.path ?? [])].join(" ");
  }

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const reporter = makeReporter(stderr as unknown as ProgressStream, this.label);
    let result: Result;
    try {
      result = await this.run(reporter);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      stderr.write(`${this.label}: ${error.message}\n`);
      if (this.json) stdout.write(JSON.stringify({ error: { message: error.message, exit_code: error.exitCode } }) + "\n");
      return error.exitCode;
    }
    const out = this.resultStream(result) === "stderr" ? stderr : stdout;
    if (this.json) out.write(JSON.stringify(this.toJson(result)) + "\n");
    else {
      const text = this.render(result);
      if (text !== "") out.write(text.endsWith("\n") ? text : text + "\n");
    }
    return this.exitCodeOf(result);
  }
}

function makeReporter(stream: ProgressStream, label: string): Reporter {
  const interactive = Boolean(stream.isTTY);
  return {
    interactive,
    info: (message) => void stream.write(`${label}: ${message}\n`),
    warn: (message) => void stream.write(`${label}: warning: ${message}\n`),
    progress: (name, total, unit) => createProgress(stream, total, name, unit),
  };
}

