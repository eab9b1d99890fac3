// `cis490 registry history NAME`: the alias journal.

import { Command, Option } from "clipanion";
import { BaseCommand } from "../command.js";
import { formatTable } from "../text-table.js";
import { history } from "../../registry/api.js";
import type { AliasMove } from "../../registry/types.js";
import { registryOption } from "./registry-common.js";

export class RegistryHistoryCommand extends BaseCommand<{ name: string; moves: AliasMove[] }> {
  static paths = [["registry", "history"]];

  static usage = Command.Usage({
    category: "Registry",
    description: "Every alias move of a model: from, to, time, reason, metrics (append-only journal).",
  });

  registry = registryOption();
  name = Option.String({ name: "NAME" });

  protected async run() {
    return history(this.registry, this.name);
  }

  protected render(r: { name: string; moves: AliasMove[] }): string {
    if (r.moves.length === 0) return `${r.name}: no alias moves`;
    return formatTable(["#", "time", "alias", "from", "to", "kind", "reason"], r.moves.map((m) => [m.seq, m.time, m.alias, m.from ?? "-", m.to, m.kind, m.reason]));
  }
}
