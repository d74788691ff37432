/**
 * What a configuration reload changes, decided without I/O: which servers keep their last good
 * version (their file no longer loads), and which are added, removed, restarted (a field that
 * shapes the process changed) or only reconfigured (policy and the like: same process).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { deepFreeze } from '../config/parse.js';
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

/** A comparable summary of a configuration: hashes only, no values (the admin endpoint serves it to `mcpgate check`). */
export const ConfigPrintSchema = z.object({
  digest: z.string(),
  rules: z.string(),
  network: z.string(),
  startOnly: z.record(z.string(), z.string()),
  /** Enabled servers: the hash of what makes their process, and of all their settings. */
  servers: z.record(z.string(), z.object({ process: z.string(), settings: z.string() })),
});

/** See {@link ConfigPrintSchema}. */
export type ConfigPrint = z.infer<typeof ConfigPrintSchema>;

/** What a reload from one configuration to another does. */
export interface ReloadPreview {
  readonly changes: ServerChanges;
  readonly rulesChanged: boolean;
  /** gateway.yaml fields that changed but take effect at the next start only. */
  readonly restartNeeded: readonly string[];
}

/** The print of a configuration (pure). */
export function printOf(config: GatewayConfig): ConfigPrint {
  const servers: Record<string, { process: string; settings: string }> = {};
  for (const server of config.servers) if (server.enabled) servers[server.name] = { process: hash(processFields(server)), settings: hash(server) };
  const startOnly: Record<string, string> = {};
  for (const key of START_ONLY) startOnly[key] = hash(config[key]);
  for (const key of ['sessionScope', 'rulesFile', 'adminDir', 'autoReview'] as const) startOnly[`approval.${key}`] = hash(config.approval[key]);
  startOnly['network limits'] = hash([config.network.maxConnections, config.network.idleTimeoutMs, config.network.connectTimeoutMs]);
  return { digest: config.digest, rules: hash(rulesOf(config)), network: hash(networkRules(config)), startOnly, servers };
}

/**
 * What reloading from `before` to `after` does; servers named in `kept` (their file is broken: the
 * reload keeps their last good version) are not removed.
 * @example comparePrints(printOf(before), printOf(after)).changes.restarted // ['github'] after its `command` changed
 */
export function comparePrints(before: ConfigPrint, after: ConfigPrint, kept: readonly string[] = []): ReloadPreview {
  const added: string[] = [];
  const removed: string[] = [];
  const restarted: string[] = [];
  const reconfigured: string[] = [];
  // gateway.yaml network rules judge every server's egress: a connection opened under the old ones must not outlive them
  const networkChanged = before.network !== after.network;
  for (const [name, server] of Object.entries(after.servers).sort(byName)) {
    const was = before.servers[name];
    if (!was) added.push(name);
    else if (networkChanged || was.process !== server.process) restarted.push(name);
    else if (was.settings !== server.settings) reconfigured.push(name);
  }
  for (const name of Object.keys(before.servers).sort()) if (!(name in after.servers) && !kept.includes(name)) removed.push(name);
  const restartNeeded = Object.keys(after.startOnly).filter((key) => before.startOnly[key] !== after.startOnly[key]);
  return { changes: { added, removed, restarted, reconfigured }, rulesChanged: before.rules !== after.rules, restartNeeded };
}

/** The servers added, removed, restarted and reconfigured between two effective configurations (a disabled server counts as absent). */
export function diffServers(before: GatewayConfig, after: GatewayConfig): ServerChanges {
  return comparePrints(printOf(before), printOf(after)).changes;
}

/** True when the rules that decide calls changed: gateway.yaml policy, approval, clients, a server's policy, the managed layer. */
export function rulesChanged(before: GatewayConfig, after: GatewayConfig): boolean {
  return printOf(before).rules !== printOf(after).rules;
}

/**
 * The gateway.yaml fields that changed but only take effect at the next start.
 * @example startOnlyChanges(before, after) // ['listen', 'approval.autoReview']
 */
export function startOnlyChanges(before: GatewayConfig, after: GatewayConfig): string[] {
  return [...comparePrints(printOf(before), printOf(after)).restartNeeded];
}

/** gateway.yaml settings a reload does not apply (they hold sockets, files and keys opened at start). */
const START_ONLY = ['listen', 'http', 'auth', 'audit', 'telemetry', 'upstreams', 'reload'] as const;

function byName([a]: [string, unknown], [b]: [string, unknown]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value) ?? 'undefined').digest('hex').slice(0, 16);
}

/**
 * What the upstream process (or remote connection) is made from: a change here needs a new one.
 * Everything else (policy, prefix, timeout, description, approval channel…) is read per request.
 */
function processFields(server: ServerConfig): unknown {
  const { target, startupTimeoutMs, concurrency, maxMessageBytes, sandbox, network, isolation, protocol } = server;
  return { target, startupTimeoutMs, concurrency, maxMessageBytes, sandbox: sandbox && { ...sandbox, modeSource: undefined }, network: network && withoutLines(network), isolation, protocol };
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

