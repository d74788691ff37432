/**
 * The files a reload reads, and which of them changed since the last reload: gateway.yaml, every
 * servers.d file, the managed requirements file and the approved-rules file, each by content.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, isAbsolute, join, relative } from 'node:path';
import { GATEWAY_FILES, SERVER_EXTENSIONS } from '../config/locations.js';

/** Label (config-dir-relative, or absolute outside it) → sha256 of the content. */
export type FileSnapshot = ReadonlyMap<string, string>;

/** Where the watched files are. */
export interface WatchedFiles {
  /** Absolute configuration directory. */
  readonly dir: string;
  /** Absolute managed requirements file, when one applies. */
  readonly requirementsFile?: string;
  /** Absolute approved-rules file. */
  readonly rulesFile: string;
}

/** Reads every watched file that exists and hashes it. */
export async function snapshotFiles(files: WatchedFiles): Promise<FileSnapshot> {
  const snapshot = new Map<string, string>();
  const add = async (path: string) => {
    const text = await readFile(path).catch(() => undefined);
    if (text !== undefined) snapshot.set(labelOf(files.dir, path), createHash('sha256').update(text).digest('hex'));
  };
  const servers = await readdir(join(files.dir, 'servers.d')).catch(() => [] as string[]);
  await Promise.all([
    ...GATEWAY_FILES.map((name) => add(join(files.dir, name))),
    ...servers.filter((name) => SERVER_EXTENSIONS.includes(extname(name))).map((name) => add(join(files.dir, 'servers.d', name))),
    ...(files.requirementsFile ? [add(files.requirementsFile)] : []),
    add(files.rulesFile),
  ]);
  return snapshot;
}

/** The labels of files added, removed or changed between two snapshots, sorted. */
export function changedFiles(before: FileSnapshot, after: FileSnapshot): string[] {
  const changed = new Set<string>();
  for (const [label, hash] of after) if (before.get(label) !== hash) changed.add(label);
  for (const label of before.keys()) if (!after.has(label)) changed.add(label);
  return [...changed].sort();
}

/** A path as the reload record names it: relative to the config dir when inside it. */
export function labelOf(dir: string, path: string): string {
  const inside = relative(dir, path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}
