import { describe, expect, it } from 'vitest';
import { paginate } from '../../src/catalog/pagination.js';

describe('paginate', () => {
  const items = Array.from({ length: 7 }, (_, i) => i);

  it('returns everything without a cursor when it fits one page', () => {
    expect(paginate(items, undefined, 10)).toEqual({ items });
  });

  it('walks the pages with opaque cursors until there is none', () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = paginate(items, cursor, 3);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(items);
    expect(pages).toBe(3);
  });

  it('rejects cursors it did not issue', () => {
    expect(() => paginate(items, 'garbage', 3)).toThrow(/invalid cursor/);
    expect(() => paginate(items, 42, 3)).toThrow(/invalid cursor/);
    expect(() => paginate(items, Buffer.from('o:99').toString('base64url'), 3)).toThrow(/shorter/);
  });
});
