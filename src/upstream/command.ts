/**
 * Where a stdio upstream's `command` is found, resolved as spawning it will (execvp): a name
 * without `/` is looked up in the PATH of the environment the child gets (the SDK's minimal
 * inherited environment plus the server's `env`, as stdioTransport.ts spawns it), relative PATH
 * entries against the child's cwd; a path with `/` is taken relative to that cwd.
 */
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, resolve } from 'node:path';

/** Where the command is, or why it cannot be run. */
export type CommandLookup = { readonly path: string } | { readonly problem: string };

async function executable(path: string): Promise<'ok' | 'missing' | 'directory' | 'not executable'> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 'missing';
  if (info.isDirectory()) return 'directory';
  return (await access(path, constants.X_OK).then(() => true, () => false)) ? 'ok' : 'not executable';
}

/**
 * Finds `command` for a child with environment `env` (added to the inherited minimum) and working
 * directory `cwd`. `showPath: false` keeps the PATH out of the message (it came from a reference).
 */
export async function findCommand(command: string, env: Readonly<Record<string, string>>, cwd: string, showPath = true): Promise<CommandLookup> {
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(cwd, command);
    const found = await executable(path);
    return found === 'ok' ? { path } : { problem: `command ${path} ${found === 'missing' ? 'does not exist' : found === 'directory' ? 'is a directory' : 'is not executable'}` };
  }
  const childPath = { ...getDefaultEnvironment(), ...env }.PATH ?? '';
  const dirs = childPath.split(delimiter).filter(Boolean);
  let denied: string | undefined;
  for (const dir of dirs) {
    const path = resolve(cwd, dir, command);
    const found = await executable(path);
    if (found === 'ok') return { path };
    if (found === 'not executable') denied ??= path;
  }
  if (denied) return { problem: `command "${command}" is found at ${denied}, which is not executable` };
  const shown = dirs.length === 0 ? 'the server has no PATH' : showPath ? `PATH the server gets: ${dirs.join(delimiter)}` : 'its PATH is set from a reference';
  return { problem: `command "${command}" is not on the PATH the server will run with (${shown}); install it, give its absolute path, or set PATH in the server's env` };
}
