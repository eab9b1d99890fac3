// `cis490 registry purge [NAME] --keep K [--yes]`: a dry run unless --yes/--apply.

import { Command, Option } from "clipanion";
import { BaseCommand } from "../command.js";
import { isIntegerAtLeast } from "../options.js";
import { formatTable } from "../text-table.js";
import { purge, type PurgeResult } from "../../registry/api.js";
import { registryOption } from "./registry-common.js";

export class RegistryPurgeCommand extends BaseCommand<PurgeResult> {
  static paths = [["registry", "purge"]];

  static usage = Command.Usage({
    category: "Registry",
    description: "Delete old versions: keeps the newest K of each model and every version an alias points at. DRY RUN unless --yes.",
    details: `
      Without \`--yes\` (or \`--apply\`) it only prints what it would delete. With it, each doomed version directory is renamed to a trash name (so it is whole or gone) and removed; the purge is logged. Aliases are never touched, and no aliased version is ever removed.
    `,
    examples: [
      ["See what would go", "$0 registry purge --keep 3"],
      ["Really delete", "$0 registry purge gbt_realistic --keep 3 --yes"],
    ],
  });

  registry = registryOption();
  name = Option.String({ name: "NAME", required: false });
  keep = Option.String("--keep", "5", { validator: isIntegerAtLeast(0), description: "Newest versions kept per model (default 5)" });
  yes = Option.Boolean("--yes", false, { description: "Really delete (default: dry run)" });
  apply = Option.Boolean("--apply", false, { description: "Same as --yes" });

  protected async run() {
    return purge(this.registry, { keep: this.keep, name: this.name, apply: this.yes || this.apply });
  }

  protected render(r: PurgeResult): string {
    const rows = r.models.flatMap((m) => m.remove.map((v) => [m.name, v.id, v.created_at]));
    const head = r.applied ? `Removed ${r.removed} version(s) (kept the newest ${r.keep} and every aliased one).` : `DRY RUN: would remove ${rows.length} version(s) (kept: the newest ${r.keep} and every aliased one). Pass --yes to delete.`;
    const prot = r.models.flatMap((m) => m.protected.map((p) => `  kept ${m.name}@${p.id}: alias ${p.aliases.join(", ")}`));
    return [head, rows.length ? formatTable(["model", "version", "created"], rows) : "", ...prot].filter(Boolean).join("\n");
  }
}
