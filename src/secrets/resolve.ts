/**
 * Resolving `${kind:NAME}` references (syntax: src/config/references.ts) when an upstream
 * (re)starts or a gateway.yaml value is needed: `env` from the gateway's environment, `file` from
 * disk (one trailing newline trimmed; relative to the config dir), `secret` from a SecretStore (the
 * OS keychain, read afresh at every start). Errors name the reference, never a value.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { findReferences, parseReference, REFERENCE_TOKEN, type ReferenceKind } from '../config/references.js';
import type { ServerConfig, UpstreamTarget } from '../config/types.js';
import { ErrorCodes, GatewayError } from '../errors.js';
import { KeychainStore } from './keychain.js';
import { Secret } from './secretValue.js';
import { setSecretRemedy, type SecretStore } from './secretStore.js';

/** Whose reference is resolved (for messages): a server, or a gateway.yaml section. */
export interface ReferenceOwner {
  readonly name: string;
  /** Config-dir-relative file the reference is written in. */
  readonly file: string;
  /** How messages name the owner; default `server "NAME"`. */
  readonly label?: string;
}

/** Supplies the value of a reference. */
export interface ReferenceResolver {
  resolve(kind: ReferenceKind, name: string, owner: ReferenceOwner): Promise<string>;
}

/** Replaces every reference in `value`; collects the resolved values. */
async function substitute(value: string, server: ReferenceOwner, resolver: ReferenceResolver, values: string[]): Promise<string> {
  if (!value.includes('${')) return value;
  findReferences(value); // reject malformed input before resolving anything
  let out = '';
  let last = 0;
  for (const match of value.matchAll(REFERENCE_TOKEN)) {
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

/**
 * Every reference in one string (e.g. a gateway.yaml value) replaced; `values` collects the
 * resolved values for redaction.
 */
export function resolveValue(value: string, owner: ReferenceOwner, resolver: ReferenceResolver, values: string[] = []): Promise<string> {
  return substitute(value, owner, resolver, values);
}

/**
 * {@link resolveValue} for a value that is a secret itself (a key): it travels as a {@link Secret}
 * until the crypto that uses it reveals it.
 */
export async function resolveSecret(value: string, owner: ReferenceOwner, resolver: ReferenceResolver, values: string[] = []): Promise<Secret> {
  return new Secret(await substitute(value, owner, resolver, values));
}

/**
 * Resolves `env` from the gateway's environment, `file` from disk and `secret` from `secrets`
 * (the OS keychain by default, loaded only when a secret is first referenced).
 */
export function defaultResolver(configDir: string, env: NodeJS.ProcessEnv = process.env, secrets: SecretStore = new KeychainStore()): ReferenceResolver {
  return {
    async resolve(kind, name, server) {
      const who = server.label ?? `server "${server.name}"`;
      if (kind === 'secret') {
        let value: string | undefined;
        try {
          value = await secrets.get(name);
        } catch (error) {
          if (!(error instanceof GatewayError)) throw error;
          throw new GatewayError(error.code, `${who}: \${secret:${name}} cannot be read: ${error.message}`, { remedy: error.remedy, cause: error });
        }
        if (value === undefined) {
          throw new GatewayError(ErrorCodes.SECRET_NOT_FOUND, `${who}: secret "${name}" (\${secret:${name}}) is not in the ${secrets.description}: set it with \`mcpgate secrets set ${name}\``, {
            remedy: `${setSecretRemedy(name)}; the server is retried with backoff and picks it up`,
          });
        }
        return value;
      }
      if (kind === 'env') {
        const value = env[name];
        if (value === undefined) {
          throw new GatewayError(ErrorCodes.REFERENCE_UNRESOLVED, `${who}: \${env:${name}} is not set`, {
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
          throw new GatewayError(ErrorCodes.REFERENCE_UNRESOLVED, `${who}: \${file:${name}} cannot be read (${code})`, {
            remedy: `create ${path} readable by the gateway, or change ${server.file}`,
          });
        }
      }
      throw new GatewayError(ErrorCodes.CONFIG_INVALID, `${who}: unknown reference kind ${String(kind)}`);
    },
  };
}
