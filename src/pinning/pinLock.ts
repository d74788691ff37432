/**
 * A lock file between processes (the pin file's `mcpgate-pins.json.lock`), with an atomic
 * takeover of a stale one so that exactly one process wins it.
 *
 * - Taking a free lock: exclusive create (`O_EXCL`); the file holds the holder's unique token.
 * - A lock older than `staleMs` is taken to be left by a crashed process. Removing it and creating
 *   a new one (what this module once did) lets two processes that both judged it stale both end up
 *   "holding" it: the second removes the first one's fresh lock. Instead, a taker first claims the
 *   takeover of *that* lock — exclusive create of a marker named after the stale lock's token, so
 *   only one process can claim one stale generation — then re-reads the lock to confirm it is
 *   still that generation, and replaces it with its own token by an atomic rename. The lock's name
 *   never disappears during a takeover, so no exclusive create can slip in between either.
 * - Release removes the lock only if it still holds our token.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Timing of a lock; the defaults suit the pin file's short read-modify-writes. */
export interface FileLockOptions {
  /** A lock whose file is older than this was left by a crashed process (default 10 s). */
  readonly staleMs?: number;
  /** Give up after waiting this long for a live holder (default 5 s). */
  readonly waitMs?: number;
  /** Called when this process took over a stale lock (tests and logs). */
  readonly onTakeover?: () => void;
}

let counter = 0;

/**
 * Runs `action` while holding `lock` (created if needed, removed after).
 * @example await withFileLock(`${file}.lock`, () => rewrite(file))
 */
export async function withFileLock<T>(lock: string, action: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? 10_000;
  const token = `${process.pid} ${randomUUID()}`;
  await mkdir(dirname(lock), { recursive: true });
  const deadline = Date.now() + (options.waitMs ?? 5_000);
  for (;;) {
    if (await create(lock, token)) break;
    const held = await current(lock);
    if (held && Date.now() - held.mtimeMs > staleMs && (await takeOver(lock, held.generation, token))) {
      options.onTakeover?.();
      break;
    }
    if (Date.now() > deadline) throw new Error(`${lock} is held by another process (remove it if no mcpgate is running)`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  try {
    return await action();
  } finally {
    // Only our own lock: had we been judged stale, it now belongs to whoever took it over.
    if ((await current(lock))?.generation === token) await rm(lock, { force: true });
  }
}

/** Exclusive create holding our token; false if the lock exists. */
async function create(lock: string, token: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lock, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(token);
  } finally {
    await handle.close();
  }
  return true;
}

/** The lock's generation (its token; for an empty file left mid-create, its inode and time) and age. */
async function current(lock: string): Promise<{ generation: string; mtimeMs: number } | undefined> {
  let handle;
  try {
    handle = await open(lock, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    // One open file: token and age are of the same lock even if the name is replaced meanwhile.
    const info = await handle.stat();
    const text = await handle.readFile('utf8');
    return { generation: text === '' ? `empty ${info.ino} ${info.mtimeMs}` : text, mtimeMs: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

/**
 * Replaces the stale lock of `generation` with ours, if this process is the one that claims it.
 * The claim marker is left only while the replacement is being made: once the lock holds a new
 * token, a late claimant of the old generation sees that it changed and backs off.
 */
async function takeOver(lock: string, generation: string, token: string): Promise<boolean> {
  const marker = `${lock}.${createHash('sha256').update(generation).digest('hex').slice(0, 16)}.takeover`;
  if (!(await create(marker, token))) return false;
  try {
    if ((await current(lock))?.generation !== generation) return false;
    const temp = `${lock}.${process.pid}.${counter++}.tmp`;
    await writeFile(temp, token, { mode: 0o600 });
    await rename(temp, lock);
    return true;
  } finally {
    await rm(marker, { force: true });
  }
}
