/**
 * The built-in, not removable list of what a sandboxed server cannot read: mcpgate's own files
 * (configuration, approval admin endpoint and token, rules, pins, audit log, managed requirements,
 * every `${file:}` the configuration references), well-known credential stores, and the user's
 * session services (D-Bus, agents, container and database sockets under /run). Pure: the inputs
 * say where things are; the mount planner decides how each is hidden.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { findReferences } from '../config/references.js';
import type { GatewayConfig } from '../config/types.js';
import { pinFileFor } from '../pinning/pinFile.js';

/** One path a sandboxed server must not read. */
export interface ProtectedPath {
  /** Absolute, as written (the planner resolves symlinks). */
  readonly path: string;
  /** Why it is protected (shown when a setting collides with it). */
  readonly why: string;
  /** A directory hidden except these entries (e.g. /run keeps NixOS's program trees). */
  readonly keep?: readonly string[];
}

/** Where mcpgate keeps its own files (all absolute). */
export interface GatewayFiles {
  readonly configDir: string;
  readonly auditFile: string;
  readonly adminDir: string;
  readonly rulesFile: string;
  readonly pinFile: string;
  readonly requirementsFile?: string;
  /** Every file a `${file:PATH}` reference in the configuration names (other servers' credentials, keys). */
  readonly referencedFiles: readonly string[];
}

/** The user's session as the gateway and the server see it (HOMEs, XDG dirs, agent sockets). */
export interface SessionPaths {
  readonly homes: readonly string[];
  readonly configHomes: readonly string[];
  readonly dataHomes: readonly string[];
  readonly runtimeDirs: readonly string[];
  /** Session bus and agent sockets named by DBUS_SESSION_BUS_ADDRESS / SSH_AUTH_SOCK. */
  readonly sockets: readonly string[];
}

/** Credential stores under HOME: directories and files, masked whether they exist or not. */
const HOME_CREDENTIALS = [
  '.ssh', '.gnupg', '.aws', '.azure', '.kube', '.docker', '.gcloud', '.oci', '.fly', '.terraform.d',
  '.password-store', '.pki', '.mozilla', '.thunderbird', '.claude', '.claude.json', '.codex', '.op',
  '.netrc', '.git-credentials', '.npmrc', '.yarnrc', '.yarnrc.yml', '.pypirc', '.vault-token', '.s3cfg', '.boto',
  '.pgpass', '.my.cnf', '.cargo/credentials', '.cargo/credentials.toml', '.gem/credentials',
  '.m2/settings.xml', '.m2/settings-security.xml', '.gradle/gradle.properties', '.gnome2/keyrings',
  '.bash_history', '.zsh_history', '.python_history', '.node_repl_history', '.psql_history', '.mysql_history',
];
/** … under XDG_CONFIG_HOME (default ~/.config). */
const CONFIG_CREDENTIALS = [
  'gcloud', 'gh', 'hub', 'git/credentials', 'op', 'doctl', 'rclone', 'containers/auth.json', 'configstore',
  'github-copilot', 'heroku', 'sops', 'helm', 'pip', 'google-chrome', 'chromium', 'BraveSoftware',
];
/** … under XDG_DATA_HOME (default ~/.local/share): the keyring files. */
const DATA_CREDENTIALS = ['keyrings', 'kwalletd'];

/** /run holds the sockets of system services that trust the user (D-Bus, docker, databases); NixOS keeps programs there. */
const RUN_KEEP = ['current-system', 'booted-system', 'opengl-driver', 'wrappers'];

/** The built-in protected list for one server. */
export function protectedPaths(files: GatewayFiles, session: SessionPaths): ProtectedPath[] {
  const out: ProtectedPath[] = [];
  const add = (path: string, why: string) => out.push({ path: resolve(path), why });
  for (const name of ['gateway.yaml', 'gateway.yml', 'gateway.json']) add(join(files.configDir, name), "mcpgate's configuration");
  add(join(files.configDir, 'servers.d'), "mcpgate's servers.d (every server's policy and references)");
  add(files.auditFile, "mcpgate's audit log");
  add(files.adminDir, "mcpgate's approval admin endpoint and token");
  add(files.rulesFile, "mcpgate's approved-rules file");
  add(files.pinFile, "mcpgate's tool pins");
  add(`${files.pinFile}.lock`, "mcpgate's tool pins");
  if (files.requirementsFile) add(files.requirementsFile, 'the managed requirements');
  for (const file of files.referencedFiles) add(file, 'a file the configuration references (${file:…})');
  for (const home of session.homes) for (const rel of HOME_CREDENTIALS) add(join(home, rel), 'credentials');
  for (const base of session.configHomes) for (const rel of CONFIG_CREDENTIALS) add(join(base, rel), 'credentials');
  for (const base of session.dataHomes) for (const rel of DATA_CREDENTIALS) add(join(base, rel), 'the keyring');
  for (const dir of session.runtimeDirs) add(dir, 'the session runtime dir (D-Bus session bus, keyring and agent sockets)');
  for (const socket of session.sockets) add(socket, 'a session bus or agent socket');
  out.push({ path: '/run', why: 'system service sockets (D-Bus, docker, databases)', keep: RUN_KEEP });
  return dedupe(out);
}

function dedupe(paths: ProtectedPath[]): ProtectedPath[] {
  const seen = new Set<string>();
  return paths.filter((p) => !seen.has(p.path) && seen.add(p.path));
}

/** Where the session's files are for a server, from the gateway's environment and the server's own. */
export function sessionPaths(gatewayEnv: NodeJS.ProcessEnv, serverEnv: Readonly<Record<string, string | undefined>>): SessionPaths {
  const envs = [gatewayEnv, serverEnv];
  const homes = unique(envs.map((env) => env.HOME).concat(homedir()));
  const xdg = (name: string, fallback: string) => unique([...homes.map((home) => join(home, fallback)), ...envs.map((env) => absoluteOrUndefined(env[name]))]);
  const sockets = unique(envs.flatMap((env) => [busPath(env.DBUS_SESSION_BUS_ADDRESS), absoluteOrUndefined(env.SSH_AUTH_SOCK)]));
  return {
    homes,
    configHomes: xdg('XDG_CONFIG_HOME', '.config'),
    dataHomes: xdg('XDG_DATA_HOME', '.local/share'),
    runtimeDirs: unique(envs.map((env) => absoluteOrUndefined(env.XDG_RUNTIME_DIR))),
    sockets,
  };
}

/** `unix:path=/run/user/1000/bus,guid=…` → `/run/user/1000/bus` (abstract sockets need no path: the network namespace hides them). */
function busPath(address: string | undefined): string | undefined {
  const match = /(?:^|;)unix:(?:[^;]*,)?path=([^,;]+)/.exec(address ?? '');
  return match?.[1] ? absoluteOrUndefined(decodeURIComponent(match[1])) : undefined;
}

function absoluteOrUndefined(path: string | undefined): string | undefined {
  return path && isAbsolute(path) ? resolve(path) : undefined;
}

function unique(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];
}

/** mcpgate's own file locations for a loaded configuration. */
export function gatewayFilesOf(config: GatewayConfig): GatewayFiles {
  return {
    configDir: config.dir,
    auditFile: config.audit.file,
    adminDir: config.approval.adminDir,
    rulesFile: config.approval.rulesFile,
    pinFile: pinFileFor(config.audit.file),
    ...(config.requirements ? { requirementsFile: config.requirements.file } : {}),
    referencedFiles: referencedFiles(config),
  };
}

/** Every `${file:PATH}` anywhere in the configuration (relative paths: to the config dir, as the resolver reads them). */
function referencedFiles(config: GatewayConfig): string[] {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      if (!value.includes('${file:')) return;
      try {
        for (const ref of findReferences(value)) if (ref.kind === 'file') found.add(isAbsolute(ref.name) ? resolve(ref.name) : resolve(config.dir, ref.name));
      } catch {
        // a malformed reference is reported by the loader; it names no file to protect
      }
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (value && typeof value === 'object') {
      for (const item of Object.values(value)) visit(item);
    }
  };
  visit(config);
  return [...found];
}
