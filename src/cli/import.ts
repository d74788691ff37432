/**
 * `mcpgate import FILE`: servers.d files from the MCP server list of Claude Desktop, Claude Code,
 * Cursor, VS Code or Codex. Reads and plans everything first (src/import/), then either shows it
 * (`--dry-run`: nothing written, no keychain touched) or stores the literal credentials in the
 * keychain and writes the files, all or nothing. Prints one line per server.
 */
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printable } from '../printable.js';
import { UsageError } from '../errors.js';
import { applyImport, conflictError, existingFiles, type ImportResult } from '../import/apply.js';
import { codexServers } from '../import/codexServers.js';
import { jsonServers } from '../import/jsonServers.js';
import { FORMAT_LABELS, IMPORT_FORMATS, type ImportFormat } from '../import/model.js';
import { planImport, type ImportPlan, type PlannedServer } from '../import/plan.js';
import { isObject, readSource } from '../import/sourceFile.js';
import { KeychainStore } from '../secrets/keychain.js';
import type { SecretStore } from '../secrets/secretStore.js';

/** Options of `mcpgate import`. */
export interface ImportOptions {
  readonly file: string | undefined;
  readonly configDir: string;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly format?: string;
  /** `~/.claude.json` only: that project's servers (and the user-scope ones). */
  readonly project?: string;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly store?: SecretStore;
}

/** The JSON Schema of servers.d files shipped with mcpgate (`schema/` next to `dist/`). */
const SCHEMA_FILE = fileURLToPath(new URL('../../schema/server.schema.json', import.meta.url));

/** Runs `mcpgate import`; returns the exit code. */
export async function importCommand(options: ImportOptions): Promise<number> {
  if (options.file === undefined) throw new UsageError('mcpgate import needs the FILE to import (e.g. ~/.codex/config.toml)');
  if (options.format !== undefined && !(IMPORT_FORMATS as readonly string[]).includes(options.format)) {
    throw new UsageError(`unknown --format "${options.format}" (use ${IMPORT_FORMATS.join(', ')})`);
  }
  const doc = await readSource(options.file, options.format as ImportFormat | undefined);
  if (options.project !== undefined && !(doc.format === 'claude-code' && isObject(doc.value.projects))) {
    throw new UsageError('--project applies to ~/.claude.json (Claude Code) only');
  }
  const sources = doc.format === 'codex' ? codexServers(doc) : jsonServers(doc, options.project === undefined ? {} : { project: options.project });
  const file = resolve(options.file);
  const label = `${FORMAT_LABELS[doc.format]} ${file}${doc.detectedBy === 'content' ? ' (format recognised from its content; --format to choose)' : ''}`;
  if (sources.length === 0) {
    options.out.write(`${printable(`no MCP servers in ${label}: nothing to import`)}\n`);
    return 0;
  }
  const serversDir = resolve(options.configDir, 'servers.d');
  const plan = planImport(sources, { format: FORMAT_LABELS[doc.format], file, schemaRef: relative(serversDir, SCHEMA_FILE) });
  const say = (line: string) => options.out.write(`${printable(line)}\n`);
  if (options.dryRun) return dryRun(plan, options, label, say);
  const result = await applyImport(plan, { configDir: options.configDir, force: options.force, store: () => options.store ?? new KeychainStore({ timeoutMs: 120_000 }) });
  say(`imported ${plan.servers.length} server(s) from ${label} into ${serversDir}`);
  for (const server of plan.servers) report(server, say, { result });
  footer(plan, options, say);
  return 0;
}

async function dryRun(plan: ImportPlan, options: ImportOptions, label: string, say: (line: string) => void): Promise<number> {
  say(`dry run: nothing is written and the keychain is not touched; importing ${label} into ${resolve(options.configDir, 'servers.d')} would do this:`);
  const existing = await existingFiles(options.configDir, plan);
  for (const server of plan.servers) report(server, say, { replaced: existing.get(server.name) });
  for (const server of plan.servers) {
    say('');
    say(`--- ${server.file}`);
    for (const line of server.text.trimEnd().split('\n')) say(line);
  }
  if (existing.size && !options.force) {
    const error = conflictError([...existing.values()].map((files) => `${files.join(' and ')} already exist${files.length === 1 ? 's' : ''}`));
    options.err.write(`${printable(`mcpgate: the import would be refused: ${error.message}`)}\n  fix: ${error.remedy}\n`);
    return 1;
  }
  footer(plan, options, say);
  return 0;
}

/** One line per server (file, target, secrets), then its notes indented. */
function report(server: PlannedServer, say: (line: string) => void, what: { result?: ImportResult; replaced?: readonly string[] | undefined }): void {
  const dry = what.result === undefined;
  const replaced = what.result?.replacedFiles.get(server.name) ?? what.replaced;
  const same = replaced?.includes(server.file) === true;
  const verb = dry ? (same ? 'would replace' : 'would write') : same ? 'replaced' : 'wrote';
  const parts = [`${verb} ${server.file}`, server.target];
  if (!server.enabled) parts.push('(disabled)');
  if (!dry && server.secrets.length) {
    const stored = server.secrets.map((s) => `${s.name} (${s.where}${what.result?.secrets.get(s.name) === 'unchanged' ? ', already there' : ''})`);
    parts.push(`secrets stored: ${stored.join(', ')}`);
  }
  say(parts.join('  '));
  if (dry) for (const secret of server.secrets) say(`  would store secret ${secret.name} (from ${secret.where} of server ${server.name})`);
  for (const shared of server.reused) say(`  ${shared.where} uses secret ${shared.name} (the same value)`);
  for (const needed of server.needsSecrets) say(`  needs secret ${needed.name} (${needed.why}): run \`mcpgate secrets set ${needed.name}\``);
  const others = (replaced ?? []).filter((file) => file !== server.file);
  if (others.length) say(`  ${dry ? 'would remove' : 'removed'} ${others.join(', ')} (the same server, replaced by ${server.file})`);
  if (server.origins.length) say(`  from ${server.origins.join('; ')}`);
  for (const why of server.disabledBecause) say(`  disabled: ${why}`);
  for (const note of server.notes) say(`  note: ${note}`);
}

function footer(plan: ImportPlan, options: ImportOptions, say: (line: string) => void): void {
  say('');
  say(`every tool of these servers asks for approval until you allow it (tools.allow): review the files, then run \`mcpgate check --config ${options.configDir}\``);
  if (plan.secrets.length) say(`${options.file} still holds the literal credentials: remove them from it once mcpgate serves these servers`);
}
