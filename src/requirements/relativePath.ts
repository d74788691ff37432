/**
 * Which words of a stdio command line name a file relative to the upstream's working directory,
 * so that what runs depends on its `cwd`: a server with one matches only an allow-list entry
 * that gives a `cwd` glob. Pure: the words are tested as written in servers.d (references
 * unresolved). The rule, applied to a word (for `NAME=VALUE` / `--NAME=VALUE`, to the VALUE):
 * - it is a relative path when it is not absolute and contains a path separator (`/` or `\`),
 *   starts with `.` (`.`, `..`, `./x`, `.env`), or is a bare file name ending in a script or
 *   executable extension ({@link SCRIPT_EXTENSION}: `server.js`, `main.py`, `run.sh`, …);
 * - except a URL (`scheme://…`), an npm package spec (`@scope/name`, `github:user/repo`), which
 *   name no file; plain words (`stdio`, `--verbose`, `-y`, `--port=3000`) are not paths.
 */
import { isAbsolute } from 'node:path';

/** Extensions of files an interpreter or the OS runs; a bare `NAME.EXT` is resolved against cwd. */
export const SCRIPT_EXTENSION = /\.(js|mjs|cjs|jsx|ts|mts|cts|tsx|py|pyc|pyw|pyz|rb|pl|pm|php|lua|sh|bash|zsh|fish|ps1|bat|cmd|jar|wasm|exe)$/i;

const SEPARATOR = /[/\\]/;
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;
const PACKAGE_SPEC = /^((github|gitlab|bitbucket|gist|npm):|@[^/\\.@][^/\\]*\/[^/\\]+$)/i;
const OPTION_VALUE = /^-*[A-Za-z0-9_][A-Za-z0-9_.-]*=/;

/**
 * True when the argument names a file relative to the working directory.
 * @example isRelativePath('server.js') // true
 * @example isRelativePath('--config=./mcp.json') // true
 * @example isRelativePath('/opt/mcp/server.js') // false
 * @example isRelativePath('@modelcontextprotocol/server-github') // false
 */
export function isRelativePath(word: string): boolean {
  const option = OPTION_VALUE.exec(word);
  const value = option ? word.slice(option[0].length) : word;
  if (value === '' || isAbsolute(value) || value.startsWith('/')) return false;
  if (URL_LIKE.test(value)) return false;
  if (PACKAGE_SPEC.test(value) && !SCRIPT_EXTENSION.test(value)) return false;
  return SEPARATOR.test(value) || value.startsWith('.') || SCRIPT_EXTENSION.test(value);
}

/**
 * A command runs from the config dir when written `./bin/x` (normalised to an absolute path at
 * load) and is looked up on PATH when it is a bare name, so only a command still holding a
 * separator without being absolute depends on the working directory.
 */
export function isRelativeCommand(command: string): boolean {
  return SEPARATOR.test(command) && !isAbsolute(command) && !command.startsWith('/');
}

/**
 * The first word of a stdio command line that is resolved against its working directory.
 * @example relativeWord('node', ['--import', 'tsx', 'server.js']) // { field: 'args[2]', value: 'server.js' }
 */
export function relativeWord(command: string, args: readonly string[]): { readonly field: string; readonly value: string } | undefined {
  if (isRelativeCommand(command)) return { field: 'command', value: command };
  const index = args.findIndex(isRelativePath);
  return index < 0 ? undefined : { field: `args[${index}]`, value: args[index] as string };
}
