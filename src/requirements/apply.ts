/**
 * `applyRequirements(config, requirements)`: the one place where the managed layer constrains a
 * loaded configuration. Pure: returns a new frozen config in which
 * - servers whose identity is not on the managed allow-list are left out (a problem says why),
 * - the approval settings stand on the managed floor (approvalFloor.ts: minimum timeout, no
 *   persisted "always", who may answer an ask),
 * - forced audit settings replace the user's,
 * - every stdio server's sandbox mode is at least the managed one and its denyRead holds the managed paths,
 * - `requirements` carries the managed rules for the policy (see policy/managed.ts),
 * - user network allow rules outside `network.allowOnly` are left out (requirements/network.ts),
 * and warnings name every user setting or rule the managed layer overrides (`mcpgate check`).
 */
import { deepFreeze } from '../config/parse.js';
import { withRequirementsDigest } from '../config/digest.js';
import type { ConfigProblem, GatewayConfig, PolicySection, ServerConfig, SourcedRule } from '../config/types.js';
import { compileGlob } from '../policy/glob.js';
import { applyApprovalFloor } from './approvalFloor.js';
import { checkIdentity, identityOf } from './identity.js';
import { applyNetworkRequirements } from './network.js';
import type { ManagedRequirements } from './types.js';

/** The configuration with the managed layer applied (the config itself when there is none). */
export function applyRequirements(config: GatewayConfig, requirements: ManagedRequirements | undefined): GatewayConfig {
  if (!requirements) return config;
  const problems: ConfigProblem[] = [...config.problems];
  const admittedServers = config.servers.filter((server) => admitted(server, requirements, problems)).map((server) => withManagedSandbox(server, requirements, problems));
  const floor = applyApprovalFloor(config, admittedServers, requirements);
  problems.push(...floor.problems);
  const { servers } = floor;
  const { audit } = requirements;
  const forcedAudit = { ...config.audit, ...audit };
  for (const key of ['file', 'arguments', 'maxArgumentBytes', 'fsync'] as const) {
    if (audit[key] !== undefined && audit[key] !== config.audit[key]) {
      problems.push(warning('gateway.yaml', `audit.${key}`, `forced to ${String(audit[key])} by managed requirements (${requirements.file} audit.${key}); the user setting ${String(config.audit[key])} is ignored`));
    }
  }
  for (const server of servers) problems.push(...ruleOverrides(server.tools, server.file, server.name, requirements));
  problems.push(...ruleOverrides(config.policy, 'gateway.yaml', undefined, requirements));
  const network = applyNetworkRequirements(servers, config.network, requirements);
  problems.push(...network.problems);
  return deepFreeze({
    ...config,
    servers: network.servers,
    network: network.global,
    approval: floor.approval,
    audit: forcedAudit,
    requirements,
    problems,
    digest: withRequirementsDigest(config.digest, requirements.text),
  });
}

function admitted(server: ServerConfig, requirements: ManagedRequirements, problems: ConfigProblem[]): boolean {
  if (!requirements.servers) return true;
  const checks = requirements.servers.map((pattern) => checkIdentity(server, pattern));
  if (checks.some((check) => check.matches)) return true;
  const base = { file: server.file, server: server.name, severity: 'error' as const };
  const near = checks.find((check) => !check.matches && check.reason);
  if (near && !near.matches && near.reason) {
    const line = near.part === undefined ? undefined : server.lines?.[near.part];
    problems.push({
      ...base,
      ...(line === undefined ? {} : { line }),
      ...(near.part ? { field: near.part } : {}),
      message: `server "${server.name}" refused: ${near.reason}; its identity (${identityOf(server)}) is not on the managed allow-list in ${requirements.file} (servers.allow); ${remedy(near.part)}`,
    });
    return false;
  }
  problems.push({
    ...base,
    message: `server "${server.name}" refused: its identity (${identityOf(server)}) is not on the managed allow-list in ${requirements.file} (servers.allow); ask the administrator to allow this command or URL`,
  });
  return false;
}

function remedy(part: string | undefined): string {
  if (part === 'url' || part === 'sse') return 'write the URL without it, or ask the administrator';
  if (part?.startsWith('env.')) return "remove those variables from env, or ask the administrator to name them in the entry's env";
  return 'use an absolute path or a cwd the allow-list accepts, or ask the administrator';
}

const MODE_RANK = { off: 0, auto: 1, required: 2 } as const;

/** The server with the managed sandbox floor applied: a stricter mode, the managed denyRead paths added. */
function withManagedSandbox(server: ServerConfig, requirements: ManagedRequirements, problems: ConfigProblem[]): ServerConfig {
  const managed = requirements.sandbox;
  const sandbox = server.sandbox;
  if (!sandbox || !managed || (managed.mode === undefined && !managed.denyRead?.length)) return server;
  const raise = managed.mode !== undefined && MODE_RANK[managed.mode] > MODE_RANK[sandbox.mode];
  if (raise) {
    problems.push({ ...warning(server.file, 'sandbox.mode', `${sandbox.mode} (${sandbox.modeSource}) raised to ${managed.mode} by managed requirements (${requirements.file} sandbox.mode)`), server: server.name });
  }
  return {
    ...server,
    sandbox: {
      ...sandbox,
      ...(raise && managed.mode ? { mode: managed.mode, modeSource: `managed: ${requirements.file} sandbox.mode` } : {}),
      denyRead: [...new Set([...sandbox.denyRead, ...(managed.denyRead ?? [])])],
    },
  };
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
