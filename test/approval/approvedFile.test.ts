/** The approved-rules file as the CLI shows it: entries with lines, broken files with file:line; which entries apply. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alwaysBarrier, alwaysCoverage, alwaysOff } from '../../src/approval/alwaysCoverage.js';
import { readApprovedFile } from '../../src/approval/approvedFile.js';
import type { Verdict } from '../../src/policy/verdict.js';
import { configDir, removeConfigDirs } from '../support/configDir.js';

const APPROVED = `# mcpgate: tools a user chose to "always allow"
allow:
  - tool: db__query
    server: db
    approvedAt: "2026-11-25T10:00:00Z"
    client: claude-code 1.0
  - tool: db__query
    subject: alice
`;

async function rulesFile(text: string): Promise<{ dir: string; file: string }> {
  const dir = await configDir({});
  await mkdir(join(dir, 'rules.d'));
  await writeFile(join(dir, 'rules.d/approved.yaml'), text);
  return { dir, file: join(dir, 'rules.d/approved.yaml') };
}

const ask: Verdict = { decision: 'ask', decidedBy: 'rule', rule: { source: 'servers.d/db.yaml', where: 'tools.ask[0]', text: 'query' }, reason: 'approval required' };

afterEach(removeConfigDirs);

describe('readApprovedFile', () => {
  it('gives every entry with its config-relative file, line and index', async () => {
    const { dir, file } = await rulesFile(APPROVED);
    const report = await readApprovedFile(file, dir);
    expect(report.problems).toEqual([]);
    expect(report.entries).toEqual([
      { tool: 'db__query', server: 'db', approvedAt: '2026-11-25T10:00:00Z', client: 'claude-code 1.0', file: 'rules.d/approved.yaml', line: 3, index: 0 },
      { tool: 'db__query', subject: 'alice', file: 'rules.d/approved.yaml', line: 7, index: 1 },
    ]);
  });

  it('a missing file has no entries and no problem', async () => {
    const dir = await configDir({});
    expect(await readApprovedFile(join(dir, 'rules.d/approved.yaml'), dir)).toEqual({ file: 'rules.d/approved.yaml', entries: [], problems: [] });
  });

  it('a broken file gives no entries and says where it is broken', async () => {
    const unknownField = await rulesFile(`${APPROVED}    colour: red\n`);
    const report = await readApprovedFile(unknownField.file, unknownField.dir);
    expect(report.entries).toEqual([]);
    expect(report.problems).toEqual([
      expect.objectContaining({ file: 'rules.d/approved.yaml', line: 9, field: 'allow[1].colour', severity: 'error', message: expect.stringContaining('none of its entries apply') }),
    ]);
    const syntax = await rulesFile('allow:\n  - tool: [db__query\n');
    const broken = await readApprovedFile(syntax.file, syntax.dir);
    expect(broken.entries).toEqual([]);
    expect(broken.problems[0]).toMatchObject({ file: 'rules.d/approved.yaml', line: expect.any(Number), severity: 'error' });
    expect(broken.problems[0]?.message).toMatch(/^not a valid approved-rules file, so none of its entries apply: syntax error/);
  });
});

describe('alwaysCoverage', () => {
  const entries = [
    { tool: 'db__query', file: 'rules.d/approved.yaml', line: 3, index: 0 },
    { tool: 'db__query', subject: 'alice', file: 'rules.d/approved.yaml', line: 7, index: 1 },
    { tool: 'db__other', file: 'rules.d/approved.yaml', line: 9, index: 2 },
  ];

  it("answers a user's ask: every entry naming the tool applies", () => {
    expect(alwaysCoverage('db__query', ask, entries, undefined)).toEqual([
      { entry: entries[0], applies: true },
      { entry: entries[1], applies: true },
    ]);
  });

  it('never a managed ask, a changed pinned tool, a deny; not needed for an allow', () => {
    const managed: Verdict = { ...ask, decidedBy: 'managed' };
    const pinned: Verdict = { ...ask, humanOnly: true, reason: 'approval required: the definition of db__query changed since it was pinned (description)' };
    expect(alwaysCoverage('db__query', managed, entries, undefined)[0]).toEqual({ entry: entries[0], applies: false, why: 'a managed ask (requirements file) is never answered by "always"' });
    expect(alwaysBarrier(pinned)).toBe('only a person may answer this ask (the definition of db__query changed since it was pinned (description))');
    expect(alwaysBarrier({ ...ask, decision: 'deny' })).toBe('the tool is denied, and "always" only answers an ask');
    expect(alwaysBarrier({ ...ask, decision: 'allow' })).toBe('not needed: the tool is allowed without asking');
    expect(alwaysBarrier(ask)).toBeUndefined();
  });

  it('nothing applies when "always" is off, and says who turned it off', () => {
    const requirements = { file: '/etc/mcpgate/requirements.yaml', approval: { allowAlways: false } };
    const off = alwaysOff({ approval: { allowAlways: false }, requirements } as never);
    expect(off).toBe('the managed requirements forbid "always" approvals (/etc/mcpgate/requirements.yaml approval.allowAlways: false)');
    expect(alwaysOff({ approval: { allowAlways: false } } as never)).toBe('"always" approvals are off (gateway.yaml approval.allowAlways: false)');
    expect(alwaysOff({ approval: { allowAlways: true } } as never)).toBeUndefined();
    expect(alwaysCoverage('db__query', ask, entries, off).map((s) => s.applies)).toEqual([false, false]);
  });
});
