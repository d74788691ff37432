/**
 * How a stdio upstream is started: inside a bubblewrap sandbox where the platform can (mode auto
 * or required), else unconfined with a warning (auto) or not at all (required). Returns the
 * command line to spawn; the transport spawns it unchanged, so stdio passes straight through.
 *
 * A sandboxed server has no network of its own. When the network side offers an egress route,
 * the route's Unix socket is bound into the sandbox and the egress bridge (bridge.ts) listens on
 * 127.0.0.1:EGRESS_BRIDGE_PORT inside, the server's proxy variables pointing at it.
 */
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chainFilesSync } from '../audit/files.js';
import type { SandboxConfig, ServerConfig, StdioTarget } from '../config/types.js';
import { ErrorCodes, GatewayError } from '../errors.js';
import { bwrapArgs } from './bwrapArgs.js';
import { EGRESS_SOCKET_INSIDE, planMounts } from './mountPlan.js';
import { expandPath } from './paths.js';
import { probeSandbox } from './probe.js';
import { protectedPaths, sessionPaths, type GatewayFiles, type ProtectedPath } from './protectedPaths.js';
import type { EgressRoute } from '../network/egress.js';
import { proxyEnv } from '../network/proxyEnv.js';
import { findCommand } from '../upstream/command.js';

/** Looks up a server's egress route (absent: no proxy, and a sandboxed server has no network). */
export type EgressLookup = (server: string) => Promise<EgressRoute | undefined>;

/** How a server runs: confined by bubblewrap, or unconfined (`none`: no sandbox possible; `off`: configured so). */
export type SandboxState =
  | { readonly kind: 'bwrap' }
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'off'; readonly reason: string };

/**
 * How `check`, `tools` and logs name a state.
 * @example sandboxLabel({ kind: 'none', reason: 'bubblewrap is not installed' }) // 'none (bubblewrap is not installed): runs unconfined'
 */
export function sandboxLabel(state: SandboxState): string {
  return state.kind === 'bwrap' ? 'bwrap' : `${state.kind} (${state.reason}): runs unconfined`;
}

/** What to spawn, and how confined it is. */
export interface Launch {
  readonly target: StdioTarget;
  readonly sandbox: SandboxState;
}

/** The port the egress bridge listens on inside a sandbox (its own network namespace: no clash). */
export const EGRESS_BRIDGE_PORT = 3128;
/** Read by bridge.ts, which restores it as the server's NODE_OPTIONS. */
const BRIDGE_NODE_OPTIONS = 'MCPGATE_BRIDGE_NODE_OPTIONS';
/**
 * The bridge's compiled script: next to this module in `dist/`; when this module runs from
 * `src/` (tests importing the sources through tsx), the built copy in `dist/sandbox/`.
 */
const BRIDGE_SCRIPT = [new URL('./bridge.js', import.meta.url), new URL('../../dist/sandbox/bridge.js', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((path) => existsSync(path)) ?? fileURLToPath(new URL('./bridge.js', import.meta.url));
const DEFAULT_SANDBOX: SandboxConfig = { mode: 'auto', modeSource: 'default', denyRead: [], allowWrite: [] };

/** Options of the launcher. */
export interface LauncherOptions {
  readonly files: GatewayFiles;
  /** The gateway's environment (HOME, XDG dirs, bus and agent sockets, MCPGATE_BWRAP). */
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  readonly egress?: EgressLookup;
}

/** Starts stdio upstreams sandboxed where it can. */
export class SandboxLauncher {
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: LauncherOptions) {
    this.env = options.env ?? process.env;
  }

  /**
   * The command line for a server whose references are resolved. `check: true` plans without
   * creating anything (for `mcpgate check`). Throws SANDBOX_UNAVAILABLE (mode required, no
   * sandbox possible) or SANDBOX_INVALID (settings that cannot be honoured safely).
   */
  async launch(server: ServerConfig, target: StdioTarget, { check = false } = {}): Promise<Launch> {
    const sandbox = server.sandbox ?? DEFAULT_SANDBOX;
    const route = check ? undefined : await this.options.egress?.(server.name);
    if (sandbox.mode === 'off') return unconfined(target, { kind: 'off', reason: `sandbox.mode: off in ${sandbox.modeSource.replace(/ sandbox\.mode$/, '')}` }, route);
    const probe = await probeSandbox(this.env, this.options.platform);
    if (!probe.ok) {
      if (sandbox.mode === 'required') {
        throw new GatewayError(ErrorCodes.SANDBOX_UNAVAILABLE, `sandbox.mode is required (${sandbox.modeSource}) but no sandbox is possible: ${probe.reason}`, {
          remedy: 'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow user namespaces; see docs/sandbox.md',
        });
      }
      return unconfined(target, { kind: 'none', reason: probe.reason }, route);
    }
    const serverEnv: Record<string, string | undefined> = { ...getDefaultEnvironment(), ...target.env };
    const home = serverEnv.HOME ?? homedir();
    const found = await findCommand(target.command, target.env, target.cwd);
    if ('problem' in found) throw new GatewayError(ErrorCodes.UPSTREAM_START_FAILED, found.problem, { remedy: "install it, give an absolute path, or set PATH in the server's env" });
    const command = found.path;
    const plan = planMounts({
      cwd: target.cwd,
      command,
      protect: [...this.protectedFor(serverEnv), ...sandbox.denyRead.map((path) => ({ path: expandPath(path, home, target.cwd), why: 'sandbox.filesystem.denyRead' }))],
      allowWrite: sandbox.allowWrite.map((written) => ({ path: expandPath(written, home, target.cwd), written })),
      privateDirs: ['/tmp', '/var/tmp', ...(this.env.TMPDIR ? [this.env.TMPDIR] : [])],
      ...(route ? { egressSocket: route.socketPath } : {}),
      create: !check,
    });
    const env: Record<string, string> = { ...target.env, TMPDIR: '/tmp' };
    let inner = [command, ...target.args];
    if (route) {
      Object.assign(env, proxyEnv(`http://127.0.0.1:${EGRESS_BRIDGE_PORT}`));
      if (env.NODE_OPTIONS !== undefined) env[BRIDGE_NODE_OPTIONS] = env.NODE_OPTIONS;
      delete env.NODE_OPTIONS;
      inner = [process.execPath, BRIDGE_SCRIPT, EGRESS_SOCKET_INSIDE, String(EGRESS_BRIDGE_PORT), '--', ...inner];
    }
    const [innerCommand, ...innerArgs] = inner as [string, ...string[]];
    return {
      target: { ...target, command: probe.bwrap, args: bwrapArgs(plan, probe.userFlags, innerCommand, innerArgs), env },
      sandbox: { kind: 'bwrap' },
    };
  }

  private protectedFor(serverEnv: Readonly<Record<string, string | undefined>>): ProtectedPath[] {
    const { files } = this.options;
    // rotated audit files exist only on disk: list them at each start
    const chain = chainFilesSync(files.auditFile).map((path) => ({ path, why: "mcpgate's audit log" }));
    return [...protectedPaths(files, sessionPaths(this.env, serverEnv)), ...chain];
  }
}

/** The target as it is, plus the proxy variables when an egress route exists (its loopback TCP port). */
function unconfined(target: StdioTarget, sandbox: SandboxState, route: EgressRoute | undefined): Launch {
  return { target: route ? { ...target, env: { ...target.env, ...proxyEnv(`http://127.0.0.1:${route.tcpPort}`) } } : target, sandbox };
}

