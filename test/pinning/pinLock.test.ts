/**
 * The pin file's lock between real processes: N node children, released at once, race to take a
 * lock left stale by a "crashed" process. Exactly one takes it over; the others wait their turn;
 * never two inside at the same time. Several rounds, because a race shows up only sometimes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/pinning/pinLock.js';
import { REPO } from '../support/gateway.js';

const RACER = join(REPO, 'test/fixtures/locks/lockRacer.mjs');
const CONTENDERS = 6;
const ROUNDS = 4;

interface Outcome {
  name: string;
  tookOver: boolean;
  overlap: boolean;
}

/** Starts a contender and resolves once it is ready to race. */
function contender(args: string[]): Promise<{ child: ChildProcess; done: Promise<Outcome> }> {
  const child = spawn(process.execPath, [RACER, ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<Outcome>((resolve, reject) => {
    child.once('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as Outcome);
      else reject(new Error(`contender ${args[3]} exited ${code}: ${err || out}`));
    });
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('ready\n')) resolve({ child, done });
    });
    done.catch(reject);
  });
}

describe('pin lock between processes', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpgate-pinlock-'));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it(`exactly one of ${CONTENDERS} processes takes over a stale lock, and only one is ever inside (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const lock = join(dir, `mcpgate-pins.json.lock`);
      const journal = join(dir, `journal-${round}`);
      const inside = join(dir, `inside-${round}`);
      // A crashed process's lock: its token, an hour old.
      await writeFile(lock, '4242 crashed-process-token');
      const old = new Date(Date.now() - 3_600_000);
      await utimes(lock, old, old);

      const ready = await Promise.all(Array.from({ length: CONTENDERS }, (_, i) => contender([lock, journal, inside, `c${i}`])));
      children.push(...ready.map((r) => r.child));
      for (const { child } of ready) child.stdin?.end('go\n');
      const outcomes = await Promise.all(ready.map((r) => r.done));

      expect(outcomes.filter((o) => o.overlap), `round ${round}: someone found the lock's holder inside`).toEqual([]);
      expect(outcomes.filter((o) => o.tookOver).length, `round ${round}: processes that took over the stale lock`).toBe(1);
      // The journal alternates in/out of one contender at a time, each exactly once.
      const lines = (await readFile(journal, 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(2 * CONTENDERS);
      for (let i = 0; i < lines.length; i += 2) {
        const name = lines[i]?.slice(3);
        expect([lines[i], lines[i + 1]]).toEqual([`in ${name}`, `out ${name}`]);
      }
      expect(new Set(lines.filter((l) => l.startsWith('in ')))).toHaveProperty('size', CONTENDERS);
      // Nothing is left behind: no lock, no takeover marker, no temp file.
      expect((await readdir(dir)).filter((f) => f.startsWith('mcpgate-pins.json'))).toEqual([]);
    }
  }, 120_000);

  it('a holder judged stale does not remove the lock of the process that took it over', async () => {
    const lock = join(dir, 'x.lock');
    let takenOver = false;
    await withFileLock(
      lock,
      async () => {
        // While "we" hang past the stale age, another process takes the lock over.
        const old = new Date(Date.now() - 60_000);
        await utimes(lock, old, old);
        await withFileLock(lock, async () => undefined, { onTakeover: () => (takenOver = true) }).catch(() => undefined);
        await writeFile(lock, 'someone else');
      },
      {},
    );
    expect(takenOver).toBe(true);
    expect(await readFile(lock, 'utf8')).toBe('someone else');
  });

  it('gives up with a message naming the lock while a live holder keeps it', async () => {
    const lock = join(dir, 'y.lock');
    await writeFile(lock, 'live holder');
    await expect(withFileLock(lock, async () => 'ran', { waitMs: 100 })).rejects.toThrow(`${lock} is held by another process`);
    expect(await readFile(lock, 'utf8')).toBe('live holder');
  });
});
