/**
 * The imperative shell of `mcpgate import`: checks what exists, stores the secrets, writes the
 * files. All or nothing: an existing servers.d file or keychain entry with another value refuses
 * the whole import (unless `--force`); a secret that cannot be stored or a file that cannot be
 * written undoes what was done (secrets deleted or restored, files restored) before the error is
 * reported.
 */
import { lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, GatewayError } from '../errors.js';
import type { SecretStore } from '../secrets/secretStore.js';
import type { ImportPlan, PlannedServer } from './plan.js';

const SERVER_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** What happened to one secret. */
export type SecretOutcome = 'stored' | 'unchanged' | 'replaced';

/** What an import did. */
export interface ImportResult {
  /** Per server name: the existing files it replaced (with --force). */
  readonly replacedFiles: ReadonlyMap<string, readonly string[]>;
  /** Per secret name. */
  readonly secrets: ReadonlyMap<string, SecretOutcome>;
}

/** The existing servers.d files each planned server would replace (`NAME.yaml|yml|json`). */
export async function existingFiles(configDir: string, plan: ImportPlan): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const server of plan.servers) {
    const present: string[] = [];
    for (const extension of SERVER_EXTENSIONS) {
      const file = `servers.d/${server.name}${extension}`;
      if (await lstat(join(configDir, file)).then(() => true, () => false)) present.push(file);
    }
    if (present.length) found.set(server.name, present);
  }
  return found;
}

/** A refusal naming every conflict (exit 1; nothing was written). */
export function conflictError(conflicts: readonly string[]): GatewayError {
  return new GatewayError(ErrorCodes.IMPORT_CONFLICT, `nothing was imported: ${conflicts.join('; ')}`, {
    remedy: 'pass --force to replace them, or move them aside; `--dry-run` shows what would be written',
  });
}

/** Stores the plan's secrets and writes its files; returns what it did. */
export async function applyImport(plan: ImportPlan, options: { configDir: string; force: boolean; store: () => SecretStore }): Promise<ImportResult> {
  const existing = await existingFiles(options.configDir, plan);
  if (existing.size && !options.force) {
    throw conflictError([...existing.values()].map((files) => `${files.join(' and ')} already exist${files.length === 1 ? 's' : ''}`));
  }
  const secrets = await storeSecrets(plan, options);
  try {
    await writeFiles(options.configDir, plan.servers, existing);
  } catch (error) {
    await secrets.undo();
    throw error;
  }
  return { replacedFiles: existing, secrets: secrets.outcomes };
}

async function storeSecrets(plan: ImportPlan, options: { force: boolean; store: () => SecretStore }): Promise<{ outcomes: Map<string, SecretOutcome>; undo(): Promise<void> }> {
  const outcomes = new Map<string, SecretOutcome>();
  if (plan.secrets.length === 0) return { outcomes, undo: async () => undefined };
  const store = options.store();
  /** Secrets written so far, with the value each had before (undefined: none). */
  const written = new Map<string, string | undefined>();
  const undo = async () => {
    for (const [name, value] of written) {
      // Best effort: the error that made us undo is the one to report.
      await (value === undefined ? store.delete(name) : store.set(name, value)).catch(() => undefined);
    }
  };
  try {
    const before = new Map<string, string | undefined>();
    const conflicts: string[] = [];
    for (const secret of plan.secrets) {
      const current = await store.get(secret.name);
      before.set(secret.name, current);
      if (current === undefined) outcomes.set(secret.name, 'stored');
      else if (secret.value.equals(current)) outcomes.set(secret.name, 'unchanged');
      else if (options.force) outcomes.set(secret.name, 'replaced');
      else conflicts.push(`secret ${secret.name} is already in the ${store.description} with another value`);
    }
    if (conflicts.length) throw conflictError(conflicts);
    for (const secret of plan.secrets) {
      if (outcomes.get(secret.name) === 'unchanged') continue;
      await store.set(secret.name, secret.value.reveal());
      written.set(secret.name, before.get(secret.name));
    }
  } catch (error) {
    await undo();
    throw keychainError(error, store);
  }
  return { outcomes, undo };
}

/** A keychain failure, saying that nothing was written and what to do instead. */
function keychainError(error: unknown, store: SecretStore): unknown {
  if (!(error instanceof GatewayError) || error.code === ErrorCodes.IMPORT_CONFLICT) return error;
  return new GatewayError(error.code, `nothing was imported: the literal credentials found cannot be stored in the ${store.description}: ${error.message}`, {
    remedy: `${error.remedy ?? 'check the keychain'}; or run with --dry-run to see the files, and write them with \${env:NAME} (or \${file:PATH}) references in place of the \${secret:NAME} ones`,
    cause: error,
  });
}

/** Writes every file to a temporary name first, then renames them all into place (undone on failure). */
async function writeFiles(configDir: string, servers: readonly PlannedServer[], existing: ReadonlyMap<string, readonly string[]>): Promise<void> {
  const dir = join(configDir, 'servers.d');
  const temporary = servers.map((server) => join(dir, `.${server.name}.import-${process.pid}.tmp`));
  const backups = new Map<string, Buffer>();
  const placed: string[] = [];
  try {
    await mkdir(dir, { recursive: true });
    for (const [index, server] of servers.entries()) await writeFile(temporary[index] as string, server.text, { flag: 'wx' });
    for (const files of existing.values()) for (const file of files) backups.set(file, await readFile(join(configDir, file)));
    for (const [index, server] of servers.entries()) {
      for (const file of existing.get(server.name) ?? []) if (file !== server.file) await rm(join(configDir, file));
      await rename(temporary[index] as string, join(configDir, server.file));
      placed.push(server.file);
    }
  } catch (error) {
    // Best effort: the write error is the one to report.
    const quietly = (work: Promise<unknown>) => work.catch(() => undefined);
    for (const file of temporary) await quietly(rm(file, { force: true }));
    for (const file of placed) if (!backups.has(file)) await quietly(rm(join(configDir, file), { force: true }));
    for (const [file, content] of backups) await quietly(writeFile(join(configDir, file), content));
    throw new GatewayError(ErrorCodes.IMPORT_WRITE_FAILED, `nothing was imported: cannot write to ${dir}: ${(error as Error).message}`, {
      remedy: 'check that the config directory is writable',
      cause: error,
    });
  }
}
