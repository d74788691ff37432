/**
 * Loads a configuration directory: parse (YAML, or JSON as YAML) → validate (zod) → check
 * (references, rule patterns, global rule form) → normalise → freeze. Every problem names file,
 * line and field. A broken servers.d file leaves only that server out; a broken gateway.yaml
 * stops the gateway (its global policy must never be silently ignored).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { ErrorCodes, GatewayError } from '../errors.js';
import { conditionIssues } from '../policy/conditions.js';

import { checkAuthReferences, normaliseIdentity } from './identity.js';
import { configDigest, type ConfigSource } from './digest.js';
import { GATEWAY_FILES, misplacedServers, SERVER_EXTENSIONS, stateDefaults } from './locations.js';
import { findReferences } from './references.js';
import { deepFreeze, fieldName, parseFile, validate, type ParsedFile, type Path } from './parse.js';
import {
  durationToMs,
  GatewayFileSchema,
  SERVER_NAME_PATTERN,
  ServerFileSchema,
  type GatewayFile,
  type RuleInput,
  type SandboxInput,
  type ServerFile,
  type TelemetryInput,
  type ToolPolicyInput,
} from './schema.js';
import { formatProblem, type ConfigProblem, type GatewayConfig, type PolicySection, type SandboxConfig, type ServerConfig, type SourcedRule, type TelemetryConfig } from './types.js';


/** Everything found in a directory, with problems instead of exceptions (for `mcpgate check`). */
export interface ConfigReport {
  readonly config?: GatewayConfig;
  readonly problems: readonly ConfigProblem[];
}

/** Loads and validates a directory; throws CONFIG_INVALID when gateway.yaml is broken or the directory holds server files in the wrong place. */
export async function loadConfig(dir: string): Promise<GatewayConfig> {
  const report = await loadConfigReport(dir);
  // A broken gateway.yaml, or a directory that is not a configuration directory at all.
  if (!report.config || report.problems.some((p) => p.server === undefined && p.severity === 'error')) {
    const lines = report.problems.filter((p) => p.server === undefined && p.severity === 'error').map(formatProblem);
    throw new GatewayError(ErrorCodes.CONFIG_INVALID, `invalid configuration:\n  ${lines.join('\n  ')}`, {
      remedy: 'fix the fields named above; `mcpgate check` lists every problem',
    });
  }
  return report.config;
}

/** Loads a directory, reporting every problem; `config` is absent only if gateway.yaml is broken. */
export async function loadConfigReport(dir: string): Promise<ConfigReport> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new GatewayError(ErrorCodes.CONFIG_NOT_FOUND, `configuration directory ${root} ${info ? 'is a file, not a directory' : 'does not exist'}`, {
      remedy: `pass --config DIR (or set MCPGATE_CONFIG) naming the directory that holds gateway.yaml and servers.d/${info ? `, e.g. --config ${dirname(root)}` : ''}`,
    });
  }
  const problems: ConfigProblem[] = [];
  const misplaced = await misplacedServers(root);
  if (misplaced) problems.push(misplaced);
  const sources: ConfigSource[] = [];
  const gateway = await loadGatewayFile(root, problems, sources);
  const servers = await loadServers(root, problems, sources, gateway?.value.sandbox);
  if (!misplaced && servers.length === 0 && !problems.some((p) => p.server !== undefined)) {
    problems.push({ file: 'servers.d/', message: `no servers configured in ${join(root, 'servers.d')}: the gateway would offer no tools (add one file per upstream server, docs/configuration.md)`, severity: 'warning' });
  }
  if (!gateway) return { problems };
  return { config: deepFreeze({ ...normaliseGateway(root, gateway.value, gateway.parsed, servers, problems), digest: configDigest(sources) }), problems };
}

async function loadGatewayFile(root: string, problems: ConfigProblem[], sources: ConfigSource[]): Promise<{ value: GatewayFile; parsed?: ParsedFile } | undefined> {
  for (const name of GATEWAY_FILES) {
    const text = await readFile(join(root, name), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    sources.push({ path: name, text });
    const parsed = parseFile(name, text, problems);
    if (!parsed) return undefined;
    const value = validate(parsed, GatewayFileSchema, problems);
    if (!value) return undefined;
    const before = problems.length;
    checkRules(parsed, value.policy, ['policy'], true, problems);
    value.clients.forEach((entry, index) => checkRules(parsed, entry, ['clients', index], true, problems));
    checkAuthReferences(parsed, value, problems);
    return problems.slice(before).some((p) => p.severity === 'error') ? undefined : { value, parsed };
  }
  return { value: GatewayFileSchema.parse({}) };
}

async function loadServers(root: string, problems: ConfigProblem[], sources: ConfigSource[], sandboxDefault: SandboxInput | undefined): Promise<ServerConfig[]> {
  const entries = await readdir(join(root, 'servers.d')).catch(() => [] as string[]);
  const servers: ServerConfig[] = [];
  const seen = new Map<string, string>();
  for (const entry of entries.sort()) {
    const extension = extname(entry);
    if (!SERVER_EXTENSIONS.includes(extension)) continue;
    const file = `servers.d/${entry}`;
    const name = basename(entry, extension);
    const local: ConfigProblem[] = [];
    if (!SERVER_NAME_PATTERN.test(name)) {
      local.push({ file, message: `server name "${name}" (the file name) must match [a-z0-9][a-z0-9_-]*`, severity: 'error' });
    } else if (seen.has(name)) {
      local.push({ file, message: `server "${name}" is already defined by ${seen.get(name)}`, severity: 'error' });
    }
    const text = await readFile(join(root, file), 'utf8');
    sources.push({ path: file, text });
    const parsed = parseFile(file, text, local);
    const value = parsed ? validate(parsed, ServerFileSchema, local) : undefined;
    if (parsed && value) {
      checkRules(parsed, value.tools, ['tools'], false, local);
      checkReferences(parsed, value, local);
    }
    if (!seen.has(name)) seen.set(name, file);
    if (local.some((p) => p.severity === 'error') || !value) {
      problems.push(...local.map((p) => ({ ...p, server: name })));
      continue;
    }
    problems.push(...local); // warnings: the server still serves
    servers.push(normaliseServer(root, name, file, value, parsed as ParsedFile, sandboxDefault));
  }
  return servers;
}

/** Rule checks zod cannot express: global rules name `server/tool`; arg patterns must compile. */
function checkRules(parsed: ParsedFile, policy: ToolPolicyInput, base: Path, global: boolean, problems: ConfigProblem[]): void {
  for (const kind of ['allow', 'ask', 'deny'] as const) {
    policy[kind].forEach((rule, index) => {
      const path = [...base, kind, index];
      const tool = typeof rule === 'string' ? rule : rule.tool;
      if (global && !tool.includes('/')) {
        problems.push({
          file: parsed.file,
          line: parsed.lineOf(path),
          field: fieldName(typeof rule === 'string' ? path : [...path, 'tool']),
          message: `global rules name "server/tool" (e.g. "*/${tool}" or "github/${tool}")`,
          severity: 'error',
        });
      }
      if (typeof rule !== 'string') {
        for (const [arg, condition] of Object.entries(rule.args ?? {})) {
          for (const issue of conditionIssues(arg, condition)) {
            problems.push({ file: parsed.file, line: parsed.lineOf([...path, 'args', arg]), field: fieldName([...path, 'args', arg]), ...issue });
          }
        }
      }
    });
  }
}

/** Reference syntax in env, headers, args, url/sse is checked at load time. */
function checkReferences(parsed: ParsedFile, server: ServerFile, problems: ConfigProblem[]): void {
  const check = (value: string, path: Path) => {
    try {
      findReferences(value);
    } catch (error) {
      problems.push({ file: parsed.file, line: parsed.lineOf(path), field: fieldName(path), message: (error as Error).message, severity: 'error' });
    }
  };
  for (const [key, value] of Object.entries(server.env)) check(value, ['env', key]);
  for (const [key, value] of Object.entries(server.headers)) check(value, ['headers', key]);
  server.args.forEach((value, index) => check(value, ['args', index]));
  server.args.forEach((value, index) => {
    // argv is readable by every local user (ps, /proc/PID/cmdline), unlike the environment
    const secret = safeReferences(value).find((ref) => ref.kind === 'secret');
    if (secret) {
      const path = ['args', index];
      problems.push({ file: parsed.file, line: parsed.lineOf(path), field: fieldName(path), message: `\${secret:${secret.name}} puts the value on the upstream's command line, which other local users can read (ps, /proc/PID/cmdline); pass it in env instead if the server can read it from there`, severity: 'warning' });
    }
  });
  if (server.url) check(server.url, ['url']);
  if (server.sse) check(server.sse, ['sse']);
}

function safeReferences(value: string): ReturnType<typeof findReferences> {
  try {
    return findReferences(value);
  } catch {
    return []; // reported as an error above
  }
}

function normaliseServer(root: string, name: string, file: string, value: ServerFile, parsed: ParsedFile, sandboxDefault: SandboxInput | undefined): ServerConfig {
  const target: ServerConfig['target'] = value.command
    ? {
        kind: 'stdio',
        command: value.command.includes('/') && !isAbsolute(value.command) ? resolve(root, value.command) : value.command,
        args: value.args,
        env: value.env,
        cwd: resolve(root, value.cwd ?? '.'),
      }
    : value.url
      ? { kind: 'http', url: value.url, headers: value.headers }
      : { kind: 'sse', url: value.sse as string, headers: value.headers };
  return {
    name,
    file,
    ...(value.description ? { description: value.description } : {}),
    target,
    enabled: value.enabled,
    timeoutMs: durationToMs(value.timeout),
    startupTimeoutMs: durationToMs(value.startupTimeout),
    concurrency: value.concurrency,
    maxMessageBytes: value.maxMessageBytes,
    prefix: value.prefix ?? name,
    tools: policySection(value.tools, file, ['tools'], parsed),
    ...(value.approval?.channel ? { approvalChannel: value.approval.channel } : {}),
    trustAnnotations: value.trustAnnotations,
    validateArguments: value.validateArguments,
    ...(value.resources ? { resources: value.resources } : {}),
    ...(value.prompts ? { prompts: value.prompts } : {}),
    ...(value.network ? { network: policySection(value.network, file, ['network'], parsed) } : {}),
    ...(value.protocol !== 'auto' ? { protocol: value.protocol } : {}),
    lines: targetLines(value, parsed),
    ...(target.kind === 'stdio' ? { sandbox: sandboxSection(value.sandbox, sandboxDefault, file) } : {}),
    ...(value.isolation === 'session' ? { isolation: { idleTimeoutMs: durationToMs(value.idleTimeout), maxInstances: value.maxInstances } } : {}),
  };
}

/** gateway.yaml's `sandbox` under the server's, per field: mode and allowWrite are overridden, denyRead lists add up. */
function sandboxSection(own: SandboxInput | undefined, defaults: SandboxInput | undefined, file: string): SandboxConfig {
  const mode = own?.mode ?? defaults?.mode ?? 'auto';
  const modeSource = own?.mode ? `${file} sandbox.mode` : defaults?.mode ? 'gateway.yaml sandbox.mode' : 'default';
  return {
    mode,
    modeSource,
    denyRead: [...new Set([...(defaults?.filesystem?.denyRead ?? []), ...(own?.filesystem?.denyRead ?? [])])],
    allowWrite: own?.filesystem?.allowWrite ?? defaults?.filesystem?.allowWrite ?? [],
  };
}

/** Where each field of the target is written, so a refusal can name `file:line`. */
function targetLines(value: ServerFile, parsed: ParsedFile): Record<string, number> {
  const written = (['command', 'cwd', 'url', 'sse'] as const).filter((key) => value[key] !== undefined).map((key) => [key]);
  const paths: Path[] = [...written, ...value.args.map((_, index) => ['args', index]), ...Object.keys(value.env).map((key) => ['env', key])];
  const lines: Record<string, number> = {};
  for (const path of paths) {
    const line = parsed.lineOf(path);
    if (line !== undefined) lines[fieldName(path)] = line;
  }
  return lines;
}

function normaliseGateway(root: string, value: GatewayFile, parsed: ParsedFile | undefined, servers: ServerConfig[], problems: ConfigProblem[]): Omit<GatewayConfig, 'digest'> {
  const state = stateDefaults(root, parsed?.value, process.env);
  const audit = state.auditFile ? { ...value.audit, file: state.auditFile } : value.audit;
  const approval = state.rulesFile ? { ...value.approval, rulesFile: state.rulesFile } : value.approval;
  value = { ...value, audit, approval };
  return {
    dir: root,
    listen: value.listen,
    policy: { ...policySection(value.policy, parsed?.file ?? 'gateway.yaml', ['policy'], parsed), showDenied: value.policy.showDenied },
    audit: auditSettings(root, value.audit),
    upstreams: {
      restartInitialDelayMs: durationToMs(value.upstreams.restartInitialDelay),
      restartMaxDelayMs: durationToMs(value.upstreams.restartMaxDelay),
      startupWaitMs: durationToMs(value.upstreams.startupWait),
    },
    catalog: value.catalog,
    reload: { watch: value.reload.watch, debounceMs: durationToMs(value.reload.debounce) },
    http: { sessionIdleTimeoutMs: durationToMs(value.http.sessionIdleTimeout) },
    approval: approvalSection(root, value),
    ...normaliseIdentity(value, parsed?.file ?? 'gateway.yaml', (source, base, rules) => policySection(rules, source, base, parsed)),
    ...(value.telemetry ? { telemetry: telemetrySection(value.telemetry) } : {}),
    network: networkSection(value.network, parsed),
    servers,
    problems,
  };
}

function approvalSection(root: string, value: GatewayFile): GatewayConfig['approval'] {
  const { approval } = value;
  const review = approval.autoReview;
  const reviewBase = review ? { timeoutMs: durationToMs(review.timeout), recentCalls: review.recentCalls } : undefined;
  return {
    channel: approval.channel,
    timeoutMs: durationToMs(approval.timeout),
    allowAlways: approval.allowAlways,
    sessionScope: approval.sessionScope,
    rulesFile: resolve(root, approval.rulesFile),
    adminDir: approval.adminDir ? resolve(root, approval.adminDir) : join(dirname(resolve(root, value.audit.file)), '.mcpgate'),
    ...(review && reviewBase
      ? {
          autoReview: review.command
            ? { ...reviewBase, kind: 'command' as const, command: review.command }
            : review.url
              ? { ...reviewBase, kind: 'url' as const, url: review.url, headers: review.headers }
              : { ...reviewBase, kind: 'sampling' as const },
        }
      : {}),
  };
}

function telemetrySection(value: TelemetryInput): TelemetryConfig {
  const { exportInterval, exportTimeout, ...rest } = value;
  return {
    ...rest,
    ...(exportInterval === undefined ? {} : { exportIntervalMs: durationToMs(exportInterval) }),
    ...(exportTimeout === undefined ? {} : { exportTimeoutMs: durationToMs(exportTimeout) }),
  };
}

function networkSection(value: GatewayFile['network'], parsed: ParsedFile | undefined): GatewayConfig['network'] {
  const { maxConnections, idleTimeout, connectTimeout } = value;
  return {
    ...policySection(value, parsed?.file ?? 'gateway.yaml', ['network'], parsed),
    maxConnections,
    idleTimeoutMs: durationToMs(idleTimeout),
    connectTimeoutMs: durationToMs(connectTimeout),
  };
}

function policySection(policy: ToolPolicyInput, source: string, base: Path, parsed: ParsedFile | undefined): PolicySection {
  const rules = (kind: 'allow' | 'ask' | 'deny'): SourcedRule[] =>
    policy[kind].map((rule: RuleInput, index) => {
      const line = parsed?.lineOf([...base, kind, index]);
      return { rule, source, where: `${fieldName(base)}.${kind}[${index}]`, ...(line === undefined ? {} : { line }) };
    });
  return {
    ...(policy.default ? { default: policy.default, defaultSource: { source, where: `${fieldName(base)}.default` } } : {}),
    allow: rules('allow'),
    ask: rules('ask'),
    deny: rules('deny'),
  };
}

function auditSettings(root: string, audit: GatewayFile['audit']): GatewayConfig['audit'] {
  const { fsyncInterval, checkpoint, rotate, ...rest } = audit;
  return {
    ...rest,
    file: resolve(root, audit.file),
    fsyncIntervalMs: durationToMs(fsyncInterval),
    ...(rotate ? { rotate } : {}),
    ...(checkpoint ? { checkpoint: { key: checkpoint.key, alg: checkpoint.alg, every: checkpoint.every, intervalMs: durationToMs(checkpoint.interval) } } : {}),
  };
}
