/**
 * Finds and loads the managed requirements file: `--requirements FILE`, else
 * `$MCPGATE_REQUIREMENTS`, else `/etc/mcpgate/requirements.yaml` if present. Same pipeline as
 * the configuration (parse with positions → zod → rule checks → normalise → freeze), but any
 * problem is fatal: the file is a security control, so a gateway never runs without it (fail closed).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { deepFreeze, fieldName, parseFile, validate } from '../config/parse.js';
import { durationToMs } from '../config/schema.js';
import { formatProblem, type ConfigProblem, type SourcedRule } from '../config/types.js';
import { ErrorCodes, GatewayError } from '../errors.js';
import { conditionIssues } from '../policy/conditions.js';
import { RequirementsFileSchema, type RequirementsFile } from './schema.js';
import type { EnvAllowance, ManagedRequirements, ServerIdentityPattern } from './types.js';

/** The system-wide requirements file, used when neither the flag nor the variable names one. */
export const SYSTEM_REQUIREMENTS_FILE = '/etc/mcpgate/requirements.yaml';

/**
 * Which requirements file applies, if any (absolute path).
 * @example requirementsFileFrom(undefined, { MCPGATE_REQUIREMENTS: 'req.yaml' }) // '/cwd/req.yaml'
 */
export function requirementsFileFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  systemFile: string = SYSTEM_REQUIREMENTS_FILE,
): string | undefined {
  const file = flag ?? (env.MCPGATE_REQUIREMENTS || undefined) ?? (existsSync(systemFile) ? systemFile : undefined);
  return file === undefined ? undefined : resolve(file);
}

/** The requirements, or every problem found in the file (then `requirements` is absent). */
export interface RequirementsReport {
  readonly file: string;
  readonly requirements?: ManagedRequirements;
  readonly problems: readonly ConfigProblem[];
}

/** Loads a requirements file, reporting problems instead of throwing (for `mcpgate check`). */
export async function loadRequirementsReport(file: string): Promise<RequirementsReport> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => error);
  if (typeof text !== 'string') {
    const why = text.code === 'ENOENT' ? 'does not exist' : `cannot be read (${text.code ?? text.message})`;
    return { file, problems: [{ file, message: `managed requirements file ${why}`, severity: 'error' }] };
  }
  const problems: ConfigProblem[] = [];
  const parsed = parseFile(file, text, problems);
  const value = parsed ? validate(parsed, RequirementsFileSchema, problems) : undefined;
  if (!parsed || !value) return { file, problems };
  value.rules.forEach((rule, index) => {
    if (!rule.tool.includes('/')) {
      problems.push({
        file,
        line: parsed.lineOf(['rules', index, 'tool']),
        field: `rules[${index}].tool`,
        message: `managed rules name "server/tool" (e.g. "*/${rule.tool}")`,
        severity: 'error',
      });
    }
    for (const [arg, condition] of Object.entries(rule.args ?? {})) {
      for (const issue of conditionIssues(arg, condition)) {
        problems.push({ file, line: parsed.lineOf(['rules', index, 'args', arg]), field: fieldName(['rules', index, 'args', arg]), ...issue });
      }
    }
  });
  value.servers?.allow.forEach((entry, index) => {
    // the server's cwd is always absolute (resolved against the config dir at load)
    if (!('cwd' in entry) || entry.cwd === undefined || entry.cwd.startsWith('*') || isAbsolute(entry.cwd)) return;
    const path = ['servers', 'allow', index, 'cwd'];
    problems.push({ file, line: parsed.lineOf(path), field: fieldName(path), message: `cwd globs match the server's absolute working directory; write an absolute path (e.g. "/opt/mcp" or "/opt/mcp/*"), not "${entry.cwd}"`, severity: 'error' });
  });
  // warnings (a path-like argument under the plain form) do not stop the gateway; errors do
  if (problems.some((p) => p.severity === 'error')) return { file, problems };
  return { file, requirements: deepFreeze({ ...normalise(file, value, parsed.lineOf), text }), problems };
}

/** Loads a requirements file; throws REQUIREMENTS_INVALID (refuse to start) on any problem. */
export async function loadRequirements(file: string): Promise<ManagedRequirements> {
  const report = await loadRequirementsReport(file);
  if (!report.requirements) {
    throw new GatewayError(
      ErrorCodes.REQUIREMENTS_INVALID,
      `managed requirements ${file} could not be loaded; refusing to start without enforcing them:\n  ${report.problems.map(formatProblem).join('\n  ')}`,
      { remedy: 'ask the administrator who owns the requirements file to fix it (`mcpgate check --requirements FILE` lists every problem)' },
    );
  }
  return report.requirements;
}

/** `env: [NAME, …]` (any value) or `env: { NAME: VALUE_GLOB }`, as one list. */
function envAllowances(env: readonly string[] | Readonly<Record<string, string>>): EnvAllowance[] {
  return Array.isArray(env) ? env.map((name) => ({ name })) : Object.entries(env).map(([name, value]) => ({ name, value }));
}

function normalise(file: string, value: RequirementsFile, lineOf: (path: (string | number)[]) => number | undefined): Omit<ManagedRequirements, 'text'> {
  const ask: SourcedRule[] = [];
  const deny: SourcedRule[] = [];
  value.rules.forEach((rule, index) => {
    const line = lineOf(['rules', index]);
    const sourced: SourcedRule = {
      rule: { tool: rule.tool, ...(rule.args ? { args: rule.args } : {}), ...(rule.reason ? { reason: rule.reason } : {}) },
      source: file,
      where: `rules[${index}]`,
      ...(line === undefined ? {} : { line }),
    };
    (rule.decision === 'deny' ? deny : ask).push(sourced);
  });
  const servers = value.servers?.allow.map((entry, index): ServerIdentityPattern => {
    const where = `servers.allow[${index}]`;
    return 'url' in entry
      ? { kind: 'remote', url: entry.url, where }
      : {
          kind: 'stdio',
          command: entry.command,
          ...(entry.args ? { args: entry.args } : {}),
          ...(entry.cwd === undefined ? {} : { cwd: entry.cwd }),
          ...(entry.env === undefined ? {} : { env: envAllowances(entry.env) }),
          where,
        };
  });
  const { approval, audit, network, sandbox } = value;
  const content = value.resources || value.prompts ? { resources: value.resources?.deny ?? [], prompts: value.prompts?.deny ?? [] } : undefined;
  const sourced = (list: readonly string[], where: string): SourcedRule[] =>
    list.map((rule, index) => {
      const line = lineOf(['network', where, index]);
      return { rule, source: file, where: `network.${where}[${index}]`, ...(line === undefined ? {} : { line }) };
    });
  return {
    file,
    rules: { allow: [], ask, deny },
    ...(content ? { content } : {}),
    network: { deny: sourced(network.deny, 'deny'), ...(network.allowOnly ? { allowOnly: sourced(network.allowOnly, 'allowOnly') } : {}) },
    ...(servers ? { servers } : {}),
    approval: {
      ...(approval.minTimeout === undefined ? {} : { minTimeoutMs: durationToMs(approval.minTimeout) }),
      ...(approval.allowAlways === undefined ? {} : { allowAlways: approval.allowAlways }),
      ...(approval.channel === undefined ? {} : { channel: approval.channel }),
    },
    sandbox: {
      ...(sandbox.mode === undefined ? {} : { mode: sandbox.mode }),
      ...(sandbox.denyRead === undefined ? {} : { denyRead: sandbox.denyRead }),
    },
    audit: {
      ...(audit.file === undefined ? {} : { file: resolve(dirname(file), audit.file) }),
      ...(audit.arguments === undefined ? {} : { arguments: audit.arguments }),
      ...(audit.maxArgumentBytes === undefined ? {} : { maxArgumentBytes: audit.maxArgumentBytes }),
      ...(audit.fsync === undefined ? {} : { fsync: audit.fsync }),
    },
  };
}
