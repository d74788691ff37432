/**
 * `${kind:NAME}` references in servers.d values (`env`, `headers`, `args`, `url`/`sse`), resolved
 * when an upstream (re)starts. Kinds: `env` (the gateway's environment), `file` (a file's
 * contents, one trailing newline trimmed; relative to the config dir), `secret` (OS keychain:
 * not supported yet). `$${` is a literal `${`. Errors name the reference, never a value.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { ErrorCodes, GatewayError } from '../errors.js';
import type { ServerConfig, UpstreamTarget } from './types.js';

/** The reference kinds. */
export type ReferenceKind = 'env' | 'file' | 'secret';

/** One reference found in a value. */
export interface Reference {
  readonly kind: ReferenceKind;
  readonly name: string;
}

/** Supplies the value of a reference. */
export interface ReferenceResolver {
  resolve(kind: ReferenceKind, name: string, server: ServerConfig): Promise<string>;
}

const KINDS = new Set<ReferenceKind>(['env', 'file', 'secret']);
/** `$${` (escape) or `${…}`. */
const TOKEN = /\$\$\{|\$\{([^}]*)\}/g;

/** Lists the references in a value; throws a GatewayError naming a malformed one. */
export function findReferences(value: string): Reference[] {
  const found: Reference[] = [];
  for (const match of value.matchAll(TOKEN)) {
    if (match[0] === '$${') continue;
    found.push(parseReference(match[1] ?? ''));
  }
  const unterminated = value.replace(TOKEN, '').indexOf('${');
  if (unterminated !== -1) {
    throw new GatewayError(ErrorCodes.CONFIG_INVALID, 'unterminated reference: "${" without a closing "}" (write $${ for a literal ${)');
  }
  return found;
}

function parseReference(body: string): Reference {
  const colon = body.indexOf(':');
  const kind = body.slice(0, colon) as ReferenceKind;
  const name = body.slice(colon + 1);
  if (colon === -1 || !KINDS.has(kind)) {
    throw new GatewayError(ErrorCodes.CONFIG_INVALID, `unknown reference \${${body}}: use \${env:NAME}, \${file:PATH} or \${secret:NAME}`);
  }
  if (name.trim() === '') throw new GatewayError(ErrorCodes.CONFIG_INVALID, `empty reference \${${kind}:}: name what it refers to`);
  return { kind, name };
}

/** Replaces every reference in `value`; collects the resolved values. */
async function substitute(value: string, server: ServerConfig, resolver: ReferenceResolver, values: string[]): Promise<string> {
  if (!value.includes('${')) return value;
  findReferences(value); // reject malformed input before resolving anything
  let out = '';
  let last = 0;
  for (const match of value.matchAll(TOKEN)) {
    out += value.slice(last, match.index);
    last = (match.index ?? 0) + match[0].length;
    if (match[0] === '$${') {
      out += '${';
      continue;
    }
    const ref = parseReference(match[1] ?? '');
    const resolved = await resolver.resolve(ref.kind, ref.name, server);
    values.push(resolved);
    out += resolved;
  }
  return out + value.slice(last);
}

/** The target of a server with every reference replaced, and the resolved values (for redaction). */
export async function resolveTarget(server: ServerConfig, resolver: ReferenceResolver): Promise<{ target: UpstreamTarget; values: string[] }> {
  const values: string[] = [];
  const target = server.target;
  const sub = (value: string) => substitute(value, server, resolver, values);
  if (target.kind === 'stdio') {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(target.env)) env[key] = await sub(value);
    const args: string[] = [];
    for (const arg of target.args) args.push(await sub(arg));
    return { target: { ...target, env, args }, values };
  }
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(target.headers)) headers[key] = await sub(value);
  return { target: { ...target, url: await sub(target.url), headers }, values };
}

/** Resolves `env` from the gateway's environment and `file` from disk; `secret` is not supported yet. */
export function defaultResolver(configDir: string, env: NodeJS.ProcessEnv = process.env): ReferenceResolver {
  return {
    async resolve(kind, name, server) {
      if (kind === 'env') {
        const value = env[name];
        if (value === undefined) {
          throw new GatewayError(ErrorCodes.REFERENCE_UNRESOLVED, `server "${server.name}": \${env:${name}} is not set`, {
            remedy: `set ${name} in the gateway's environment, or change ${server.file}`,
          });
        }
        return value;
      }
      if (kind === 'file') {
        const path = isAbsolute(name) ? name : resolve(configDir, name);
        try {
          return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? 'error';
          throw new GatewayError(ErrorCodes.REFERENCE_UNRESOLVED, `server "${server.name}": \${file:${name}} cannot be read (${code})`, {
            remedy: `create ${path} readable by the gateway, or change ${server.file}`,
          });
        }
      }
      throw new GatewayError(
        ErrorCodes.REFERENCE_UNSUPPORTED,
        `server "${server.name}": \${secret:${name}} references are not supported yet (keychain support is coming); use \${env:…} or \${file:…}`,
      );
    },
  };
}

/**
 * Resolves the references in a value that belongs to no server (`field` names it in errors),
 * e.g. gateway.yaml's `audit.checkpoint.key`.
 */
export async function resolveValue(value: string, field: string, resolver: ReferenceResolver): Promise<string> {
  const owner = { name: field, file: 'gateway.yaml' } as unknown as ServerConfig;
  try {
    return await substitute(value, owner, resolver, []);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    throw new GatewayError(error.code, error.message.replace(`server "${field}": `, `${field}: `), error.remedy === undefined ? {} : { remedy: error.remedy });
  }
}
