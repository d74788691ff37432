/** PLACEHOLDER (minimal) — to be replaced by the full implementation. */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { ErrorCodes, GatewayError } from '../errors.js';
import type { ServerConfig, UpstreamTarget } from './types.js';

export interface ReferenceResolver {
  resolve(kind: 'env' | 'file' | 'secret', name: string, server: ServerConfig): Promise<string>;
}

export function defaultResolver(configDir: string): ReferenceResolver {
  return {
    async resolve(kind, name, server) {
      if (kind === 'env') {
        const v = process.env[name];
        if (v === undefined) throw new GatewayError(ErrorCodes.REFERENCE_UNRESOLVED, `server "${server.name}": \${env:${name}} is not set`);
        return v;
      }
      if (kind === 'file') return (await readFile(isAbsolute(name) ? name : resolve(configDir, name), 'utf8')).replace(/\r?\n$/, '');
      throw new GatewayError(ErrorCodes.REFERENCE_UNSUPPORTED, `server "${server.name}": \${secret:${name}} references are not supported yet`);
    },
  };
}

const REF = /\$\{(env|file|secret):([^}]+)\}/g;

export async function resolveTarget(server: ServerConfig, resolver: ReferenceResolver): Promise<{ target: UpstreamTarget; values: string[] }> {
  const values: string[] = [];
  const sub = async (text: string) => {
    let out = '';
    let last = 0;
    for (const m of text.matchAll(REF)) {
      const v = await resolver.resolve(m[1] as 'env', m[2] as string, server);
      values.push(v);
      out += text.slice(last, m.index) + v;
      last = (m.index ?? 0) + m[0].length;
    }
    return out + text.slice(last);
  };
  const t = server.target;
  if (t.kind === 'stdio') {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(t.env)) env[k] = await sub(v);
    const args: string[] = [];
    for (const a of t.args) args.push(await sub(a));
    return { target: { ...t, env, args }, values };
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(t.headers)) headers[k] = await sub(v);
  return { target: { ...t, url: await sub(t.url), headers }, values };
}
