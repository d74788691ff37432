/**
 * Rate-limited reporting of audit write errors (real timers, a short window): the first error of a
 * kind at once, the rest summarised once per window, the recovery once, and a disk that fails and
 * works in turn does not print a line per flap.
 */
import { describe, expect, it } from 'vitest';
import { WriteErrors } from '../../src/audit/writeErrors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('audit write error reports', () => {
  it('reports the first error at once, summarises the rest per window, and the recovery once', async () => {
    const lines: string[] = [];
    const errors = new WriteErrors((e) => lines.push(e.message), () => 4567, 300);
    for (let i = 0; i < 50; i++) errors.failed(enospc(), '; the records are kept and retried');
    expect(lines).toEqual(['ENOSPC: no space left on device, write; the records are kept and retried']);
    await sleep(450);
    expect(lines.slice(1)).toEqual(['49 more write errors (ENOSPC) in the last 300 ms; 4,567 records waiting']);
    errors.failed(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    expect(lines.at(-1)).toBe('EIO: i/o error, fdatasync'); // another kind: at once too
    for (let i = 0; i < 3; i++) errors.failed(enospc());
    errors.recovered('');
    expect(lines.at(-1)).toBe('writing again after 54 failed attempts (not reported singly: 3 × ENOSPC)');
    const count = lines.length;
    await sleep(450);
    expect(lines).toHaveLength(count); // nothing more to say
    errors.stop();
  });

  it('does not print a line per flap when writes fail and succeed in turn', async () => {
    const lines: string[] = [];
    const errors = new WriteErrors((e) => lines.push(e.message), () => 0, 300);
    for (let i = 0; i < 20; i++) {
      errors.failed(enospc());
      errors.recovered('');
    }
    // The first outage is reported (error and recovery); the next 19 within the window are counted.
    expect(lines).toEqual(['ENOSPC: no space left on device, write', 'writing again after 1 failed attempt']);
    await sleep(450);
    expect(lines.slice(2)).toEqual(['19 more write errors (ENOSPC) in the last 300 ms; 0 records waiting']);
    errors.stop();
  });
});
