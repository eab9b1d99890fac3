// Whether to colour what goes to a stream. clipanion's own default asks the
// terminal type only (TERM), not whether the stream is a terminal, so help
// text piped into `less` or a log would carry escape codes.

export interface ColourStream {
  isTTY?: boolean;
}

/** FORCE_COLOR (non-"0") forces colour, NO_COLOR (https://no-color.org) or FORCE_COLOR=0 turns it off; else only on a terminal that is not "dumb". */
export function colourWanted(stream: ColourStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "") return env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}
