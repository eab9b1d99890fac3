// Plain-text tables for terminal summaries (no colours: output is often piped).

export type Align = "left" | "right";

export function formatTable(headers: string[], rows: Array<Array<string | number>>, align?: Align[]): string {
  const cells = rows.map((row) => row.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const pad = (text: string, i: number): string =>
    (align?.[i] ?? "left") === "right" ? text.padStart(widths[i]) : text.padEnd(widths[i]);
  const line = (r: string[]): string => r.map((c, i) => pad(c, i)).join("  ").trimEnd();
  const out = [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)];
  return out.join("\n") + "\n";
}
