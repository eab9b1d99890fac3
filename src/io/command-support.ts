// What remains of the old hand-rolled command conventions, kept only for
// train.ts and eval.ts until they move onto BaseCommand (src/cli/command.ts),
// which maps CliError/UsageError to exit codes. Delete this file then:
// --jobs is isJobCount (src/cli/options.ts), the store check assertStoreDir
// (src/store/layout.ts), the backend loader loadInspectorChecked.

import type { Writable } from "node:stream";

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../util/errors.js";

/** Thrown for a bad option value; train and eval turn it into exit code 2. */
export class OptionError extends Error {}

export function writeLine(stream: Writable, text: string): void {
  stream.write(text.endsWith("\n") ? text : text + "\n");
}
