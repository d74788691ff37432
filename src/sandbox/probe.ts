/**
 * Can this machine sandbox a server? Probed once per process by running `bwrap … true` with the
 * sandbox's own namespace flags; the answer (and, when no, the reason) is cached. bwrap is
 * `$MCPGATE_BWRAP` when set (a path), else `bwrap` on PATH.
 */
import { spawn } from 'node:child_process';
import { BWRAP_BASE_FLAGS } from './bwrapArgs.js';

/** The probe's answer. */
export type ProbeResult =
  | { readonly ok: true; readonly bwrap: string; readonly userFlags: readonly string[] }
  | { readonly ok: false; readonly reason: string };

const PROBE_TIMEOUT_MS = 5000;
/**
 * Tried in order: a user namespace (mounts locked: nothing inside can undo them) that cannot nest
 * another (bwrap ≥ 0.8), a user namespace, then none (setuid bwrap, or root where user
 * namespaces are off: capabilities are still dropped).
 */
const USER_FLAG_CANDIDATES: readonly (readonly string[])[] = [['--unshare-user', '--disable-userns'], ['--unshare-user'], []];

const cache = new Map<string, Promise<ProbeResult>>();

/** The bwrap executable to use. */
export function bwrapCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.MCPGATE_BWRAP || 'bwrap';
}

/** Probes (once per bwrap path) whether a sandbox can be created here. */
export function probeSandbox(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<ProbeResult> {
  if (platform !== 'linux') {
    const reason =
      platform === 'darwin'
        ? 'macOS: the sandbox-exec profile is designed (docs/sandbox.md) but not enabled in this version'
        : `no sandbox is available on ${platform}`;
    return Promise.resolve({ ok: false, reason });
  }
  const bwrap = bwrapCommand(env);
  let result = cache.get(bwrap);
  if (!result) {
    result = probe(bwrap, env);
    cache.set(bwrap, result);
  }
  return result;
}

async function probe(bwrap: string, env: NodeJS.ProcessEnv): Promise<ProbeResult> {
  let last = '';
  for (const userFlags of USER_FLAG_CANDIDATES) {
    const outcome = await run(bwrap, [...BWRAP_BASE_FLAGS, ...userFlags, '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--', 'true'], env);
    if (outcome.ok) return { ok: true, bwrap, userFlags };
    if (outcome.missing) {
      const where = env.MCPGATE_BWRAP ? `MCPGATE_BWRAP=${bwrap}` : 'bwrap on PATH';
      return { ok: false, reason: `bubblewrap is not installed (${where}: ${outcome.detail})` };
    }
    last = outcome.detail;
  }
  return { ok: false, reason: `bubblewrap cannot create a sandbox here: ${last}` };
}

function run(bwrap: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; missing?: boolean; detail: string }> {
  return new Promise((resolve) => {
    const child = spawn(bwrap, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: env.PATH ?? '/usr/bin:/bin' } });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, missing: error.code === 'ENOENT' || error.code === 'EACCES', detail: error.code ?? error.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stderr.trim().split('\n')[0] ?? '';
      resolve({ ok: code === 0, detail: line || (signal ? `killed by ${signal} (timed out?)` : `exit code ${code}`) });
    });
  });
}
