/** The `approval` section of gateway.yaml and a server's `approval.channel`: defaults, normalisation, errors. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configDir, removeConfigDirs } from '../support/configDir.js';
import { loadConfig, loadConfigReport } from '../../src/config/load.js';
import { formatProblem } from '../../src/config/types.js';

afterEach(removeConfigDirs);

describe('approval config', () => {
  it('defaults: channel auto, 120 s timeout, always allowed, rules file and admin dir under the config dir', async () => {
    const dir = await configDir({ 'servers.d/a.yaml': 'command: node\n' });
    const config = await loadConfig(dir);
    expect(config.approval).toEqual({
      channel: 'auto',
      timeoutMs: 120_000,
      allowAlways: true,
      sessionScope: 'tool',
      rulesFile: join(dir, 'rules.d/approved.yaml'),
      adminDir: join(dir, '.mcpgate'),
    });
    expect(config.servers[0]?.approvalChannel).toBeUndefined();
  });

  it('normalises every field, a reviewer, and a per-server channel', async () => {
    const dir = await configDir({
      'gateway.yaml':
        'audit: { file: logs/audit.log }\napproval:\n  channel: queue\n  timeout: 5s\n  allowAlways: false\n  sessionScope: arguments\n  rulesFile: /etc/x.yaml\n' +
        '  autoReview: { command: [reviewer, --strict], timeout: 2s, recentCalls: 3 }\n',
      'servers.d/a.yaml': 'command: node\napproval: { channel: elicitation }\n',
    });
    const config = await loadConfig(dir);
    expect(config.approval).toMatchObject({
      channel: 'queue',
      timeoutMs: 5000,
      allowAlways: false,
      sessionScope: 'arguments',
      rulesFile: '/etc/x.yaml',
      adminDir: join(dir, 'logs/.mcpgate'),
      autoReview: { kind: 'command', command: ['reviewer', '--strict'], timeoutMs: 2000, recentCalls: 3 },
    });
    expect(config.servers[0]?.approvalChannel).toBe('elicitation');
  });

  it('requires exactly one reviewer and a known channel, naming file, line and field', async () => {
    const dir = await configDir({ 'gateway.yaml': 'approval:\n  autoReview:\n    command: [x]\n    url: http://127.0.0.1:1/\n' });
    const report = await loadConfigReport(dir);
    expect(report.config).toBeUndefined();
    expect(report.problems.map(formatProblem).join('\n')).toContain('gateway.yaml:3: approval.autoReview: set exactly one of command, url or sampling: true');
    const bad = await configDir({ 'servers.d/a.yaml': 'command: node\napproval: { channel: carrier-pigeon }\n' });
    const badReport = await loadConfigReport(bad);
    expect(badReport.problems.map(formatProblem).join('\n')).toMatch(/servers\.d\/a\.yaml:2: approval\.channel: /);
  });
});
