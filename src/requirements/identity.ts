/**
 * Server identity for the managed allow-list: what runs (command and arguments) or where it is
 * (URL), never the name, since anyone can name a server file anything. Matched once, at load.
 * Identities are taken as written in servers.d: an argument or URL holding a `${…}` reference is
 * matched on the reference text, so only a pattern that accepts any text (`*`) or writes the
 * reference lets it in; a `..` path segment only a pattern that writes one; and a URL pattern that
 * names a host admits only URLs whose parsed host it accepts. What runs also depends on where
 * relative paths point: a stdio server whose command line holds one (see relativePath.ts) matches
 * only an entry with a `cwd` glob that accepts its working directory; and a URL whose path or query
 * holds a reference or a dot segment (`.`, `..`, `%2e`) only an entry that writes it or accepts any
 * path (`https://host/*`). The environment is identity too: a stdio server may set only the
 * variables its entry lists, and a variable that changes what the interpreter loads (`HOME`,
 * `PATH`, `NODE_OPTIONS`…) only when the entry names it exactly.
 */
import type { ServerConfig } from '../config/types.js';
import { compileGlob } from '../policy/glob.js';
import type { ServerIdentityPattern } from './types.js';
import { displayUrl } from '../secrets/displayUrl.js';
import { loaderEffect } from './loaderEnv.js';
import { relativeWord } from './relativePath.js';

/**
 * A server's identity as shown in messages (no query string or credentials of URLs).
 * @example identityOf(server) // 'stdio: node --import tsx /srv/echo.ts (cwd /srv)'
 */
export function identityOf(server: ServerConfig): string {
  const target = server.target;
  if (target.kind === 'stdio') {
    const env = Object.keys(target.env);
    return `stdio: ${[target.command, ...target.args].join(' ')} (cwd ${target.cwd}${env.length ? `; env ${env.join(', ')}` : ''})`;
  }
  return `${target.kind}: ${displayUrl(target.url)}`;
}

/**
 * Whether the server is what an entry describes. When its command and arguments (or its URL's
 * host) match but another part of its identity does not, `part` names that field and `reason`
 * says why, for the refusal message.
 */
export type IdentityCheck =
  | { readonly matches: true }
  | { readonly matches: false; readonly part?: string; readonly reason?: string };

const NO_MATCH: IdentityCheck = { matches: false };
const MATCH: IdentityCheck = { matches: true };

/** True when the server is what the entry describes. */
export function identityMatches(server: ServerConfig, pattern: ServerIdentityPattern): boolean {
  return checkIdentity(server, pattern).matches;
}

/** Matches the server against one entry, saying which part refused when it nearly matched. */
export function checkIdentity(server: ServerConfig, pattern: ServerIdentityPattern): IdentityCheck {
  const target = server.target;
  if (pattern.kind === 'remote') return target.kind === 'stdio' ? NO_MATCH : urlCheck(pattern.url, pattern.where, target.url, target.kind);
  if (target.kind !== 'stdio' || !wordMatches(pattern.command, target.command)) return NO_MATCH;
  if (pattern.args !== undefined) {
    const rest = pattern.args.at(-1) === '**';
    const fixed = rest ? pattern.args.slice(0, -1) : pattern.args;
    if (rest ? target.args.length < fixed.length : target.args.length !== fixed.length) return NO_MATCH;
    if (!fixed.every((glob, index) => wordMatches(glob, target.args[index] as string))) return NO_MATCH;
  }
  if (pattern.cwd !== undefined) {
    if (wordMatches(pattern.cwd, target.cwd)) return envCheck(target.env, pattern);
    return { matches: false, part: 'cwd', reason: `its cwd ${target.cwd} is not one ${pattern.where} accepts (cwd: ${pattern.cwd})` };
  }
  const relative = relativeWord(target.command, target.args);
  if (!relative) return envCheck(target.env, pattern);
  const what = relative.field === 'command' ? 'command' : `argument ${relative.field}`;
  return {
    matches: false,
    part: relative.field,
    reason: `its ${what} "${relative.value}" is a relative path, resolved against its cwd ${target.cwd}, and ${pattern.where} gives no cwd glob to accept that directory`,
  };
}

const PARENT_SEGMENT = /(^|[/\\])\.\.([/\\]|$)/;
const ANYTHING = /^\*+$/;

/**
 * A command or argument glob. `*` matches any character, `/` included, so on its own
 * `/opt/mcp/*.js` would admit `/opt/mcp/../../home/u/evil.js`, and `/opt/mcp/${env:X}.js` (whose
 * reference is resolved only at start) anything at all. A `..` path segment matches only a glob
 * that writes one, and a reference only a glob that accepts any text (`*`) or writes a reference.
 */
function wordMatches(glob: string, value: string): boolean {
  if (!compileGlob(glob)(value)) return false;
  if (PARENT_SEGMENT.test(value) && !glob.includes('..')) return false;
  if (value.includes('${') && !ANYTHING.test(glob) && !glob.includes('${')) return false;
  return true;
}

/**
 * The URL glob matches the URL as written, and, when the pattern names a host (`scheme://HOST…`),
 * the host the gateway will actually connect to is one the pattern's host part accepts. Without
 * the second check a `*` in the host could carry another host's URL into the pattern's path
 * (`https://evil.example/x.example.com/` against `https://*.example.com/*`), and a reference in
 * the userinfo or host (resolved only at start) could point the URL anywhere; both are refused.
 * After the host, a `*` would let a reference (`/v1/${env:X}`, X = `../admin`) or a dot segment
 * (`/v1/../admin`, `/v1/%2e%2e/admin`) move the path out of the one the pattern names: see
 * {@link pathSurprise}.
 */
function urlCheck(pattern: string, where: string, url: string, kind: string): IdentityCheck {
  if (!compileGlob(pattern)(url)) return NO_MATCH;
  const named = /^([^:/?#]+:\/\/)([^/?#\\]*)/.exec(pattern);
  if (!named) return MATCH; // e.g. `*`: the admin accepts any URL text
  const written = /^[^:/?#]+:\/\/([^/?#\\]*)/.exec(url);
  if (!written || written[1]?.includes('${')) return NO_MATCH;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return NO_MATCH;
  }
  const [, scheme = '', authority = ''] = named;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (!compileGlob(scheme.toLowerCase())(`${parsed.protocol}//`) || !compileGlob(host.toLowerCase())(parsed.host)) return NO_MATCH;
  // `https://host*` ends its host with a star that accepts any path as well
  const patternRest = pattern.length === named[0].length && authority.endsWith('*') ? '*' : pattern.slice(named[0].length);
  // As the URL parser reads it: it removes every tab and line break (`/v1/.<TAB>./admin` is `/v1/../admin`).
  const surprise = pathSurprise(patternRest, url.slice(written[0].length).replace(/[\t\n\r]/g, ''));
  if (!surprise) return MATCH;
  return {
    matches: false,
    part: kind === 'sse' ? 'sse' : 'url',
    reason: `its URL path holds ${surprise}, which can move it off the path ${where} names (${pattern}); an entry accepts that only by writing it or by accepting any path after the host (/*)`,
  };
}

const ANY_PATH = /^\/?\*+$/;
const REFERENCE = /\$\{/;
/** A `..` / `.` segment, separators including encoded ones (`%2f`, `%5c`, `%252f`) and query delimiters. */
const SEGMENT_END = String.raw`(?:[/\\?#&=]|%(?:25)*(?:2f|5c)|$)`;
const SEGMENT_START = String.raw`(?:^|[/\\?#&=]|%(?:25)*(?:2f|5c))`;
const PARENT_URL_SEGMENT = new RegExp(`${SEGMENT_START}\\.\\.${SEGMENT_END}`, 'i');
const CURRENT_URL_SEGMENT = new RegExp(`${SEGMENT_START}\\.${SEGMENT_END}`, 'i');
/** A percent-encoded dot, also double-encoded (`%2e`, `%2E`, `%252e`). */
const ENCODED_DOT = /%(?:25)*2e/i;

/**
 * What in the URL's path and query (as written, after the host) could point it elsewhere than
 * the pattern's path, unless the pattern writes the same or accepts any path (`*`, `/*`, `/**`).
 */
function pathSurprise(patternRest: string, urlRest: string): string | undefined {
  if (ANY_PATH.test(patternRest)) return undefined;
  if (REFERENCE.test(urlRest) && !REFERENCE.test(patternRest)) return 'a ${…} reference (resolved only at start)';
  if (PARENT_URL_SEGMENT.test(urlRest) && !PARENT_URL_SEGMENT.test(patternRest)) return 'a ".." segment';
  if (CURRENT_URL_SEGMENT.test(urlRest) && !CURRENT_URL_SEGMENT.test(patternRest)) return 'a "." segment';
  if (ENCODED_DOT.test(urlRest) && !ENCODED_DOT.test(patternRest)) return 'a percent-encoded dot (%2e)';
  return undefined;
}

/**
 * The server's `env` against the entry's `env` list: every variable it sets must be one the entry
 * lists (a name glob, and a glob on the value as written when given), and a loader variable
 * (loaderEnv.ts: HOME, PATH, PYTHON*, NODE_OPTIONS, LD_*…) one the entry names exactly. An entry
 * without `env` admits none: the environment is part of what runs.
 */
function envCheck(env: Readonly<Record<string, string>>, pattern: Extract<ServerIdentityPattern, { kind: 'stdio' }>): IdentityCheck {
  const allowed = pattern.env ?? [];
  const refused: { name: string; why: string }[] = [];
  for (const [name, value] of Object.entries(env)) {
    const effect = loaderEffect(name);
    const entries = allowed.filter((entry) => (effect === undefined ? compileGlob(entry.name)(name) : entry.name === name));
    if (entries.length === 0) {
      refused.push({ name, why: effect === undefined ? `${name} is not a variable it lists` : `${name} changes ${effect}, and an entry admits it only by naming it exactly` });
    } else if (!entries.some((entry) => entry.value === undefined || wordMatches(entry.value, value))) {
      refused.push({ name, why: `the value of ${name} is not one it accepts (${entries.map((entry) => `${entry.name}: ${entry.value ?? '*'}`).join(', ')})` });
    }
  }
  if (refused.length === 0) return MATCH;
  const listed = allowed.length === 0 ? 'none' : allowed.map((entry) => (entry.value === undefined ? entry.name : `${entry.name}=${entry.value}`)).join(', ');
  return {
    matches: false,
    part: `env.${(refused[0] as { name: string }).name}`,
    reason: `its env sets what ${pattern.where} does not allow (env: ${listed}): ${refused.map((r) => r.why).join('; ')}`,
  };
}
