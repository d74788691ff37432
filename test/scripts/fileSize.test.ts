/** STYLE.md: no file in src/ over 400 lines (split by responsibility instead). */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
/** The most lines a source file may have. */
const MAX_LINES = 400;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : Promise.resolve(entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []))));
  return nested.flat();
}

describe('source file size', () => {
  it(`no file in src/ has more than ${MAX_LINES} lines`, async () => {
    const files = await sourceFiles(join(ROOT, 'src'));
    expect(files.length).toBeGreaterThan(100); // the walk found the tree
    const lines = await Promise.all(files.map(async (file) => [relative(ROOT, file), (await readFile(file, 'utf8')).split('\n').length - 1] as const));
    const over = lines.filter(([, count]) => count > MAX_LINES).map(([file, count]) => `${file}: ${count} lines`);
    expect(over).toEqual([]);
  });
});
