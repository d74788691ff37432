/**
 * What a configuration reload changes, decided without I/O: which servers keep their last good
 * version (their file no longer loads), and which are added, removed, restarted (a field that
 * shapes the process changed) or only reconfigured (policy and the like: same process).
 */
import { deepFreeze } from '../config/load.js';
import type { ConfigProblem, GatewayConfig, ServerConfig } from '../config/types.js';

/** The servers a reload touches, by name. */
export interface ServerChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Process-affecting fields changed: a new process replaces the old one. */
  readonly restarted: readonly string[];
  /** Only fields the running process does not depend on changed (policy, prefix, timeout…): same process. */
  readonly reconfigured: readonly string[];
}

/** A loaded configuration with broken servers.d files replaced by what was running. */
export interface LastGood {
  readonly config: GatewayConfig;
  /** Servers whose file no longer loads (kept at their last good version when there was one). */
  readonly failed: readonly string[];
  /** The problems that made them fail (file:line: field: message). */
  readonly problems: readonly ConfigProblem[];
}

/**
 * Replaces each server whose servers.d file no longer loads by its previous version, if it had
 * one; a new server whose file is broken is not added. Both configs are as loaded (before the
 * managed requirements, which the caller applies after: a kept server must still pass them).
 * @example keepLastGood(previous, loaded).failed // ['github'] while servers.d/github.yaml is broken
 */
export function keepLastGood(previous: GatewayConfig, loaded: GatewayConfig): LastGood {
  const problems = loaded.problems.filter((problem) => problem.server !== undefined && problem.severity === 'error');
  const failed = [...new Set(problems.map((problem) => problem.server as string))].sort();
  const kept = failed.flatMap((name) => previous.servers.filter((server) => server.name === name));
  if (kept.length === 0) return { config: loaded, failed, problems };
  const servers = [...loaded.servers, ...kept].sort((a, b) => a.name.localeCompare(b.name));
  return { config: deepFreeze({ ...loaded, servers }), failed, problems };
}

/**
 * The servers added, removed, restarted and reconfigured between two effective configurations
 * (a disabled server counts as absent).
 * @example diffServers(before, after).restarted // ['github'] after its `command` changed
 */
export function diffServers(before: GatewayConfig, after: GatewayConfig): ServerChanges {
  const old = enabled(before);
  const next = enabled(after);
  const added: string[] = [];
  const removed: string[] = [];
  const restarted: string[] = [];
  const reconfigured: string[] = [];
  const globalNetworkChanged = JSON.stringify(networkRules(before)) !== JSON.stringify(networkRules(after));
  for (const [name, server] of next) {
    const was = old.get(name);
    if (!was) added.push(name);
    else if (globalNetworkChanged || JSON.stringify(processFields(was)) !== JSON.stringify(processFields(server))) restarted.push(name);
    else if (JSON.stringify(was) !== JSON.stringify(server)) reconfigured.push(name);
  }
  for (const name of old.keys()) if (!next.has(name)) removed.push(name);
  return { added, removed, restarted, reconfigured };
}

/** True when the rules that decide calls changed: gateway.yaml policy, approval, clients, a server's policy, the managed layer. */
export function rulesChanged(before: GatewayConfig, after: GatewayConfig): boolean {
  return JSON.stringify(rulesOf(before)) !== JSON.stringify(rulesOf(after));
}

/** Nothing to do: no server changes. */
export function noServerChanges(changes: ServerChanges): boolean {
  return changes.added.length + changes.removed.length + changes.restarted.length + changes.reconfigured.length === 0;
}

function enabled(config: GatewayConfig): Map<string, ServerConfig> {
  return new Map(config.servers.filter((server) => server.enabled).map((server) => [server.name, server]));
}

/**
 * What the upstream process (or remote connection) is made from: a change here needs a new one.
 * Everything else (policy, prefix, timeout, description, approval channel…) is read per request.
 */
function processFields(server: ServerConfig): unknown {
  const { target, startupTimeoutMs, concurrency, maxMessageBytes, sandbox, network } = server;
  return { target, startupTimeoutMs, concurrency, maxMessageBytes, sandbox: sandbox && { ...sandbox, modeSource: undefined }, network: network && withoutLines(network) };
}

function networkRules(config: GatewayConfig): unknown {
  const { allow, ask, deny } = config.network;
  return withoutLines({ allow, ask, deny, default: config.network.default });
}

function rulesOf(config: GatewayConfig): unknown {
  return {
    policy: withoutLines(config.policy),
    approval: config.approval,
    clients: config.clients,
    requirements: config.requirements?.text,
    servers: config.servers.map((server) => [server.name, withoutLines(server.tools), server.resources, server.prompts, server.approvalChannel]),
  };
}

/** A policy section compared by its rules, not by the lines they sit on. */
function withoutLines<T>(section: T): unknown {
  return JSON.parse(JSON.stringify(section, (key, value: unknown) => (key === 'line' ? undefined : value)));
}

/** gateway.yaml settings a reload does not apply (they hold sockets, files and keys opened at start). */
const START_ONLY = ['listen', 'http', 'auth', 'audit', 'telemetry', 'upstreams', 'reload'] as const;

/**
 * The gateway.yaml fields that changed but only take effect at the next start.
 * @example startOnlyChanges(before, after) // ['listen', 'approval.autoReview']
 */
export function startOnlyChanges(before: GatewayConfig, after: GatewayConfig): string[] {
  const changed: string[] = START_ONLY.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
  for (const key of ['sessionScope', 'rulesFile', 'adminDir', 'autoReview'] as const) {
    if (JSON.stringify(before.approval[key]) !== JSON.stringify(after.approval[key])) changed.push(`approval.${key}`);
  }
  const limits = (config: GatewayConfig) => [config.network.maxConnections, config.network.idleTimeoutMs, config.network.connectTimeoutMs];
  if (JSON.stringify(limits(before)) !== JSON.stringify(limits(after))) changed.push('network limits');
  return changed;
}
