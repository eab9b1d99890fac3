// `cis490 registry list`: every model in a registry with its versions and aliases.

import { Command } from "clipanion";
import { BaseCommand } from "../command.js";
import { listModels } from "../../registry/api.js";
import type { ModelView } from "../../registry/types.js";
import { registryOption, renderModel } from "./registry-common.js";

export class RegistryListCommand extends BaseCommand<{ registry: string; models: ModelView[] }> {
  static paths = [["registry", "list"]];

  static usage = Command.Usage({
    category: "Registry",
    description: "List the registered models, their versions and aliases.",
    details: `
      Each model (\`<kind>_<mode>\`) has content-addressed versions (id = first 12 hex digits of the sha256 of the checkpoint sidecar and weights) and aliases: \`current\` (what NAME alone means), \`candidate\` (a version the promotion gate refused) and any you set. \`--json\`: {"models":[{"name","current","aliases",versions:[{"id","created_at","path",...}]}]}. See docs/registry.md.
    `,
  });

  registry = registryOption();

  protected async run() {
    return { registry: this.registry, models: await listModels(this.registry) };
  }

  protected render(r: { registry: string; models: ModelView[] }): string {
    if (r.models.length === 0) return `No models in registry ${r.registry} (cis490 train registers each version).`;
    return r.models.map(renderModel).join("\n");
  }
}
