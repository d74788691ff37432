import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/config/types.js';
import { loadRequirements, loadRequirementsReport, requirementsFileFrom } from '../../src/requirements/load.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpgate-req-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('which requirements file applies', () => {
  it('flag, else $MCPGATE_REQUIREMENTS, else the system file if present, else none', async () => {
    const system = await file('system.yaml', '{}');
    expect(requirementsFileFrom('/a/flag.yaml', { MCPGATE_REQUIREMENTS: '/b/env.yaml' }, system)).toBe('/a/flag.yaml');
    expect(requirementsFileFrom(undefined, { MCPGATE_REQUIREMENTS: '/b/env.yaml' }, system)).toBe('/b/env.yaml');
    expect(requirementsFileFrom(undefined, {}, system)).toBe(system);
    expect(requirementsFileFrom(undefined, {}, join(dir, 'absent.yaml'))).toBeUndefined();
  });
});

describe('loading a requirements file', () => {
  it('normalises rules, allow-list, approval and audit (audit.file relative to the file)', async () => {
    const path = await file(
      'ok.yaml',
      [
        'rules:',
        '  - { tool: "*/delete_*", decision: deny, reason: no deletes }',
        '  - { tool: "github/push_files", decision: ask, args: { branch: main } }',
        'servers:',
        '  allow:',
        '    - { command: npx, args: ["-y", "@modelcontextprotocol/server-github"] }',
        '    - { url: "https://mcp.example.com/*" }',
        'approval: { minTimeout: 1m, allowAlways: false }',
        'audit: { file: logs/audit.log, arguments: hash }',
      ].join('\n'),
    );
    const requirements = await loadRequirements(path);
    expect(requirements.file).toBe(path);
    expect(requirements.rules.deny).toEqual([{ rule: { tool: '*/delete_*', reason: 'no deletes' }, source: path, where: 'rules[0]', line: 2 }]);
    expect(requirements.rules.ask[0]).toMatchObject({ rule: { tool: 'github/push_files', args: { branch: 'main' } }, where: 'rules[1]', line: 3 });
    expect(requirements.rules.allow).toEqual([]);
    expect(requirements.servers).toEqual([
      { kind: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], where: 'servers.allow[0]' },
      { kind: 'remote', url: 'https://mcp.example.com/*', where: 'servers.allow[1]' },
    ]);
    expect(requirements.approval).toEqual({ minTimeoutMs: 60_000, allowAlways: false });
    expect(requirements.audit).toEqual({ file: join(dir, 'logs/audit.log'), arguments: 'hash' });
    expect(Object.isFrozen(requirements.rules)).toBe(true);
  });

  it.each([
    ['rules:\n  - { tool: "*/x", decision: allow }\n', ':2: rules[0].decision: '],
    ['rules:\n  - { tool: "delete_*", decision: deny }\n', ':2: rules[0].tool: managed rules name "server/tool"'],
    ['rules:\n  - tool: "*/x"\n    decision: deny\n    args: { path: "/[/" }\n', ':4: rules[0].args.path: '],
    ['servers:\n  allow:\n    - { name: github }\n', ':3: servers.allow[0]'],
    ['approval:\n  minTimeout: soon\n', ':2: approval.minTimeout: '],
    ['servers:\n  allow:\n    - command: node\n      cwd: mcp/servers\n', ':4: servers.allow[0].cwd: cwd globs match the server\'s absolute working directory; write an absolute path'],
    ['audit:\n  rotate: {}\n', ':2: audit.rotate: unknown field'],
    ['rules: [unclosed\n', 'syntax error'],
  ])('reports %j as a problem with file:line: field', async (text, expected) => {
    const path = await file('bad.yaml', text);
    const report = await loadRequirementsReport(path);
    expect(report.requirements).toBeUndefined();
    expect(report.problems.map(formatProblem).join('\n')).toContain(expected);
    await expect(loadRequirements(path)).rejects.toMatchObject({ code: 'MCPGATE_REQUIREMENTS_INVALID' });
  });

  it('keeps an allow-list entry\'s cwd glob (absolute, or starting with a star)', async () => {
    const path = await file('cwd.yaml', 'servers:\n  allow:\n    - { command: node, args: [server.js], cwd: "/srv/mcp/*" }\n    - { command: node, cwd: "*/mcp" }\n');
    const requirements = await loadRequirements(path);
    expect(requirements.servers).toEqual([
      { kind: 'stdio', command: 'node', args: ['server.js'], cwd: '/srv/mcp/*', where: 'servers.allow[0]' },
      { kind: 'stdio', command: 'node', cwd: '*/mcp', where: 'servers.allow[1]' },
    ]);
  });

  it('a named file that does not exist refuses to start (fail closed)', async () => {
    await expect(loadRequirements(join(dir, 'missing.yaml'))).rejects.toThrow(/could not be loaded; refusing to start[\s\S]*does not exist/);
  });
});
