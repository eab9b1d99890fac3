// `cis490 registry rollback NAME`: current back one journal step.

import { Command, Option } from "clipanion";
import { BaseCommand } from "../command.js";
import { rollback, type RollbackResult } from "../../registry/api.js";
import { registryOption } from "./registry-common.js";

export class RegistryRollbackCommand extends BaseCommand<RollbackResult> {
  static paths = [["registry", "rollback"]];

  static usage = Command.Usage({
    category: "Registry",
    description: "Move current back to the version it pointed at before its last move (repeatable).",
    details: "Replays the alias journal as a stack (a promotion pushes, a rollback pops), skipping versions purged since. Journalled and logged; atomic under SIGKILL. Exit 1 when there is nothing to roll back to.",
  });

  registry = registryOption();
  name = Option.String({ name: "NAME" });

  protected async run() {
    return rollback(this.registry, this.name);
  }

  protected render(r: RollbackResult): string {
    return `${r.name}: current ${r.from} -> ${r.to}${r.skipped.length ? ` (skipped purged ${r.skipped.join(", ")})` : ""}`;
  }
}
