// Runs CLI commands in-process the way src/cli/main.ts does (a parse error
// is exit 2), with stdout/stderr captured.

import { PassThrough } from "node:stream";
import { buildCli } from "../../src/cli/main.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

export async function runCli(argv: string[]): Promise<CliResult> {
  const cli = buildCli();
  const out = capture();
  const err = capture();
  let code: number;
  try {
    cli.process(argv);
    code = await cli.run(argv, { stdin: process.stdin, stdout: out.stream, stderr: err.stream });
  } catch (error) {
    err.stream.write(cli.error(error));
    code = 2;
  }
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out.text(), stderr: err.text() };
}
