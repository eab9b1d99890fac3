// `cis490 registry promote NAME@version [--alias A] [--force]`.

import { Command, Option } from "clipanion";
import { BaseCommand, EXIT_FAILURE, EXIT_OK } from "../command.js";
import { promote, type PromoteResult } from "../../registry/api.js";
import { registryOption } from "./registry-common.js";

export class RegistryPromoteCommand extends BaseCommand<PromoteResult> {
  static paths = [["registry", "promote"]];

  static usage = Command.Usage({
    category: "Registry",
    description: "Point an alias (default current) at a version; moving current passes the promotion gate unless --force.",
    details: `
      The gate refuses a version whose validation macro F1 is significantly below the current version's (paired episode bootstrap on the same validation windows, or non-overlapping intervals otherwise; docs/registry.md). An anomaly detector (eif, ae, ensemble) is gated on its own held-out clean-window alarm rate instead (docs/anomaly.md). A refusal is logged and exits 1; \`--force\` overrides it, and that is logged too. The move is journalled first and the alias file replaced atomically, so a kill at any point leaves the alias whole.

      Exit codes: 0 moved (or already there); 1 refused by the gate, or unknown model/version; 2 usage error.
    `,
    examples: [
      ["Promote a version", "$0 registry promote gbt_realistic@3f2a9c01d4e5"],
      ["Promote the refused candidate anyway", "$0 registry promote gbt_realistic@candidate --force"],
      ["Name a version production", "$0 registry promote gbt_realistic@3f2a9c01d4e5 --alias production"],
    ],
  });

  registry = registryOption();
  ref = Option.String({ name: "NAME@VERSION" });
  alias = Option.String("--alias", { description: "Alias to move (default current)" });
  force = Option.Boolean("--force", false, { description: "Promote even if the gate refuses (logged)" });

  protected async run() {
    return promote(this.registry, this.ref, { alias: this.alias, force: this.force });
  }

  protected exitCodeOf(r: PromoteResult): number {
    return r.promoted || r.from === r.version ? EXIT_OK : EXIT_FAILURE;
  }

  protected render(r: PromoteResult): string {
    if (r.from === r.version && !r.promoted) return `${r.name}: ${r.reason}`;
    if (!r.promoted) return `${r.name}: REFUSED ${r.version} as ${r.alias}: ${r.reason}\n(pass --force to promote it anyway; the override is logged)`;
    return `${r.name}: ${r.alias} ${r.from ?? "(none)"} -> ${r.version}${r.forced ? " (FORCED past the gate)" : ""}\n  ${r.reason}`;
  }
}
