// What `detect --follow` has done, so a restart neither rescores nor skips:
// the byte offset of index.jsonl consumed up to its last complete line, the
// episodes already decided, and the length of the output file when the
// state was written (a crash between appending rows and saving the state
// leaves rows past that length; a restart truncates them and rescores that
// episode, so every row is written exactly once), and the announced
// episodes still waiting for their tarball. Saved atomically.

import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../io/atomic.js";
import type { IndexRecord } from "../store/index-file.js";

export const FOLLOW_STATE_FORMAT = "cis490-detect-follow/1";

export interface ProcessedEpisode {
  host_id: string;
  class: string;
  verdict: "alert" | "no-alert" | "unscored";
  sha256: string | null;
  reasons?: string[];
}

export interface FollowState {
  format: typeof FOLLOW_STATE_FORMAT;
  /** The model the rows come from (its checkpoint sha256): another model starts over. */
  model_checkpoint_sha256: string;
  index_offset: number;
  out_bytes: number;
  processed: Record<string, ProcessedEpisode>;
  /** Announced (index offset already past their rows) but not decided yet: re-examined after a restart. */
  waiting: IndexRecord[];
}

export function emptyState(modelSha: string): FollowState {
  return { format: FOLLOW_STATE_FORMAT, model_checkpoint_sha256: modelSha, index_offset: 0, out_bytes: 0, processed: {}, waiting: [] };
}

export async function readState(path: string, modelSha: string): Promise<FollowState> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return emptyState(modelSha);
    throw new Error(`cannot read the follow state ${path}: ${(error as Error).message}`);
  }
  let doc: FollowState;
  try {
    doc = JSON.parse(text) as FollowState;
  } catch (error) {
    throw new Error(`the follow state ${path} is not JSON (${(error as Error).message}); move it away to start over`);
  }
  if (doc.format !== FOLLOW_STATE_FORMAT || typeof doc.index_offset !== "number" || typeof doc.processed !== "object") {
    throw new Error(`${path} is not a detect --follow state file (format ${JSON.stringify(doc.format)})`);
  }
  if (doc.model_checkpoint_sha256 !== modelSha) {
    throw new Error(`the follow state ${path} belongs to another model (checkpoint ${doc.model_checkpoint_sha256.slice(0, 12)}, this one ${modelSha.slice(0, 12)}): use another --state or --out`);
  }
  return { ...doc, waiting: Array.isArray(doc.waiting) ? doc.waiting : [] };
}

export async function saveState(path: string, state: FollowState): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(state) + "\n");
}
