// Shared by the `cis490 registry ...` commands: the --registry option and the text rendering of a model.

import { Option } from "clipanion";
import { formatTable } from "../text-table.js";
import { DEFAULT_REGISTRY } from "../../registry/refs.js";
import type { ModelView } from "../../registry/types.js";

export const registryOption = () => Option.String("--registry", DEFAULT_REGISTRY, { description: `Registry directory (default: ${DEFAULT_REGISTRY}, train's --out)` });

export function renderModel(m: ModelView): string {
  const aliases = Object.entries(m.aliases).map(([a, v]) => `${a} -> ${v}`).join(", ") || "(none)";
  const rows = m.versions
    .slice()
    .reverse()
    .map((v) => [v.id, v.created_at, (v.val_macro_f1 === null ? "-" : v.val_macro_f1.toFixed(4)), v.aliases.join(",") || "-", [v.has_validation ? "val" : "", v.has_drift_baseline ? "drift" : "", v.has_eval ? "eval" : ""].filter(Boolean).join(",") || "-"]);
  const pending = m.pending.length ? `\n  interrupted alias move(s), completed by the next write: ${m.pending.map((p) => `${p.alias} -> ${p.to}`).join(", ")}\n` : "";
  return `${m.name}: current ${m.current ?? "(none)"}; aliases ${aliases}\n` + formatTable(["version", "created", "val macro F1", "aliases", "has"], rows) + pending;
}
