// Option validators shared by the commands, built on typanion (clipanion's
// own validator library). A value that fails is a usage error: clipanion
// reports "Invalid value for --flag: ..." and src/cli/main.ts exits 2.

import { availableParallelism } from "node:os";
import * as t from "typanion";

function fail(state: t.ValidationState | undefined, message: string): false {
  state?.errors?.push(`${state.p ?? "."}: ${message}`);
  return false;
}

function coerce(state: t.ValidationState | undefined, value: unknown): void {
  if (state?.coercions && state.coercion) state.coercions.push([state.p ?? ".", state.coercion.bind(null, value)]);
}

/** An integer >= min, given as a string on the command line. */
export function isIntegerAtLeast(min: number) {
  return t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(min)]);
}

/** A finite number >= min. */
export function isNumberAtLeast(min: number) {
  return t.cascade(t.isNumber(), [t.isAtLeast(min)]);
}

/** A number in [lo, hi). */
export function isNumberInRange(lo: number, hi: number) {
  return t.cascade(t.isNumber(), [t.isInExclusiveRange(lo, hi)]);
}

/** One of a fixed set of words. */
export function isOneOf<T extends string>(values: readonly T[]) {
  return t.isEnum(values as T[]);
}

/** A comma-separated list of distinct words from a fixed set (at least one). */
export function isListOf<T extends string>(values: readonly T[]): t.StrictValidator<unknown, T[]> {
  return t.makeValidator<unknown, T[]>({
    test: (value, state): value is T[] => {
      if (typeof value !== "string") return fail(state, "Expected a comma-separated list");
      const items = [...new Set(value.split(",").map((s) => s.trim()).filter((s) => s !== ""))];
      if (items.length === 0) return fail(state, "Expected at least one name");
      const bad = items.filter((i) => !(values as readonly string[]).includes(i));
      if (bad.length > 0) return fail(state, `Expected names among ${values.join(", ")} (got ${bad.join(", ")})`);
      coerce(state, items);
      return true;
    },
  });
}

/** A comma-separated list of non-empty names (hosts, ...). */
export const isNameList: t.StrictValidator<unknown, string[]> = t.makeValidator<unknown, string[]>({
  test: (value, state): value is string[] => {
    if (typeof value !== "string") return fail(state, "Expected a comma-separated list");
    const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
    if (items.length === 0) return fail(state, "Expected at least one name");
    coerce(state, items);
    return true;
  },
});

/** --jobs: a positive integer; commands fall back to jobsOrDefault(). */
export const isJobCount = isIntegerAtLeast(1);

/** The worker count when --jobs is not given: the cores this process may use. */
export function jobsOrDefault(jobs: number | undefined): number {
  return jobs ?? Math.max(1, availableParallelism());
}

/** A duration like "30s", "500ms", "2m" or plain seconds, coerced to milliseconds. */
export const isDurationMs: t.StrictValidator<unknown, number> = t.makeValidator<unknown, number>({
  test: (value, state): value is number => {
    const m = typeof value === "string" ? /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim()) : null;
    if (!m) return fail(state, "Expected a duration like 30s, 500ms or 2m");
    coerce(state, Math.round(Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1000)));
    return true;
  },
});

/** A finite number > min. */
export function isNumberAbove(min: number) {
  return t.cascade(t.isNumber(), [
    t.makeValidator<number, number>({ test: (value, state): value is number => value > min || fail(state, `Expected a number above ${min} (got ${value})`) }),
  ]);
}

/** An integer in [lo, hi]. */
export function isIntegerInRange(lo: number, hi: number) {
  return t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(lo, hi)]);
}
