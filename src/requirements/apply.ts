/**
 * `applyRequirements(config, requirements)`: the one place where the managed layer constrains a
 * loaded configuration. Pure: returns a new frozen config in which
 * - servers whose identity is not on the managed allow-list are left out (a problem says why),
 * - `approval.timeoutMs` is at least the managed minimum and `approval.allowAlways` is false when
 *   the requirements forbid persisting "always" approvals,
 * - forced audit settings replace the user's,
 * - `requirements` carries the managed rules for the policy (see policy/managed.ts),
 * and warnings name every user setting or rule the managed layer overrides (`mcpgate check`).
 */
import { deepFreeze } from '../config/load.js';
import { withRequirementsDigest } from '../config/digest.js';
import type { ConfigProblem, GatewayConfig, PolicySection, ServerConfig, SourcedRule } from '../config/types.js';
import { compileGlob } from '../policy/glob.js';
import { checkIdentity, execEnvKeys, identityOf, matchIdentity } from './identity.js';
import type { ManagedRequirements } from './types.js';

/** The configuration with the managed layer applied (the config itself when there is none). */
export function applyRequirements(config: GatewayConfig, requirements: ManagedRequirements | undefined): GatewayConfig {
  if (!requirements) return config;
  const problems: ConfigProblem[] = [...config.problems];
  const servers = config.servers.filter((server) => admitted(server, requirements, problems));
  const { approval, audit } = requirements;
  const timeoutMs = Math.max(config.approval.timeoutMs, approval.minTimeoutMs ?? 0);
  if (timeoutMs !== config.approval.timeoutMs) {
    problems.push(warning('gateway.yaml', 'approval.timeout', `${config.approval.timeoutMs} ms raised to the managed minimum ${timeoutMs} ms (${requirements.file} approval.minTimeout)`));
  }
  const forcedAudit = { ...config.audit, ...audit };
  for (const key of ['file', 'arguments', 'maxArgumentBytes', 'fsync'] as const) {
    if (audit[key] !== undefined && audit[key] !== config.audit[key]) {
      problems.push(warning('gateway.yaml', `audit.${key}`, `forced to ${String(audit[key])} by managed requirements (${requirements.file} audit.${key}); the user setting ${String(config.audit[key])} is ignored`));
    }
  }
  for (const server of servers) problems.push(...ruleOverrides(server.tools, server.file, server.name, requirements));
  problems.push(...ruleOverrides(config.policy, 'gateway.yaml', undefined, requirements));
  return deepFreeze({
    ...config,
    servers,
    approval: { ...config.approval, timeoutMs, allowAlways: config.approval.allowAlways && approval.allowAlways !== false },
    audit: forcedAudit,
    requirements,
    problems,
    digest: withRequirementsDigest(config.digest, requirements.text),
  });
}

function admitted(server: ServerConfig, requirements: ManagedRequirements, problems: ConfigProblem[]): boolean {
  if (!requirements.servers) return true;
  const hijack = execEnvKeys(server);
  if (hijack.length > 0) {
    problems.push({
      file: server.file,
      server: server.name,
      field: `env.${hijack[0]}`,
      severity: 'error',
      message: `server "${server.name}" refused: its env sets ${hijack.join(', ')}, which changes what the allow-listed command runs (managed allow-list in ${requirements.file}, servers.allow); remove ${hijack.length === 1 ? 'it' : 'them'} or ask the administrator`,
    });
    return false;
  }
  if (matchIdentity(server, requirements.servers)) return true;
  const near = requirements.servers.map((pattern) => checkIdentity(server, pattern)).find((check) => !check.matches && check.reason);
  if (near && !near.matches && near.reason) {
    problems.push({
      file: server.file,
      server: server.name,
      ...(near.part ? { field: near.part } : {}),
      severity: 'error',
      message: `server "${server.name}" refused: ${near.reason}; its identity (${identityOf(server)}) is not on the managed allow-list in ${requirements.file} (servers.allow); ${near.part === 'url' || near.part === 'sse' ? 'write the URL without it' : 'use an absolute path or a cwd the allow-list accepts'}, or ask the administrator`,
    });
    return false;
  }
  problems.push({
    file: server.file,
    server: server.name,
    severity: 'error',
    message: `server "${server.name}" refused: its identity (${identityOf(server)}) is not on the managed allow-list in ${requirements.file} (servers.allow); ask the administrator to allow this command or URL`,
  });
  return false;
}

function warning(file: string, field: string, message: string): ConfigProblem {
  return { file, field, message, severity: 'warning' };
}

/**
 * User allow rules (and allow defaults) that a managed ask/deny rule can override, and user ask
 * rules a managed deny can. Globs can only be compared approximately: two patterns overlap when
 * either matches the other's text, which catches the usual cases (`delete_*` vs `delete_note`).
 * `mcpgate tools` shows the exact per-tool outcome.
 */
function ruleOverrides(section: PolicySection, file: string, server: string | undefined, requirements: ManagedRequirements): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const managed = [
    ...requirements.rules.deny.map((rule) => ({ rule, kind: 'deny' as const })),
    ...requirements.rules.ask.map((rule) => ({ rule, kind: 'ask' as const })),
  ];
  for (const { rule: mRule, kind } of managed) {
    const [mServer, mTool] = splitPattern(patternOf(mRule));
    const serverOverlaps = (name: string) => overlaps(mServer, name);
    const named = `managed: ${mRule.source} ${mRule.where} (${patternOf(mRule)}: ${kind})`;
    const candidates: { rule: SourcedRule; kind: 'allow' | 'ask' }[] = [
      ...section.allow.map((rule) => ({ rule, kind: 'allow' as const })),
      ...(kind === 'deny' ? section.ask.map((rule) => ({ rule, kind: 'ask' as const })) : []),
    ];
    for (const candidate of candidates) {
      const text = patternOf(candidate.rule);
      const [uServer, uTool] = server === undefined ? splitPattern(text) : [server, text];
      if (!serverOverlaps(uServer) || !overlaps(mTool, uTool)) continue;
      out.push({
        file,
        ...(candidate.rule.line === undefined ? {} : { line: candidate.rule.line }),
        field: candidate.rule.where,
        message: `${named} overrides this ${candidate.kind} rule (${text}) for the tools both name`,
        severity: 'warning',
      });
    }
    if (section.default === 'allow' && (server === undefined || serverOverlaps(server))) {
      out.push({ file, field: section.defaultSource?.where ?? 'default', message: `${named} overrides this allow default for the tools it names`, severity: 'warning' });
    }
  }
  return out;
}

function patternOf(rule: SourcedRule): string {
  return typeof rule.rule === 'string' ? rule.rule : rule.rule.tool;
}

function splitPattern(pattern: string): [string, string] {
  const slash = pattern.indexOf('/');
  return slash < 0 ? ['*', pattern] : [pattern.slice(0, slash), pattern.slice(slash + 1)];
}

function overlaps(a: string, b: string): boolean {
  return compileGlob(a)(b) || compileGlob(b)(a);
}
