// Entry point: registers one clipanion command per file under commands/.

import { Builtins, Cli } from "clipanion";
import { colourWanted } from "./colour.js";
import { SynthCommand } from "./commands/synth.js";
import { ValidateCommand } from "./commands/validate.js";
import { PruneCommand } from "./commands/prune.js";
import { FeaturesCommand } from "./commands/features.js";
import { SplitCommand } from "./commands/split.js";
import { TrainCommand } from "./commands/train.js";
import { EvalCommand } from "./commands/eval.js";
import { DashboardServeCommand } from "./commands/dashboard-serve.js";
import { PublishMetricsCommand } from "./commands/publish-metrics.js";
import { PublishProfilesCommand } from "./commands/publish-profiles.js";
import { PublishReplayCommand } from "./commands/publish-replay.js";
import { PublishPerfCommand } from "./commands/publish-perf.js";
import { ExportCommand } from "./commands/export.js";
import { DetectCommand } from "./commands/detect.js";
import { DoctorCommand } from "./commands/doctor.js";
import { DriftCommand } from "./commands/drift.js";
import { LabelNoiseCommand } from "./commands/label-noise.js";
import { RegistryListCommand } from "./commands/registry-list.js";
import { RegistryShowCommand } from "./commands/registry-show.js";
import { RegistryPromoteCommand } from "./commands/registry-promote.js";
import { RegistryRollbackCommand } from "./commands/registry-rollback.js";
import { RegistryPurgeCommand } from "./commands/registry-purge.js";
import { RegistryHistoryCommand } from "./commands/registry-history.js";
import { RegistryLogCommand } from "./commands/registry-log.js";

export function buildCli(enableColors = colourWanted(process.stdout)): Cli {
  const cli = new Cli({ binaryLabel: "cis490", binaryName: "cis490", binaryVersion: "0.1.0", enableColors });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  cli.register(SynthCommand);
  cli.register(ValidateCommand);
  cli.register(PruneCommand);
  cli.register(FeaturesCommand);
  cli.register(SplitCommand);
  cli.register(TrainCommand);
  cli.register(EvalCommand);
  cli.register(DashboardServeCommand);
  cli.register(PublishMetricsCommand);
  cli.register(PublishProfilesCommand);
  cli.register(PublishReplayCommand);
  cli.register(PublishPerfCommand);
  cli.register(ExportCommand);
  cli.register(DetectCommand);
  cli.register(DoctorCommand);
  for (const c of [RegistryListCommand, RegistryShowCommand, RegistryPromoteCommand, RegistryRollbackCommand, RegistryPurgeCommand, RegistryHistoryCommand, RegistryLogCommand]) cli.register(c);
  cli.register(DriftCommand);
  cli.register(LabelNoiseCommand);
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  const cli = buildCli();
  // Parse first so that a usage error exits 2 (clipanion's own run() would return 1).
  try {
    cli.process(argv);
  } catch (error) {
    process.stderr.write(cli.error(error, { colored: colourWanted(process.stderr) }));
    return 2;
  }
  return cli.run(argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
}
