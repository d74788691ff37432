/**
 * The pin file's lock between processes (`mcpgate-pins.json.lock`), held for one short
 * read-modify-write. A lock older than `staleMs` was left by a crashed process and is taken over
 * atomically, so exactly one waiting process wins it (src/lockFile.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createLock, readLock, releaseLock, takeOverLock } from '../lockFile.js';

/** Timing of a lock; the defaults suit the pin file's short read-modify-writes. */
export interface FileLockOptions {
  /** A lock whose file is older than this was left by a crashed process (default 10 s). */
  readonly staleMs?: number;
  /** Give up after waiting this long for a live holder (default 5 s). */
  readonly waitMs?: number;
  /** Called when this process took over a stale lock (tests and logs). */
  readonly onTakeover?: () => void;
}

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
    if (createLock(lock, token)) break;
    const held = readLock(lock);
    if (held && Date.now() - held.mtimeMs > staleMs && takeOverLock(lock, held.generation, token)) {
      options.onTakeover?.();
      break;
    }
    if (Date.now() > deadline) throw new Error(`${lock} is held by another process (remove it if no mcpgate is running)`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  try {
    return await action();
  } finally {
    releaseLock(lock, token);
  }
}
