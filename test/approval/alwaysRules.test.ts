/** The "always allow" rules file: written atomically, re-read when changed, broken = allows nothing. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlwaysRules } from '../../src/approval/alwaysRules.js';

describe('AlwaysRules', () => {
  let dir: string;
  let problems: string[];
  let rules: AlwaysRules;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpgate-always-'));
    problems = [];
    rules = new AlwaysRules(join(dir, 'rules.d/approved.yaml'), dir, (message) => problems.push(message));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('allows nothing without a file, and what was added after', async () => {
    expect(await rules.allows('a__b')).toBe(false);
    await rules.add({ tool: 'a__b', server: 'a', approvedAt: '2026-01-01T00:00:00Z' });
    await rules.add({ tool: 'a__b', server: 'a' }); // no duplicate
    expect(await rules.allows('a__b')).toBe(true);
    expect(await rules.allows('a__c')).toBe(false);
    const text = await readFile(join(dir, 'rules.d/approved.yaml'), 'utf8');
    expect(text).toMatch(/^# mcpgate/);
    expect(text.match(/tool: a__b/g)).toHaveLength(1);
    expect(rules.ruleText('a__b')).toBe('rules.d/approved.yaml allow[0] (a__b)');
  });

  it('an entry an authenticated subject wrote applies to that subject only; one without a subject to everyone', async () => {
    await rules.add({ tool: 'a__b', subject: 'bob' });
    expect(await rules.allows('a__b', 'bob')).toBe(true);
    expect(await rules.allows('a__b', 'alice')).toBe(false);
    expect(await rules.allows('a__b')).toBe(false);
    await rules.add({ tool: 'a__b', subject: 'alice' });
    expect(await rules.allows('a__b', 'alice')).toBe(true);
    expect(rules.ruleText('a__b', 'alice')).toBe('rules.d/approved.yaml allow[1] (a__b)');
    await rules.add({ tool: 'a__c' });
    expect(await rules.allows('a__c', 'carol')).toBe(true);
    expect(await rules.allows('a__c')).toBe(true);
    // what is on disk says so, and a fresh reader sees the same
    const reread = new AlwaysRules(join(dir, 'rules.d/approved.yaml'), dir, (message) => problems.push(message));
    expect(await reread.allows('a__b', 'bob')).toBe(true);
    expect(await reread.allows('a__b', 'mallory')).toBe(false);
    expect(problems).toEqual([]);
  });

  it('is re-read when an admin edits it (revocation), and a broken file allows nothing', async () => {
    await rules.add({ tool: 'a__b' });
    await rules.add({ tool: 'a__c' });
    const file = join(dir, 'rules.d/approved.yaml');
    await new Promise((r) => setTimeout(r, 20)); // a distinct mtime
    await writeFile(file, 'allow:\n  - tool: a__c\n');
    expect(await rules.allows('a__b')).toBe(false);
    expect(await rules.allows('a__c')).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(file, 'allow: [ { tool: a__c, bogus: 1 } ]\n');
    expect(await rules.allows('a__c')).toBe(false);
    expect(problems[0]).toContain('rules.d/approved.yaml is not a valid approved-rules file');
  });
});

describe('AlwaysRules with a broken file', () => {
  it('refuses to add an entry rather than overwrite the broken file (its entries are not lost)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcpgate-always-'));
    try {
      const file = join(dir, 'approved.yaml');
      const broken = 'allow:\n  - tool: a__keep\n  - tool: a__typo\n    bogus: 1\n';
      await writeFile(file, broken);
      const problems: string[] = [];
      const rules = new AlwaysRules(file, dir, (message) => problems.push(message));
      await expect(rules.add({ tool: 'a__new' })).rejects.toThrow(/approved\.yaml is not a valid approved-rules file.*nothing was written/);
      expect(await readFile(file, 'utf8')).toBe(broken);
      expect(await rules.allows('a__new')).toBe(false);
      expect(problems).toHaveLength(1);
      // Once the admin repairs it, adding works again and keeps the repaired entries.
      await new Promise((r) => setTimeout(r, 20));
      await writeFile(file, 'allow:\n  - tool: a__keep\n');
      await rules.add({ tool: 'a__new' });
      expect(await rules.allows('a__keep')).toBe(true);
      expect(await rules.allows('a__new')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
