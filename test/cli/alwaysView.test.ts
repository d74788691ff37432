/** How `mcpgate tools` and `check` print "always allow" entries: text lines, --json fields, and check's view without upstreams. */
import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlwaysStatus } from '../../src/approval/alwaysCoverage.js';
import { alwaysJson, alwaysLine, checkStatuses, effectiveDecision } from '../../src/cli/alwaysView.js';
import { loadConfig } from '../../src/config/load.js';
import { compilePolicy } from '../../src/policy/policy.js';
import { configDir, removeConfigDirs } from '../support/configDir.js';

const everyone = { tool: 'db__query', server: 'db', client: 'claude-code 1.0', approvedAt: '2026-11-25T10:00:00Z', session: 's-1', file: 'rules.d/approved.yaml', line: 12, index: 3 };
const alice = { tool: 'db__query', subject: 'alice', approvedAt: '2026-11-25T11:00:00Z', file: 'rules.d/approved.yaml', line: 18, index: 4 };

afterEach(removeConfigDirs);

describe('always entries in text', () => {
  it('an applying entry shows the effective state, where it is written, who approved it and when', () => {
    expect(alwaysLine('ask', { entry: everyone, applies: true })).toBe('ask → allow (always: rules.d/approved.yaml:12, approved by claude-code 1.0 at 2026-11-25T10:00:00Z)');
  });

  it('a per-subject entry says whose sessions it answers', () => {
    expect(alwaysLine('ask', { entry: alice, applies: true })).toBe('ask → allow for subject alice (always: rules.d/approved.yaml:18, approved by alice at 2026-11-25T11:00:00Z)');
  });

  it('an entry that does not apply says so and why; without a line it is named by its index', () => {
    const status: AlwaysStatus = { entry: { tool: 'db__query', file: 'rules.d/approved.yaml', index: 0 }, applies: false, why: 'a managed ask (requirements file) is never answered by "always"' };
    expect(alwaysLine('ask', status)).toBe('"always" entry not applied (rules.d/approved.yaml allow[0]): a managed ask (requirements file) is never answered by "always"');
  });
});

describe('always entries in --json', () => {
  it('keeps file, line, index, subject, client, approval time and session, with applies and why', () => {
    expect(alwaysJson({ entry: everyone, applies: true })).toEqual({
      file: 'rules.d/approved.yaml',
      line: 12,
      index: 3,
      client: 'claude-code 1.0',
      approved_at: '2026-11-25T10:00:00Z',
      session: 's-1',
      applies: true,
    });
    expect(alwaysJson({ entry: alice, applies: false, why: 'x' })).toEqual({ file: 'rules.d/approved.yaml', line: 18, index: 4, subject: 'alice', approved_at: '2026-11-25T11:00:00Z', applies: false, why: 'x' });
  });

  it('the effective decision is allow only when an entry for every session applies', () => {
    expect(effectiveDecision('ask', [{ entry: everyone, applies: true }])).toBe('allow');
    expect(effectiveDecision('ask', [{ entry: alice, applies: true }])).toBe('ask');
    expect(effectiveDecision('ask', [{ entry: everyone, applies: false, why: 'managed' }])).toBe('ask');
    expect(effectiveDecision('deny', [])).toBe('deny');
  });
});

describe('check: entries traced to configured servers without starting them', () => {
  it('resolves prefixes, decides by the policy, and knows a changed pinned tool from the pin file', async () => {
    const dir = await configDir({});
    await writeFile(`${dir}/servers.d/db.yaml`, 'command: db-mcp\nprefix: data\ntools:\n  ask: [query, export]\n  deny: [drop]\n');
    const config = await loadConfig(dir);
    const policy = compilePolicy(config);
    const entry = (tool: string, extra: Record<string, string> = {}) => ({ tool, file: 'rules.d/approved.yaml', index: 0, ...extra });
    const pending = { version: 1 as const, pins: {}, pending: { 'db/export': { sha256: 'a'.repeat(64), fields: {}, public_name: 'data__export', changed: ['description'] } } };
    const statuses = checkStatuses(config, policy, [entry('data__query'), entry('data__drop'), entry('data__export'), entry('db__query'), entry('x__y', { server: 'gone' })], { state: pending });
    expect(statuses.map((s) => [s.name, s.decision, s.status.applies])).toEqual([
      ['data__query', 'ask', true],
      ['data__drop', 'deny', false],
      ['data__export', 'ask', false],
      ['db__query', 'ask', false],
      ['x__y', 'ask', false],
    ]);
    expect(statuses[2]?.status.why).toContain('mcpgate tools --accept data__export');
    expect(statuses[3]?.status.why).toContain('no configured server offers a tool by this name');
    expect(statuses[4]?.status.why).toContain('no configured server offers a tool by this name');
    // The gateway matches by public name only: an entry's server field does not stop it applying.
    const renamed = checkStatuses(config, policy, [entry('data__query', { server: 'gone' })], {});
    expect(renamed[0]?.status).toMatchObject({ applies: true });
    const unreadable = checkStatuses(config, policy, [entry('data__query')], { broken: 'not valid JSON' });
    expect(unreadable[0]?.status).toMatchObject({ applies: false, why: 'only a person may answer this ask (the tool pin file cannot be read (not valid JSON))' });
  });
});
