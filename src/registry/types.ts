// Shared types of the model registry (docs/registry.md).

import { CliError } from "../util/errors.js";

/** Unusable registry input (unknown model or version, damaged files, refused promotion): exit 1. */
export class RegistryError extends CliError {}

export const VERSION_FORMAT = "cis490-registry-version/1";
export const DEFAULT_ALIAS = "current";

export interface Provenance {
  /** The checkpoint file the version was copied from. */
  source_checkpoint: string;
  trained_at: string;
  acceptance_sha256: string | null;
  features: string;
  features_sha256: string;
  split: string;
  split_sha256: string;
  tensors: string | null;
  feature_schema_hash: string;
  command_line: string[] | null;
  cis490_version: string | null;
  git_commit: string | null;
}

/** version.json inside a version directory: written last, so its presence means the directory is whole. */
export interface VersionManifest {
  format: typeof VERSION_FORMAT;
  name: string;
  id: string;
  created_at: string;
  /** sha256 over the sidecar's bytes then the weights file's bytes; the id is its first 12 hex digits. */
  content_sha256: string;
  kind: string;
  mode: string;
  checkpoint: string;
  weights: string;
  provenance: Provenance;
  /** val_macro_f1 / best_epoch: null for anomaly detectors, which carry their clean-window gate instead. */
  metrics: { val_macro_f1: number | null; best_epoch: number | null; anomaly_gate?: { clean_anomaly_rate: number; limit: number; n_windows: number; threshold: number } };
  /** Files derived at registration (null: could not be made, see notes). */
  validation: string | null;
  drift_digest: string | null;
  drift_reference: string | null;
  notes: string[];
}

export interface AliasFile {
  alias: string;
  version: string;
  set_at: string;
  /** The journal record this state comes from. */
  seq: number;
}

/** One line of the alias journal. */
export interface AliasMove {
  seq: number;
  time: string;
  alias: string;
  from: string | null;
  to: string;
  /** "set" pushes `to`; "rollback" pops `pops` entries of the alias's stack. */
  kind: "set" | "rollback";
  pops?: number;
  reason: string;
  metrics?: Record<string, unknown>;
}

export interface VersionView {
  id: string;
  created_at: string;
  /** The checkpoint sidecar (what eval/export/detect/drift load). */
  path: string;
  dir: string;
  kind: string;
  mode: string;
  /** null: an anomaly detector (no macro F1). */
  val_macro_f1: number | null;
  aliases: string[];
  has_validation: boolean;
  has_drift_baseline: boolean;
  has_eval: boolean;
}

export interface ModelView {
  name: string;
  current: string | null;
  aliases: Record<string, string>;
  versions: VersionView[];
  /** Journal records not yet reflected in an alias file (an interrupted move; the next write completes it). */
  pending: AliasMove[];
}
