/**
 * Which audit chain a gateway process writes. Every gateway process owns one chain (one file and
 * its rotations, docs/audit.md "Several gateways, one log"); a lock file next to the chain's
 * active file (`FILE.lock`) says which process owns it. A starting gateway takes the
 * lowest-numbered chain whose lock is free or stale, so a gateway restarted alone continues chain
 * 1, and a second gateway started beside it writes chain 2 instead of interleaving with chain 1.
 *
 * A lock is stale when its holder is gone. On the same machine and in the same PID namespace
 * that is exact: the process is dead, or its PID now belongs to another process (its start time
 * differs; on Linux, from /proc). A holder in another PID namespace or on another host (containers
 * or hosts sharing a volume) cannot be looked up: its lock counts as held while the holder
 * refreshes it (every HEARTBEAT_MS) and as stale once it has not for FOREIGN_STALE_MS.
 * Takeovers are atomic (src/lockFile.ts): two gateways never both win one chain.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { ErrorCodes, GatewayError } from '../errors.js';
import { createLock, readLock, releaseLock, takeOverLock } from '../lockFile.js';
import { chainFileName } from './chains.js';
import { processAlive } from '../processAlive.js';

/** How often a holder refreshes its lock's mtime (for holders it cannot look up by PID). */
export const HEARTBEAT_MS = 20_000;
/** A lock from another host or PID namespace not refreshed for this long is stale. */
export const FOREIGN_STALE_MS = 120_000;
/** Chains tried before giving up (a config with this many live gateways is a mistake). */
const MAX_CHAINS = 1000;

/** Where a process runs and when it started: enough to tell whether a lock's holder still lives. */
export interface HolderIdentity {
  readonly pid: number;
  readonly host: string;
  /** The PID namespace (Linux `/proc/self/ns/pid`), '' when unknown. */
  readonly pidns: string;
  /** The boot (Linux boot_id), '' when unknown. */
  readonly boot: string;
  /** The process's start time in clock ticks since boot (Linux /proc/PID/stat), '' when unknown. */
  readonly start: string;
}

/** What a chain lock holds: its holder and a unique token. */
interface LockBody extends HolderIdentity {
  readonly token: string;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The start time (field 22 of /proc/PID/stat), '' when unknown. */
export function processStart(pid: number): string {
  const stat = readText(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: count from its closing one.
  return stat === '' ? '' : (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '');
}

/** This process's identity. */
export function selfIdentity(): HolderIdentity {
  let pidns = '';
  try {
    pidns = readlinkSync('/proc/self/ns/pid');
  } catch {
    // not Linux: PIDs are compared within the host
  }
  return { pid: process.pid, host: hostname(), pidns, boot: readText('/proc/sys/kernel/random/boot_id'), start: processStart(process.pid) };
}


/** How to look a holder up; tests replace it. */
export interface Liveness {
  readonly self: HolderIdentity;
  readonly alive: (pid: number) => boolean;
  readonly start: (pid: number) => string;
  readonly now: number;
}

/**
 * Whether the lock whose text is `text` and whose mtime is `mtimeMs` was left by a holder that is
 * gone (pure: the caller supplies the lookups). Undecidable text (not ours, or written mid-create)
 * is stale only once it is old: a live holder writes its token within microseconds.
 */
export function lockIsStale(text: string, mtimeMs: number, look: Liveness): boolean {
  const age = look.now - mtimeMs;
  let body: Partial<LockBody>;
  try {
    body = JSON.parse(text) as Partial<LockBody>;
  } catch {
    return age > FOREIGN_STALE_MS;
  }
  if (typeof body !== 'object' || body === null || !Number.isSafeInteger(body.pid)) return age > FOREIGN_STALE_MS;
  const self = look.self;
  // A reboot ended every process of the machine.
  if (body.host === self.host && self.boot !== '' && body.boot !== self.boot) return true;
  if (body.host !== self.host || body.pidns !== self.pidns) return age > FOREIGN_STALE_MS;
  const pid = body.pid as number;
  // Our own PID: this process holds no such lock (see ownLocks), so an earlier process with our PID left it.
  if (pid === self.pid || !look.alive(pid)) return true;
  return body.start !== undefined && body.start !== '' && look.start(pid) !== '' && look.start(pid) !== body.start;
}

/** Lock files this process holds (a second writer in the same process must not judge them stale). */
const ownLocks = new Set<string>();

/** A chain this process owns until `release()`. */
export interface ChainClaim {
  /** Chain number: 1 for `audit.file` itself, K for `STEM.chain-K.EXT`. */
  readonly chain: number;
  /** The chain's active file. */
  readonly file: string;
  /** Checks the lock is still ours (and refreshes its mtime); false when another process took it. */
  heartbeat(): boolean;
  release(): void;
}

/**
 * Claims the lowest-numbered chain of audit file `base` that no live process owns: takes its lock
 * (free, or stale and taken over atomically).
 */
export function claimChain(base: string, identity: HolderIdentity = selfIdentity()): ChainClaim {
  const token = JSON.stringify({ ...identity, token: randomUUID() } satisfies LockBody);
  const look = (): Liveness => ({ self: identity, alive: processAlive, start: processStart, now: Date.now() });
  let vanished = 0;
  for (let chain = 1; chain <= MAX_CHAINS; chain++) {
    const file = chainFileName(base, chain);
    const lock = `${file}.lock`;
    if (ownLocks.has(lock)) continue;
    let won = createLock(lock, token);
    if (!won) {
      const held = readLock(lock);
      // Gone between the create and the read: its holder released it; try this chain again
      // (a few times: a chain whose lock keeps coming and going is busy, the next one will do).
      if (held === undefined && vanished++ < 10) {
        chain--;
        continue;
      }
      won = held !== undefined && lockIsStale(held.generation, held.mtimeMs, look()) && takeOverLock(lock, held.generation, token);
    }
    if (!won) continue;
    ownLocks.add(lock);
    return {
      chain,
      file,
      heartbeat() {
        if (readLock(lock)?.generation !== token) return false;
        const now = new Date();
        try {
          utimesSync(lock, now, now);
        } catch {
          // the next beat tries again; a holder on this host is looked up by PID anyway
        }
        return true;
      },
      release() {
        ownLocks.delete(lock);
        releaseLock(lock, token);
      },
    };
  }
  throw new GatewayError(ErrorCodes.AUDIT_UNAVAILABLE, `no free audit chain for ${base}: ${MAX_CHAINS} chains are owned by running gateways`, {
    remedy: `stop gateways you do not need, or remove the ${base}*.lock files of gateways that are no longer running`,
  });
}
