// Addressing a model: "NAME@alias", "NAME@version" (id or unique prefix),
// "NAME" (= NAME@current), or a path to a checkpoint sidecar (or a version
// directory). Every command that loads a checkpoint (eval, export, detect,
// drift) resolves its argument here.

import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { logDecision } from "./decisions.js";
import { checkName, findVersion, readAliases, versionDir } from "./store.js";
import { DEFAULT_ALIAS, RegistryError, type VersionManifest } from "./types.js";

export const DEFAULT_REGISTRY = "artifacts";

export interface ModelRef {
  name: string;
  /** The alias or version text after "@" (default: current). */
  at: string;
}

export function parseModelRef(ref: string): ModelRef {
  const k = ref.lastIndexOf("@");
  const name = k < 0 ? ref : ref.slice(0, k);
  const at = k < 0 ? DEFAULT_ALIAS : ref.slice(k + 1);
  checkName("model name", name);
  if (at === "") throw new RegistryError(`${JSON.stringify(ref)}: nothing after "@" (an alias such as current, or a version id)`);
  return { name, at };
}

export interface ResolvedModel {
  /** The checkpoint sidecar to load. */
  checkpoint: string;
  /** Null when the reference was a plain path outside a registry. */
  name: string | null;
  version: string | null;
  alias: string | null;
  manifest: VersionManifest | null;
  /** Directory of the version (drift baseline, validation, eval files), when from the registry. */
  dir: string | null;
}

export interface ResolveOptions {
  registry?: string;
  /** Record a "loaded" decision in the registry's log (by whom). */
  loadedBy?: string;
}

/** Resolves a model reference to a checkpoint path (see the file comment). */
export async function resolveModelRef(ref: string, o: ResolveOptions = {}): Promise<ResolvedModel> {
  const registry = o.registry ?? DEFAULT_REGISTRY;
  if (!ref.includes("@") && existsSync(ref)) {
    if (statSync(ref).isFile()) return { checkpoint: ref, name: null, version: null, alias: null, manifest: null, dir: null };
    if (existsSync(join(ref, "version.json"))) {
      const { readFile } = await import("node:fs/promises");
      const manifest = JSON.parse(await readFile(join(ref, "version.json"), "utf8")) as VersionManifest;
      return { checkpoint: join(ref, manifest.checkpoint), name: manifest.name, version: manifest.id, alias: null, manifest, dir: ref };
    }
  }
  const { name, at } = parseModelRef(ref);
  const aliases = await readAliases(registry, name);
  const alias = aliases.get(at);
  const manifest = await findVersion(registry, name, alias ? alias.version : at);
  const dir = versionDir(registry, name, manifest.id);
  const resolved = { checkpoint: join(dir, manifest.checkpoint), name, version: manifest.id, alias: alias ? at : null, manifest, dir };
  if (o.loadedBy) await logDecision(registry, { event: "loaded", model: name, version: manifest.id, reason: `${o.loadedBy} loaded ${ref}`, details: { alias: resolved.alias } });
  return resolved;
}
