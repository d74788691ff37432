/**
 * Server identity for the managed allow-list: what runs (command and arguments) or where it is
 * (URL), never the name, since anyone can name a server file anything. Matched once, at load.
 * Identities are taken as written in servers.d: an argument or URL holding a `${…}` reference is
 * matched on the reference text, so only a pattern that accepts any text (`*`) or writes the
 * reference lets it in; a `..` path segment only a pattern that writes one; and a URL pattern that
 * names a host admits only URLs whose parsed host it accepts.
 */
import type { ServerConfig } from '../config/types.js';
import { compileGlob } from '../policy/glob.js';
import type { ServerIdentityPattern } from './types.js';
import { displayUrl } from '../secrets/displayUrl.js';

/**
 * A server's identity as shown in messages (no query string or credentials of URLs).
 * @example identityOf(server) // 'stdio: node --import tsx /srv/echo.ts'
 */
export function identityOf(server: ServerConfig): string {
  const target = server.target;
  if (target.kind === 'stdio') return `stdio: ${[target.command, ...target.args].join(' ')}`;
  return `${target.kind}: ${displayUrl(target.url)}`;
}

/** The first allow-list entry the server's identity matches, if any. */
export function matchIdentity(server: ServerConfig, patterns: readonly ServerIdentityPattern[]): ServerIdentityPattern | undefined {
  return patterns.find((pattern) => identityMatches(server, pattern));
}

/** True when the server is what the entry describes. */
export function identityMatches(server: ServerConfig, pattern: ServerIdentityPattern): boolean {
  const target = server.target;
  if (pattern.kind === 'remote') return target.kind !== 'stdio' && urlMatches(pattern.url, target.url);
  if (target.kind !== 'stdio' || !wordMatches(pattern.command, target.command)) return false;
  if (pattern.args === undefined) return true;
  const rest = pattern.args.at(-1) === '**';
  const fixed = rest ? pattern.args.slice(0, -1) : pattern.args;
  if (rest ? target.args.length < fixed.length : target.args.length !== fixed.length) return false;
  return fixed.every((glob, index) => wordMatches(glob, target.args[index] as string));
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
 */
function urlMatches(pattern: string, url: string): boolean {
  if (!compileGlob(pattern)(url)) return false;
  const named = /^([^:/?#]+:\/\/)([^/?#\\]*)/.exec(pattern);
  if (!named) return true; // e.g. `*`: the admin accepts any URL text
  const written = /^[^:/?#]+:\/\/([^/?#\\]*)/.exec(url);
  if (!written || written[1]?.includes('${')) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const [, scheme = '', authority = ''] = named;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  return compileGlob(scheme.toLowerCase())(`${parsed.protocol}//`) && compileGlob(host.toLowerCase())(parsed.host);
}

/**
 * Environment variables that change what a stdio command runs (its lookup, the interpreter's
 * preloads and module paths, the package registry `npx`/`uvx`/`pip` install from), so an
 * allow-listed command line with one of them set is no longer the command the admin allowed.
 * A deny-list: it covers the usual interpreters and launchers, not every program's own variables.
 */
const EXEC_ENV = /^(PATH|LD_[A-Z_]+|DYLD_[A-Z_]+|NODE_OPTIONS|NODE_PATH|NODE_EXTRA_CA_CERTS|NPM_CONFIG_[A-Z_]+|YARN_[A-Z_]+|PYTHON(PATH|HOME|STARTUP|USERBASE|INSPECT|SAFEPATH)|PIP_[A-Z_]+|UV_[A-Z_]+|PERL5LIB|PERL5OPT|PERLLIB|RUBYOPT|RUBYLIB|GEM_HOME|GEM_PATH|BUNDLE_GEMFILE|BASH_ENV|ENV|SHELLOPTS|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|CLASSPATH|DENO_[A-Z_]+|GOFLAGS)$/i;

/** The `env` keys of a stdio server that would change what its allow-listed command line runs. */
export function execEnvKeys(server: ServerConfig): string[] {
  const target = server.target;
  if (target.kind !== 'stdio') return [];
  // PATH only decides what runs when the command is looked up (no `/` in it)
  return Object.keys(target.env).filter((key) => EXEC_ENV.test(key) && !(key.toUpperCase() === 'PATH' && target.command.includes('/')));
}

