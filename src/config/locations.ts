/**
 * Where a configuration directory's parts are, and where the gateway's state goes: the checks
 * that catch a `--config` naming the wrong directory, and the defaults `MCPGATE_STATE_DIR` sets.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { ConfigProblem } from './types.js';

/** Extensions of servers.d files. */
export const SERVER_EXTENSIONS = ['.yaml', '.yml', '.json'];
/** Names gateway.yaml may have. */
export const GATEWAY_FILES = ['gateway.yaml', 'gateway.yml', 'gateway.json'];

/**
 * An easy slip: `--config …/servers.d` (or a directory holding server files directly): server
 * files where gateway.yaml belongs, and no servers.d/ of their own. Nothing there would be served.
 */
export async function misplacedServers(root: string): Promise<ConfigProblem | undefined> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  if (entries.some((e) => e.name === 'servers.d' && e.isDirectory())) return undefined;
  const candidates = entries.filter((e) => e.isFile() && SERVER_EXTENSIONS.includes(extname(e.name)) && !GATEWAY_FILES.includes(e.name)).map((e) => e.name);
  const serverFiles: string[] = [];
  for (const name of candidates.slice(0, 50)) {
    // A server file names its upstream: command, url or sse at the top.
    const value = parseDocument(await readFile(join(root, name), 'utf8').catch(() => '')).toJS() as unknown;
    if (typeof value === 'object' && value !== null && ['command', 'url', 'sse'].some((key) => key in value)) serverFiles.push(name);
  }
  const named = basename(root) === 'servers.d';
  if (!named && serverFiles.length === 0) return undefined;
  const shown = serverFiles.length === 0 ? '' : ` (${serverFiles.slice(0, 3).join(', ')}${serverFiles.length > 3 ? ', …' : ''})`;
  const what = named ? `looks like a servers.d directory itself${shown}` : `holds server files directly${shown}`;
  return { file: `--config ${root}`, message: `${what} and has no servers.d/ of its own: pass the directory above it, --config ${dirname(root)}`, severity: 'error' };
}

/**
 * Where the gateway writes its state when gateway.yaml does not say: `MCPGATE_STATE_DIR` (the
 * container image sets it to its /var/log/mcpgate volume, so a read-only /config works as is),
 * else the config dir. It holds the audit log (and so the pins file and the admin directory
 * beside it) and the approved-rules file; a path set in gateway.yaml always wins.
 */
export function stateDefaults(root: string, written: unknown, env: NodeJS.ProcessEnv): { auditFile?: string; rulesFile?: string } {
  const stateDir = env.MCPGATE_STATE_DIR;
  if (!stateDir) return {};
  // What gateway.yaml itself says (before zod's defaults): a path written there always wins.
  const raw = (written ?? {}) as { audit?: { file?: unknown }; approval?: { rulesFile?: unknown } };
  const dir = resolve(root, stateDir);
  return {
    ...(raw.audit?.file === undefined ? { auditFile: join(dir, 'mcpgate-audit.log') } : {}),
    ...(raw.approval?.rulesFile === undefined ? { rulesFile: join(dir, 'rules.d', 'approved.yaml') } : {}),
  };
}

