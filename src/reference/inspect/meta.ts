// The TypeScript twin of crates/cis490-core/src/meta.rs: meta.json, read
// leniently (wrong types become null).

import type { EpisodeMeta } from "../../episode/report.js";
import { isObject, scanLine, utf8Strict, type Json } from "./json.js";

function metaField(v: Json, type: "string"): string | null;
function metaField(v: Json, type: "number"): number | null;
function metaField(v: Json, type: "string" | "number"): string | number | null {
  return typeof v === type ? (v as string | number) : null;
}

/** meta.json: the summary, "invalid" (not UTF-8 / JSON / an object) or "too-deep" (valid JSON, too deep). */
export function parseMeta(bytes: Uint8Array, maxDepth: number): EpisodeMeta | "invalid" | "too-deep" {
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    return "invalid";
  }
  const tooDeep = scanLine(text, maxDepth).tooDeep;
  let doc: Json;
  try {
    doc = JSON.parse(text); // invalid JSON is reported before depth, as for rows
  } catch {
    return "invalid";
  }
  if (tooDeep) return "too-deep";
  if (!isObject(doc)) return "invalid";
  const sample = isObject(doc.sample) ? doc.sample : null;
  const exploit = isObject(doc.exploit) ? doc.exploit : null;
  const result = isObject(doc.result) ? doc.result : null;
  return {
    schema_version: metaField(doc.schema_version, "number"),
    episode_id: metaField(doc.episode_id, "string"),
    host_id: metaField(doc.host_id, "string"),
    started_at: metaField(doc.started_at, "string"),
    sample_present: sample !== null,
    sample_name: metaField(sample?.name, "string"),
    sample_kind: metaField(sample?.kind, "string"),
    profile: metaField(sample?.profile, "string"),
    module_name: metaField(exploit?.module_name, "string"),
    duration_observed_s: metaField(result?.duration_observed_s, "number"),
    outcome: metaField(result?.outcome, "string"),
  };
}
