/** PLACEHOLDER (minimal) — to be replaced by the full implementation with line numbers. */
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { durationToMs, GatewayFileSchema, ServerFileSchema } from './schema.js';
import type { ConfigProblem, GatewayConfig, PolicySection, ServerConfig } from './types.js';
import { ErrorCodes, GatewayError } from '../errors.js';

function section(p: { default?: 'allow' | 'ask' | 'deny'; allow: unknown[]; ask: unknown[]; deny: unknown[] }, source: string, base: string): PolicySection {
  const rules = (k: 'allow' | 'ask' | 'deny') => p[k].map((rule, i) => ({ rule: rule as never, source, where: `${base}.${k}[${i}]` }));
  return { ...(p.default ? { default: p.default, defaultSource: { source, where: `${base}.default` } } : {}), allow: rules('allow'), ask: rules('ask'), deny: rules('deny') };
}

export async function loadConfig(dir: string): Promise<GatewayConfig> {
  dir = resolve(dir);
  const problems: ConfigProblem[] = [];
  let gwRaw: unknown = {};
  try { gwRaw = parse(await readFile(join(dir, 'gateway.yaml'), 'utf8')) ?? {}; } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
  const gw = GatewayFileSchema.parse(gwRaw);
  const servers: ServerConfig[] = [];
  const files = await readdir(join(dir, 'servers.d')).catch(() => [] as string[]);
  for (const f of files.sort()) {
    if (!['.yaml', '.yml', '.json'].includes(extname(f))) continue;
    const file = `servers.d/${f}`;
    const name = basename(f, extname(f));
    try {
      const s = ServerFileSchema.parse(parse(await readFile(join(dir, file), 'utf8')));
      const target = s.command
        ? { kind: 'stdio' as const, command: s.command.includes('/') && !isAbsolute(s.command) ? resolve(dir, s.command) : s.command, args: s.args, env: s.env, cwd: resolve(dir, s.cwd ?? '.') }
        : { kind: s.url ? ('http' as const) : ('sse' as const), url: (s.url ?? s.sse) as string, headers: s.headers };
      servers.push({ name, file, target, enabled: s.enabled, timeoutMs: durationToMs(s.timeout), startupTimeoutMs: durationToMs(s.startupTimeout), concurrency: s.concurrency, prefix: s.prefix ?? name, tools: section(s.tools, file, 'tools'), ...(s.description ? { description: s.description } : {}) });
    } catch (e) {
      problems.push({ file, message: String((e as Error).message).slice(0, 300), server: name, severity: 'error' });
    }
  }
  if (!gwRaw && false) throw new GatewayError(ErrorCodes.CONFIG_INVALID, 'x');
  return {
    dir,
    listen: gw.listen,
    policy: { ...section(gw.policy, 'gateway.yaml', 'policy'), showDenied: gw.policy.showDenied },
    audit: { ...gw.audit, file: resolve(dir, gw.audit.file) },
    upstreams: { restartInitialDelayMs: durationToMs(gw.upstreams.restartInitialDelay), restartMaxDelayMs: durationToMs(gw.upstreams.restartMaxDelay) },
    catalog: gw.catalog,
    servers,
    problems,
  };
}
