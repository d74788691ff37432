/** The `network` sections: loading (rules checked with file:line), managed network requirements applied, the approved-rules file's network entries. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlwaysRules } from '../../src/approval/alwaysRules.js';
import { loadConfig, loadConfigReport } from '../../src/config/load.js';
import { formatProblem } from '../../src/config/types.js';
import { parseHost, type Host } from '../../src/network/address.js';
import { loadRequirementsReport } from '../../src/requirements/load.js';
import { applyRequirements } from '../../src/requirements/apply.js';
import { configDir, removeConfigDirs } from '../support/configDir.js';

afterEach(removeConfigDirs);

describe('network configuration', () => {
  it('loads gateway.yaml and servers.d network sections with provenance and the proxy limits', async () => {
    const dir = await configDir({
      'gateway.yaml': 'network:\n  default: deny\n  deny: ["*.internal"]\n  maxConnections: 8\n  idleTimeout: 30s\n',
      'servers.d/a.yaml': 'command: node\nnetwork:\n  allow:\n    - api.github.com\n    - "10.0.0.0/8:443"\n',
    });
    const config = await loadConfig(dir);
    expect(config.network).toMatchObject({ default: 'deny', maxConnections: 8, idleTimeoutMs: 30_000, connectTimeoutMs: 10_000, deny: [{ rule: '*.internal', source: 'gateway.yaml', where: 'network.deny[0]', line: 3 }] });
    expect(config.servers[0]?.network?.allow[1]).toEqual({ rule: '10.0.0.0/8:443', source: 'servers.d/a.yaml', where: 'network.allow[1]', line: 5 });
  });

  it('names file, line and field of a malformed rule (the server is left out; a broken gateway.yaml stops the gateway)', async () => {
    const dir = await configDir({
      'servers.d/a.yaml': 'command: node\nnetwork:\n  allow:\n    - https://api.github.com/\n    - "10.0.0.1/8"\n  nope: 1\n',
      'servers.d/b.yaml': 'command: node\n',
    });
    const report = await loadConfigReport(dir);
    expect(report.config?.servers.map((s) => s.name)).toEqual(['b']);
    expect(report.problems.map(formatProblem)).toEqual([
      'servers.d/a.yaml:4: network.allow[0]: write a host (e.g. "api.github.com"), not a URL',
      'servers.d/a.yaml:5: network.allow[1]: "10.0.0.1/8": 10.0.0.1/8 has host bits set; write 10.0.0.0/8',
      'servers.d/a.yaml:6: network.nope: unknown field (see docs/config.md for the fields this file accepts)',
    ]);
    const broken = await configDir({ 'gateway.yaml': 'network:\n  deny: ["a b"]\n' });
    await expect(loadConfig(broken)).rejects.toThrow(/gateway\.yaml:2: network\.deny\[0\]: "a b" is not a host glob/);
  });
});

describe('managed network requirements', () => {
  it('refuse a user allow outside allowOnly with file:line (and drop it), warn about overridden rules and defaults', async () => {
    const dir = await configDir({
      'gateway.yaml': 'network:\n  allow: ["*.example.com"]\n',
      'servers.d/a.yaml': 'command: node\nnetwork:\n  default: allow\n  allow:\n    - api.github.com:443\n    - evil.org\n  ask: ["other.org"]\n',
      'requirements.yaml': 'network:\n  deny: ["api.github.com"]\n  allowOnly: ["*.github.com", "*.example.com"]\n',
    });
    const requirements = await loadRequirementsReport(join(dir, 'requirements.yaml'));
    expect(requirements.requirements?.network).toMatchObject({ deny: [{ rule: 'api.github.com', where: 'network.deny[0]', line: 2 }], allowOnly: [{ rule: '*.github.com' }, { rule: '*.example.com' }] });
    const config = applyRequirements(await loadConfig(dir), requirements.requirements);
    expect(config.servers[0]?.network?.allow.map((r) => r.rule)).toEqual(['api.github.com:443']);
    expect(config.network.allow.map((r) => r.rule)).toEqual(['*.example.com']);
    const problems = config.problems.map((p) => `${p.severity}: ${formatProblem(p)}`);
    const file = join(dir, 'requirements.yaml');
    expect(problems).toEqual([
      `warning: servers.d/a.yaml:5: network.allow[0]: managed: ${file} network.deny[0] (api.github.com) overrides this allow rule (api.github.com:443) for the destinations both name`,
      `error: servers.d/a.yaml:6: network.allow[1]: allow rule "evil.org" refused: it is outside the managed allow-list (${file} network.allowOnly: *.github.com, *.example.com); remove it or ask the administrator`,
      `warning: servers.d/a.yaml:7: network.ask[0]: ask rule "other.org" is outside the managed allow-list (${file} network.allowOnly: *.github.com, *.example.com): those destinations are denied, never asked`,
      `warning: servers.d/a.yaml: network.default: default allow applies only inside the managed allow-list (${file} network.allowOnly: *.github.com, *.example.com); other destinations are denied`,
    ]);
  });

  it('refuses a malformed managed rule (the file is fatal: fail closed)', async () => {
    const dir = await configDir({ 'requirements.yaml': 'network:\n  allowOnly: ["http://x"]\n' });
    const report = await loadRequirementsReport(join(dir, 'requirements.yaml'));
    expect(report.requirements).toBeUndefined();
    expect(report.problems.map(formatProblem)).toEqual([`${join(dir, 'requirements.yaml')}:2: network.allowOnly[0]: write a host (e.g. "x"), not a URL`]);
  });
});

describe('approved-rules file: network entries', () => {
  it('writes a network entry, matches it by server, destination and subject, keeps tool entries', async () => {
    const dir = await configDir({ 'approved.yaml': 'allow:\n  - { tool: a__b }\n' });
    const file = join(dir, 'approved.yaml');
    const rules = new AlwaysRules(file, dir, () => undefined);
    const host = (text: string) => parseHost(text) as Host;
    expect(await rules.allowsNetwork('s', host('api.example.com'), 443)).toBeUndefined();
    await rules.addNetwork({ destination: 'api.example.com:443', server: 's', approvedAt: 'now' });
    await rules.addNetwork({ destination: 'api.example.com:443', server: 's', approvedAt: 'later' }); // once only
    await rules.addNetwork({ destination: '[::1]:8080', server: 's', subject: 'alice' });
    expect(await rules.allowsNetwork('s', host('API.example.com'), 443)).toBe('approved.yaml network[0] (api.example.com:443)');
    expect(await rules.allowsNetwork('s', host('api.example.com'), 80)).toBeUndefined();
    expect(await rules.allowsNetwork('other', host('api.example.com'), 443)).toBeUndefined();
    expect(await rules.allowsNetwork('s', host('::1'), 8080)).toBeUndefined();
    expect(await rules.allowsNetwork('s', host('::1'), 8080, 'alice')).toBe('approved.yaml network[1] ([::1]:8080)');
    expect(await rules.allows('a__b')).toBe(true);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('network:\n  - destination: api.example.com:443\n    server: s\n    approvedAt: now\n');
    expect(text).not.toContain('later');
  });
});
