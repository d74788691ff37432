/**
 * The reload plan (pure): which servers keep their last good version, and which are added,
 * removed, restarted or only reconfigured. Configurations are loaded from real directories.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigReport } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { diffServers, keepLastGood, rulesChanged, startOnlyChanges } from '../../src/reload/plan.js';
import { configDir, removeConfigDirs } from '../support/configDir.js';

let dir: string | undefined;

/** Loads these files from the test's one configuration directory (as a reload reads the same dir again). */
async function load(files: Record<string, string>): Promise<GatewayConfig> {
  dir ??= await configDir({});
  await rm(join(dir, 'servers.d'), { recursive: true, force: true });
  await mkdir(join(dir, 'servers.d'));
  for (const [name, text] of Object.entries({ 'gateway.yaml': 'audit: { file: ./a.log }\n', ...files })) await writeFile(join(dir, name), text);
  const report = await loadConfigReport(dir);
  if (!report.config) throw new Error('gateway.yaml should load');
  return report.config;
}

const echo = 'command: node\nargs: [echo.js]\ntools: { default: allow }\n';

describe('reload plan', () => {
  afterEach(async () => {
    dir = undefined;
    await removeConfigDirs();
  });

  it('sorts servers into added, removed, restarted (process fields) and reconfigured (policy, timeout, prefix)', async () => {
    const before = await load({
      'servers.d/same.yaml': echo,
      'servers.d/policy.yaml': echo,
      'servers.d/command.yaml': echo,
      'servers.d/env.yaml': echo,
      'servers.d/sandbox.yaml': echo,
      'servers.d/protocol.yaml': echo,
      'servers.d/gone.yaml': echo,
      'servers.d/off.yaml': echo,
    });
    const after = await load({
      'servers.d/same.yaml': `# a comment moves nothing that matters\n${echo}`,
      'servers.d/policy.yaml': 'command: node\nargs: [echo.js]\ntimeout: 90s\nprefix: p\ntools: { default: allow, deny: [rm] }\n',
      'servers.d/command.yaml': 'command: node\nargs: [other.js]\n',
      'servers.d/env.yaml': `${echo}env: { A: b }\n`,
      'servers.d/sandbox.yaml': `${echo}sandbox: { mode: off }\n`,
      'servers.d/protocol.yaml': `${echo}protocol: 2025-11-25\n`,
      'servers.d/off.yaml': `${echo}enabled: false\n`,
      'servers.d/new.yaml': echo,
    });
    expect(diffServers(before, after)).toEqual({
      added: ['new'],
      removed: ['gone', 'off'],
      restarted: ['command', 'env', 'protocol', 'sandbox'],
      reconfigured: expect.arrayContaining(['policy']),
    });
    expect(diffServers(before, after).reconfigured).not.toContain('command');
    expect(rulesChanged(before, after)).toBe(true);
    expect(rulesChanged(before, before)).toBe(false);
  });

  it('restarts every server when gateway.yaml network rules change (their egress is judged by them)', async () => {
    const before = await load({ 'servers.d/a.yaml': echo });
    const after = await load({ 'gateway.yaml': 'audit: { file: ./a.log }\nnetwork: { allow: ["example.com:443"] }\n', 'servers.d/a.yaml': echo });
    expect(diffServers(before, after).restarted).toEqual(['a']);
  });

  it('keeps the last good version of a server whose file breaks, and does not add a new broken one', async () => {
    const before = await load({ 'servers.d/a.yaml': echo });
    const loaded = await load({ 'servers.d/a.yaml': 'command: node\ncomand: x\n', 'servers.d/b.yaml': 'url: [\n' });
    const kept = keepLastGood(before, loaded);
    expect(kept.failed).toEqual(['a', 'b']);
    expect(kept.config.servers.map((s) => s.name)).toEqual(['a']);
    expect(kept.config.servers[0]).toBe(before.servers[0]);
    expect(kept.problems.map((p) => `${p.file}:${p.line}`)).toEqual(expect.arrayContaining(['servers.d/a.yaml:2']));
    expect(diffServers(before, kept.config)).toEqual({ added: [], removed: [], restarted: [], reconfigured: [] });
  });
});

describe('settings a reload does not apply', () => {
  afterEach(async () => {
    dir = undefined;
    await removeConfigDirs();
  });

  it('names the gateway.yaml fields that take effect at the next start only', async () => {
    const before = await load({ 'servers.d/a.yaml': echo });
    const after = await load({ 'gateway.yaml': 'audit: { file: ./a.log }\nlisten: { port: 9999 }\napproval: { channel: none, sessionScope: arguments }\npolicy: { deny: ["a/x"] }\n', 'servers.d/a.yaml': echo });
    expect(startOnlyChanges(before, after)).toEqual(['listen', 'approval.sessionScope']);
    expect(startOnlyChanges(before, before)).toEqual([]);
  });
});
