// The TypeScript twin of crates/cis490-core/src/json.rs: what the reference
// decoder needs beyond JSON.parse, namely strict UTF-8, the nesting depth
// and the exact i64 value of the clock keys (JSON.parse rounds big integers
// to doubles). crates/cis490-core/src/jstr.rs has no twin: JavaScript
// strings are already what it models.

export type Json = unknown;
export type JsonObject = Record<string, Json>;

export function isObject(v: Json): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------
// Line scanning: nesting depth and the raw text of the top-level clock values.

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

export interface LineScan {
  tooDeep: boolean;
  /** [raw key text with quotes, raw value text] for top-level keys that may be a clock key. */
  clockKeys: Array<[string, string]>;
}

/**
 * One pass over the line, before JSON.parse: counts bracket nesting outside
 * strings (stopping as soon as it passes maxDepth, so absurdly deep lines cost
 * little) and records the raw value text of top-level keys that may spell
 * `t_wall_ns` / `t_mono_ns`, because JSON.parse would round them to doubles.
 * The line may be invalid JSON; the results are only used after JSON.parse accepts it.
 */
export function scanLine(s: string, maxDepth: number): LineScan {
  const clockKeys: Array<[string, string]> = [];
  let depth = 0;
  let keyText: string | null = null; // the top-level key whose value we are in
  let valueStart = -1;
  let expectKey = false;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < n; i++) {
        const d = s.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      if (depth === 1 && expectKey) {
        const raw = s.slice(start, i + 1);
        // Only keys that can spell a clock name are worth keeping (escapes are decoded later).
        keyText = raw === '"t_wall_ns"' || raw === '"t_mono_ns"' || raw.includes("\\") ? raw : null;
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > maxDepth) return { tooDeep: true, clockKeys };
      if (depth === 1) expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */ || c === 0x2c /* , */) {
      if (depth === 1 && keyText !== null && valueStart >= 0) {
        clockKeys.push([keyText, s.slice(valueStart, i)]);
        keyText = null;
      }
      if (depth === 1) valueStart = -1;
      if (c === 0x2c) {
        if (depth === 1) expectKey = true;
      } else depth--;
    } else if (c === 0x3a /* : */ && depth === 1) {
      valueStart = i + 1;
    }
  }
  return { tooDeep: false, clockKeys };
}

/** The exact i64 of a top-level clock key, "missing" (absent or null) or "bad". */
export function clockValue(parsed: Json, name: string, scan: LineScan): bigint | "missing" | "bad" {
  if (parsed === undefined || parsed === null) return "missing";
  if (typeof parsed !== "number") return "bad";
  let text: string | null = null;
  for (const [rawKey, rawValue] of scan.clockKeys) {
    const key = rawKey.includes("\\") ? (JSON.parse(rawKey) as string) : rawKey.slice(1, -1);
    if (key === name) text = rawValue; // the last occurrence wins, as in JSON.parse
  }
  if (text === null) return "bad";
  text = text.trim();
  if (!/^-?[0-9]+$/.test(text)) return "bad"; // a fraction or an exponent is not an integer
  const value = BigInt(text);
  return value < I64_MIN || value > I64_MAX ? "bad" : value;
}
