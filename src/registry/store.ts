// The registry's files and the only code that changes them. Layout:
//
//   <registry>/decisions.jsonl                     decision log (all models)
//   <registry>/models/<name>/versions/<id>/        one immutable version:
//       <name>.ckpt.json + weights                 the checkpoint, copied
//       version.json                               manifest + provenance (written last)
//       validation.json, drift_digest.json, drift_reference.parquet, eval.json
//   <registry>/models/<name>/aliases/<alias>.json  {version, set_at, seq}
//   <registry>/models/<name>/journal.jsonl         every alias move, append-only
//
// Crash safety: a version directory is assembled under a temporary name and
// renamed into place (so it is whole or absent); a purge renames a victim to
// a trash name before deleting it. An alias move is write-ahead: the journal
// line first, then the alias file replaced atomically; a move cut between the
// two is completed by the next writer (recover). Alias files are therefore
// always whole and always name an existing version.

import { randomBytes } from "node:crypto";
import { promises as fsp, constants as fsc } from "node:fs";
import { basename, join } from "node:path";
import { removeDirDurable, TEMP_MARK, writeDirAtomic, writeFileAtomic } from "../io/atomic.js";
import { appendJsonLine, readJsonLines } from "./jsonl.js";
import { withLock } from "./lock.js";
import { DEFAULT_ALIAS, RegistryError, VERSION_FORMAT, type AliasFile, type AliasMove, type ModelView, type VersionManifest, type VersionView } from "./types.js";

export const MODELS_DIR = "models";
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const TMP_PREFIX = ".tmp-";
const TRASH_PREFIX = ".trash-";

export function checkName(what: string, name: string): string {
  if (!NAME_RE.test(name)) throw new RegistryError(`${what} ${JSON.stringify(name)} is not a valid name (letters, digits, _ . -)`);
  return name;
}

export const modelDir = (registry: string, name: string): string => join(registry, MODELS_DIR, checkName("model name", name));
export const versionsDir = (registry: string, name: string): string => join(modelDir(registry, name), "versions");
export const versionDir = (registry: string, name: string, id: string): string => join(versionsDir(registry, name), id);
export const aliasesDir = (registry: string, name: string): string => join(modelDir(registry, name), "aliases");
export const journalPath = (registry: string, name: string): string => join(modelDir(registry, name), "journal.jsonl");

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await fsp.readFile(path, "utf8")) as T;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

export async function modelNames(registry: string): Promise<string[]> {
  const names = await listDir(join(registry, MODELS_DIR));
  return names.filter((n) => NAME_RE.test(n)).sort();
}

/** Whole versions (a directory with its version.json), oldest first. */
export async function readVersions(registry: string, name: string): Promise<VersionManifest[]> {
  const out: VersionManifest[] = [];
  for (const id of await listDir(versionsDir(registry, name))) {
    if (id.startsWith(".")) continue;
    try {
      const m = await readJson<VersionManifest>(join(versionDir(registry, name, id), "version.json"));
      if (m.format === VERSION_FORMAT && m.id === id) out.push(m);
    } catch {
      // no manifest: not a version (never happens with our writers)
    }
  }
  return out.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

export async function readAliases(registry: string, name: string): Promise<Map<string, AliasFile>> {
  const out = new Map<string, AliasFile>();
  for (const file of await listDir(aliasesDir(registry, name))) {
    if (file.startsWith(".") || !file.endsWith(".json")) continue;
    const path = join(aliasesDir(registry, name), file);
    let doc: AliasFile;
    try {
      doc = await readJson<AliasFile>(path);
    } catch (error) {
      throw new RegistryError(`alias file ${path} is damaged: ${(error as Error).message}`);
    }
    out.set(doc.alias, doc);
  }
  return out;
}

export async function readJournal(registry: string, name: string): Promise<AliasMove[]> {
  return (await readJsonLines<AliasMove>(journalPath(registry, name))).records.sort((a, b) => a.seq - b.seq);
}

/** Journal records newer than their alias's file, whose target still exists: an interrupted move. */
function pendingMoves(journal: AliasMove[], aliases: Map<string, AliasFile>, ids: Set<string>): AliasMove[] {
  const last = new Map<string, AliasMove>();
  for (const m of journal) last.set(m.alias, m);
  return [...last.values()].filter((m) => (aliases.get(m.alias)?.seq ?? -1) < m.seq && ids.has(m.to));
}

/** The alias's stack of versions, replaying the journal: a set pushes, a rollback pops. */
export function aliasStack(journal: AliasMove[], alias: string): string[] {
  const stack: string[] = [];
  for (const m of journal) {
    if (m.alias !== alias) continue;
    if (m.kind === "rollback") stack.splice(Math.max(0, stack.length - (m.pops ?? 1)));
    else stack.push(m.to);
    if (m.kind === "rollback" && stack[stack.length - 1] !== m.to) stack.push(m.to);
  }
  return stack;
}

function sidecarName(m: VersionManifest): string {
  return m.checkpoint;
}

export async function viewModel(registry: string, name: string): Promise<ModelView> {
  const versions = await readVersions(registry, name);
  if (versions.length === 0) throw new RegistryError(`no model ${JSON.stringify(name)} in registry ${registry} (cis490 registry list shows what there is)`);
  const aliases = await readAliases(registry, name);
  const journal = await readJournal(registry, name);
  const ids = new Set(versions.map((v) => v.id));
  const byVersion = new Map<string, string[]>();
  const aliasMap: Record<string, string> = {};
  for (const [alias, a] of [...aliases.entries()].sort(([x], [y]) => x.localeCompare(y))) {
    aliasMap[alias] = a.version;
    byVersion.set(a.version, [...(byVersion.get(a.version) ?? []), alias]);
  }
  const views: VersionView[] = [];
  for (const m of versions) {
    const dir = versionDir(registry, name, m.id);
    const files = new Set(await listDir(dir));
    views.push({
      id: m.id,
      created_at: m.created_at,
      path: join(dir, sidecarName(m)),
      dir,
      kind: m.kind,
      mode: m.mode,
      val_macro_f1: m.metrics.val_macro_f1,
      aliases: byVersion.get(m.id) ?? [],
      has_validation: m.validation !== null && files.has(m.validation),
      has_drift_baseline: m.drift_digest !== null && files.has(m.drift_digest),
      has_eval: files.has("eval.json"),
    });
  }
  return { name, current: aliasMap[DEFAULT_ALIAS] ?? null, aliases: aliasMap, versions: views, pending: pendingMoves(journal, aliases, ids) };
}

export async function readManifest(registry: string, name: string, id: string): Promise<VersionManifest> {
  try {
    return await readJson<VersionManifest>(join(versionDir(registry, name, id), "version.json"));
  } catch {
    throw new RegistryError(`model ${name} has no version ${id}`);
  }
}

/** A version id, or a unique prefix of one (at least 4 hex digits). */
export async function findVersion(registry: string, name: string, ref: string): Promise<VersionManifest> {
  const versions = await readVersions(registry, name);
  if (versions.length === 0) throw new RegistryError(`no model ${JSON.stringify(name)} in registry ${registry}`);
  const exact = versions.find((v) => v.id === ref);
  if (exact) return exact;
  const hits = ref.length >= 4 ? versions.filter((v) => v.id.startsWith(ref)) : [];
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) throw new RegistryError(`version prefix ${ref} of ${name} is ambiguous (${hits.map((h) => h.id).join(", ")})`);
  throw new RegistryError(`model ${name} has no version or alias ${JSON.stringify(ref)} (versions: ${versions.map((v) => v.id).join(", ")})`);
}

/**
 * Under the model's lock: removes leftovers of interrupted writers (temp and
 * trash directories, temp alias files) and completes an interrupted alias move.
 */
async function recover(registry: string, name: string): Promise<void> {
  const vdir = versionsDir(registry, name);
  for (const entry of await listDir(vdir)) {
    if (entry.startsWith(TMP_PREFIX) || entry.startsWith(TRASH_PREFIX)) await fsp.rm(join(vdir, entry), { recursive: true, force: true });
  }
  for (const entry of await listDir(aliasesDir(registry, name))) {
    if (entry.includes(TEMP_MARK)) await fsp.rm(join(aliasesDir(registry, name), entry), { force: true });
  }
  const ids = new Set((await readVersions(registry, name)).map((v) => v.id));
  const pending = pendingMoves(await readJournal(registry, name), await readAliases(registry, name), ids);
  for (const m of pending) await writeAlias(registry, name, m);
}

async function writeAlias(registry: string, name: string, m: AliasMove): Promise<void> {
  const dir = aliasesDir(registry, name);
  await fsp.mkdir(dir, { recursive: true });
  const doc: AliasFile = { alias: m.alias, version: m.to, set_at: m.time, seq: m.seq };
  await writeFileAtomic(join(dir, `${m.alias}.json`), JSON.stringify(doc) + "\n");
}

/** Runs `body` under the model's lock after recovery. */
export async function writing<T>(registry: string, name: string, body: () => Promise<T>): Promise<T> {
  return withLock(modelDir(registry, name), async () => {
    await recover(registry, name);
    return body();
  });
}

/** Journal first, then the alias file. Call inside `writing`. */
export async function moveAlias(registry: string, name: string, move: Omit<AliasMove, "seq" | "time" | "from">): Promise<AliasMove> {
  checkName("alias", move.alias);
  await readManifest(registry, name, move.to);
  const journal = await readJournal(registry, name);
  const aliases = await readAliases(registry, name);
  const m: AliasMove = {
    seq: (journal[journal.length - 1]?.seq ?? 0) + 1,
    time: new Date().toISOString(),
    alias: move.alias,
    from: aliases.get(move.alias)?.version ?? null,
    to: move.to,
    kind: move.kind,
    ...(move.pops !== undefined ? { pops: move.pops } : {}),
    reason: move.reason,
    ...(move.metrics ? { metrics: move.metrics } : {}),
  };
  await appendJsonLine(journalPath(registry, name), m);
  await writeAlias(registry, name, m);
  return m;
}

export interface VersionFiles {
  /** Files copied in under their own base names. */
  copy: string[];
  /** Files written from memory. */
  write: Record<string, string | Uint8Array>;
}

/** Assembles a version directory under a temp name and renames it into place (src/io/atomic.ts). Call inside `writing`. */
export async function createVersion(registry: string, manifest: VersionManifest, files: VersionFiles): Promise<void> {
  const vdir = versionsDir(registry, manifest.name);
  await fsp.mkdir(vdir, { recursive: true });
  await writeDirAtomic(join(vdir, manifest.id), `${TMP_PREFIX}${manifest.id}-${process.pid}-${randomBytes(4).toString("hex")}`, async (tmp) => {
    for (const src of files.copy) await fsp.copyFile(src, join(tmp, basename(src)), fsc.COPYFILE_EXCL);
    for (const [file, data] of Object.entries(files.write)) await fsp.writeFile(join(tmp, file), data, { flag: "wx" });
    await fsp.writeFile(join(tmp, "version.json"), JSON.stringify(manifest, null, 2) + "\n", { flag: "wx" });
  });
}

/** Deletes a version: renamed to a trash name first (whole or gone), then removed. Call inside `writing`. */
export async function deleteVersion(registry: string, name: string, id: string): Promise<void> {
  await removeDirDurable(join(versionsDir(registry, name), id), `${TRASH_PREFIX}${id}-${randomBytes(4).toString("hex")}`);
}

/** Writes a file into an existing version (eval results), atomically. */
export async function attachFile(registry: string, name: string, id: string, file: string, data: string): Promise<string> {
  await readManifest(registry, name, id);
  const path = join(versionDir(registry, name, id), file);
  await writeFileAtomic(path, data);
  return path;
}
