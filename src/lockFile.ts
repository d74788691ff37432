/**
 * Lock files between processes: the primitives behind the pin file's short-lived lock
 * (pinning/pinLock.ts) and the audit chain's long-lived owner lock (audit/chainLock.ts).
 *
 * - Taking a free lock: exclusive create (`O_EXCL`); the file holds the holder's unique token.
 * - Taking over a lock the caller judged stale (each caller has its own test: age, or whether the
 *   holding process is alive): removing it and creating a new one lets two processes that both
 *   judged it stale both end up "holding" it (the second removes the first one's fresh lock).
 *   Instead a taker first claims the takeover of *that* lock — exclusive create of a marker named
 *   after the stale lock's token, so only one process can claim one stale generation — then
 *   re-reads the lock to confirm it is still that generation, and replaces it with its own token by
 *   an atomic rename. The lock's name never disappears during a takeover, so no exclusive create
 *   can slip in between either.
 * - Release removes the lock only if it still holds the caller's token.
 *
 * Synchronous: each step is one small file operation, done at start-up or off the hot path.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';

/** A lock as found: its generation (the token; for an empty file left mid-create, its inode and time) and its age. */
export interface LockState {
  readonly generation: string;
  readonly mtimeMs: number;
}

let counter = 0;

/** Exclusive create of `lock` holding `token`; false if the lock exists. */
export function createLock(lock: string, token: string): boolean {
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, token);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The lock's current state, or undefined when there is none. */
export function readLock(lock: string): LockState | undefined {
  let fd: number;
  try {
    fd = openSync(lock, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    // One open file: token and age are of the same lock even if the name is replaced meanwhile.
    const info = fstatSync(fd);
    const text = readFileSync(fd, 'utf8');
    return { generation: text === '' ? `empty ${info.ino} ${info.mtimeMs}` : text, mtimeMs: info.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces the stale lock of `generation` with `token`, if this process is the one that claims it.
 * The claim marker is left only while the replacement is being made: once the lock holds a new
 * token, a late claimant of the old generation sees that it changed and backs off.
 */
export function takeOverLock(lock: string, generation: string, token: string): boolean {
  const marker = `${lock}.${createHash('sha256').update(generation).digest('hex').slice(0, 16)}.takeover`;
  if (!createLock(marker, token)) return false;
  try {
    if (readLock(lock)?.generation !== generation) return false;
    const temp = `${lock}.${process.pid}.${counter++}.tmp`;
    writeFileSync(temp, token, { mode: 0o600 });
    renameSync(temp, lock);
    return true;
  } finally {
    rmSync(marker, { force: true });
  }
}

/** Removes `lock` if it still holds `token` (had we been judged stale, it now belongs to whoever took it over). */
export function releaseLock(lock: string, token: string): void {
  if (readLock(lock)?.generation === token) rmSync(lock, { force: true });
}
