/**
 * `mcpgate check`: validate the whole configuration without starting anything. Prints one line
 * per server, each stdio server's effective network policy, and `file:line: field: message` per
 * problem (a remote URL the network policy refuses is one); exit 1 on any error. References are
 * resolved to prove they can be, but no value is ever printed.
 */
import { readApprovedFile } from '../approval/approvedFile.js';
import { checkpointSigner } from '../audit/checkpoint.js';
import { loadConfigReport } from '../config/load.js';
import { defaultResolver, resolveTarget } from '../secrets/resolve.js';
import { formatProblem, type ConfigProblem, type ServerConfig, type StdioTarget } from '../config/types.js';
import { ErrorCodes, GatewayError } from '../errors.js';
import { applyRequirements } from '../requirements/apply.js';
import { displayUrl } from '../secrets/displayUrl.js';
import { loadRequirementsReport, requirementsFileFrom } from '../requirements/load.js';
import { pinFileFor, readPinState } from '../pinning/pinFile.js';
import { compilePolicy } from '../policy/policy.js';
import { compileNetworkPolicies, policyLine, urlDestination } from '../network/policy.js';
import { SandboxLauncher, sandboxLabel } from '../sandbox/launcher.js';
import { gatewayFilesOf } from '../sandbox/protectedPaths.js';
import { findCommand } from '../upstream/command.js';
import { reloadPreviewLines } from '../reload/preview.js';
import { alwaysLine, checkStatuses } from './alwaysView.js';

/** Options of `mcpgate check`. */
export interface CheckOptions {
  readonly configDir: string;
  /** `--requirements FILE` (else $MCPGATE_REQUIREMENTS, else /etc/mcpgate/requirements.yaml if present). */
  readonly requirements?: string;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
}

/** Validates the configuration; returns the exit code. */
export async function checkCommand(options: CheckOptions): Promise<number> {
  const loaded = await loadConfigReport(options.configDir);
  const requirementsFile = requirementsFileFrom(options.requirements);
  const managed = requirementsFile === undefined ? undefined : await loadRequirementsReport(requirementsFile);
  if (managed) {
    options.out.write(`managed requirements: ${managed.file}${managed.requirements ? '' : ' (INVALID: mcpgate refuses to start)'}\n`);
  }
  // With requirements in force, the config is checked as the gateway would run it.
  const config = loaded.config && managed?.requirements ? applyRequirements(loaded.config, managed.requirements) : loaded.config;
  const problems: ConfigProblem[] = [...(managed?.problems ?? []), ...(config?.problems ?? loaded.problems)];
  const servers = config?.servers ?? [];
  const sandboxes = new Map<string, string>();
  if (config) {
    const resolver = defaultResolver(config.dir);
    const launcher = new SandboxLauncher({ files: gatewayFilesOf(config) });
    for (const server of servers) {
      let target = server.target;
      try {
        target = (await resolveTarget(server, resolver)).target;
        // What `serve` would otherwise retry forever: a command the child cannot run.
        if (target.kind === 'stdio' && server.enabled) {
          const fromReference = server.target.kind === 'stdio' && (server.target.env.PATH ?? '').includes('${');
          const found = await findCommand(target.command, target.env, target.cwd, !fromReference);
          if ('problem' in found) problems.push({ file: server.file, field: 'command', message: found.problem, server: server.name, severity: 'error' });
        }
      } catch (error) {
        const message = error instanceof GatewayError ? error.message : String(error);
        problems.push({ file: server.file, message, server: server.name, severity: 'error' });
      }
      if (target.kind === 'stdio') await checkSandbox(launcher, server, target, sandboxes, problems);
    }
    // The audit checkpoint key: the gateway would refuse to start without it.
    await checkpointSigner(config, resolver).catch((error: unknown) => {
      problems.push({ file: 'gateway.yaml', message: error instanceof GatewayError ? error.message : String(error), severity: 'error' });
    });
  }
  // "Always allow" entries: what each answers without a person, or why it does not apply.
  const always: string[] = [];
  if (config) {
    const approved = await readApprovedFile(config.approval.rulesFile, config.dir);
    problems.push(...approved.problems);
    const pins = await readPinState(pinFileFor(config.audit.file)).then(
      (state) => ({ state }),
      (error: unknown) => ({ broken: error instanceof Error ? error.message : String(error) }),
    );
    for (const { name, decision, status } of checkStatuses(config, compilePolicy(config), approved.entries, pins)) {
      always.push(`${'always'.padEnd(9)}${name}  ${alwaysLine(decision, status)}\n`);
    }
  }
  // Each server's effective network policy, and a remote URL the policy refuses (judged by name and IP literal: no DNS here).
  const network: string[] = [];
  if (config) {
    const policies = compileNetworkPolicies(config);
    for (const server of servers) {
      const policy = policies.get(server.name);
      if (!policy) continue;
      if (server.target.kind === 'stdio') network.push(`${'network'.padEnd(9)}${server.name}  ${policyLine(policy.effective())}\n`);
      else if (!server.target.url.includes('${')) {
        const target = urlDestination(server.target.url);
        const verdict = 'error' in target ? undefined : policy.checkUpstreamUrl(target.host, target.port, target.host.kind === 'ip' ? [target.host.address] : []);
        if (verdict?.decision === 'deny') problems.push({ file: server.file, field: server.target.kind === 'http' ? 'url' : 'sse', server: server.name, severity: 'error', message: `upstream URL refused by the network policy: ${verdict.reason}` });
      }
    }
  }
  const failed = new Set(problems.filter((p) => p.server !== undefined && p.severity === 'error').map((p) => p.server));
  for (const server of servers) {
    const sandbox = sandboxes.has(server.name) ? `  sandbox: ${sandboxes.get(server.name)}` : '';
    options.out.write(`${failed.has(server.name) ? 'error' : server.enabled ? 'ok' : 'disabled'}`.padEnd(9) + `${server.name}  ${describe(server)}${sandbox}\n`);
  }
  for (const name of [...failed].filter((name) => !servers.some((s) => s.name === name))) {
    options.out.write(`${'error'.padEnd(9)}${name}\n`);
  }
  for (const line of network) options.out.write(line);
  for (const line of always) options.out.write(line);
  for (const problem of problems) options.out.write(`${problem.severity === 'warning' ? 'warning: ' : ''}${formatProblem(problem)}\n`);
  const errors = problems.filter((p) => p.severity === 'error').length;
  // Which configuration this is, as every session.start of a gateway running it records it.
  if (config) options.out.write(`config digest: ${config.digest}\n`);
  // A gateway serving this directory: what a reload (SIGHUP, or its file watch) would do now.
  if (config) for (const line of await reloadPreviewLines(config, loaded.problems)) options.out.write(`${'reload'.padEnd(9)}${line}\n`);
  const warnings = problems.length - errors;
  const warned = warnings === 0 ? '' : `, ${warnings} warning(s)`;
  options.out.write(errors === 0 ? `configuration ok: ${servers.length} server(s)${warned}\n` : `${errors} problem(s) found${warned}\n`);
  return errors === 0 ? 0 : 1;
}

function describe(server: ServerConfig): string {
  const target = server.target;
  // Show the shape, not resolved values: references stay as written.
  const shape = target.kind === 'stdio' ? `(stdio: ${target.command})` : `(${target.kind}: ${displayUrl(target.url)})`;
  const isolation = server.isolation && `  isolation: session (one instance per client session, at most ${server.isolation.maxInstances}, idle stop after ${server.isolation.idleTimeoutMs / 1000}s)`;
  return isolation ? `${shape}${isolation}` : shape;
}

/** How the server would run: its sandbox state, or why it would be refused. */
async function checkSandbox(launcher: SandboxLauncher, server: ServerConfig, target: StdioTarget, out: Map<string, string>, problems: ConfigProblem[]): Promise<void> {
  try {
    out.set(server.name, sandboxLabel((await launcher.launch(server, target, { check: true })).sandbox));
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    const refused = error.code === ErrorCodes.SANDBOX_UNAVAILABLE || error.code === ErrorCodes.SANDBOX_INVALID;
    out.set(server.name, refused ? `refused (${error.code})` : 'unknown');
    const message = `${error.message}${error.remedy ? `; fix: ${error.remedy}` : ''}`;
    problems.push({ file: server.file, field: 'sandbox', message, server: server.name, severity: refused ? 'error' : 'warning' });
  }
}
