// `cis490 registry show NAME`: one model's versions, aliases and provenance.

import { Command, Option } from "clipanion";
import { BaseCommand } from "../command.js";
import { showModel } from "../../registry/api.js";
import type { ModelView } from "../../registry/types.js";
import { registryOption, renderModel } from "./registry-common.js";

export class RegistryShowCommand extends BaseCommand<ModelView> {
  static paths = [["registry", "show"]];

  static usage = Command.Usage({
    category: "Registry",
    description: "Show one model: versions (newest first), aliases, what each version holds.",
    details: "`--json` prints one model as in `registry list --json`.",
    examples: [["The GBT realistic model", "$0 registry show gbt_realistic"]],
  });

  registry = registryOption();
  name = Option.String({ name: "NAME" });

  protected async run() {
    return showModel(this.registry, this.name);
  }

  protected render(m: ModelView): string {
    return renderModel(m);
  }
}
