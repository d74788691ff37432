/**
 * `sandbox:` in gateway.yaml and servers.d (merged per field) and in the managed requirements
 * (a floor a user cannot loosen).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { formatProblem } from '../../src/config/types.js';
import { applyRequirements } from '../../src/requirements/apply.js';
import { loadRequirements, loadRequirementsReport } from '../../src/requirements/load.js';
import { configDir, removeConfigDirs } from '../support/configDir.js';

afterEach(removeConfigDirs);

describe('sandbox configuration', () => {
  it('defaults to mode auto with nothing but the built-in lists', async () => {
    const config = await loadConfig(await configDir({ 'servers.d/a.yaml': 'command: node\n', 'servers.d/r.yaml': 'url: http://127.0.0.1:9/mcp\n' }));
    expect(config.servers[0]?.sandbox).toEqual({ mode: 'auto', modeSource: 'default', denyRead: [], allowWrite: [] });
    expect(config.servers[1]?.sandbox).toBeUndefined(); // a remote server runs elsewhere
  });

  it('merges gateway.yaml under each server per field: mode and allowWrite overridden, denyRead lists added up', async () => {
    const dir = await configDir({
      'gateway.yaml': 'sandbox:\n  mode: required\n  filesystem:\n    denyRead: ["~/.config/app"]\n    allowWrite: ["./cache"]\n',
      'servers.d/plain.yaml': 'command: node\n',
      'servers.d/own.yaml': 'command: node\nsandbox:\n  mode: off\n  filesystem:\n    denyRead: ["/srv/secret"]\n    allowWrite: []\n',
    });
    const [own, plain] = (await loadConfig(dir)).servers;
    expect(plain?.sandbox).toEqual({ mode: 'required', modeSource: 'gateway.yaml sandbox.mode', denyRead: ['~/.config/app'], allowWrite: ['./cache'] });
    expect(own?.sandbox).toEqual({ mode: 'off', modeSource: 'servers.d/own.yaml sandbox.mode', denyRead: ['~/.config/app', '/srv/secret'], allowWrite: [] });
  });

  it('names file, line and field of a bad mode, a ~user path, an unknown key, and a sandbox on a url server', async () => {
    const dir = await configDir({
      'servers.d/a.yaml': 'command: node\nsandbox:\n  mode: strict\n',
      'servers.d/b.yaml': 'command: node\nsandbox:\n  filesystem:\n    allowWrite: ["~bob/x"]\n',
      'servers.d/c.yaml': 'command: node\nsandbox:\n  filesystem:\n    denyread: ["/x"]\n',
      'servers.d/d.yaml': 'url: http://127.0.0.1:9/mcp\nsandbox:\n  mode: required\n',
    });
    const problems = (await loadConfig(dir)).problems.map(formatProblem);
    expect(problems).toEqual([
      expect.stringMatching(/^servers\.d\/a\.yaml:3: sandbox\.mode: Invalid option: expected one of "off"\|"auto"\|"required"/),
      "servers.d/b.yaml:4: sandbox.filesystem.allowWrite[0]: write ~ or ~/path (the server's HOME); ~user is not supported",
      'servers.d/c.yaml:4: sandbox.filesystem.denyread: unknown field; did you mean \"denyRead\"? (docs/config.md lists the fields this file accepts)',
      'servers.d/d.yaml:3: sandbox: only stdio (command) upstreams run in a sandbox; a url/sse server runs elsewhere',
    ]);
  });
});

describe('managed sandbox requirements', () => {
  it('raise a looser mode, add denyRead paths to every stdio server, and say what they overrode', async () => {
    const dir = await configDir({
      'servers.d/off.yaml': 'command: node\nsandbox:\n  mode: off\n  filesystem:\n    denyRead: ["./own"]\n',
      'servers.d/strict.yaml': 'command: node\nsandbox:\n  mode: required\n',
      'servers.d/remote.yaml': 'url: http://127.0.0.1:9/mcp\n',
    });
    const file = join(dir, 'requirements.yaml');
    await writeFile(file, 'sandbox:\n  mode: required\n  denyRead: ["/etc/company", "~/.corp"]\n');
    const requirements = await loadRequirements(file);
    expect(requirements.sandbox).toEqual({ mode: 'required', denyRead: ['/etc/company', '~/.corp'] });
    const config = applyRequirements(await loadConfig(dir), requirements);
    const [off, remote, strict] = config.servers;
    expect(off?.sandbox).toEqual({ mode: 'required', modeSource: `managed: ${file} sandbox.mode`, denyRead: ['./own', '/etc/company', '~/.corp'], allowWrite: [] });
    expect(strict?.sandbox).toMatchObject({ mode: 'required', modeSource: 'servers.d/strict.yaml sandbox.mode' });
    expect(remote?.sandbox).toBeUndefined();
    expect(config.problems.map(formatProblem)).toEqual([
      `servers.d/off.yaml: sandbox.mode: off (servers.d/off.yaml sandbox.mode) raised to required by managed requirements (${file} sandbox.mode)`,
    ]);
  });

  it('accept only auto or required, and absolute or ~ paths', async () => {
    const dir = await configDir({});
    const file = join(dir, 'requirements.yaml');
    await writeFile(file, 'sandbox:\n  mode: off\n  denyRead: ["relative/path"]\n');
    const report = await loadRequirementsReport(file);
    expect(report.requirements).toBeUndefined();
    expect(report.problems.map((p) => `${p.line}: ${p.field}: ${p.message}`)).toEqual([
      expect.stringMatching(/^2: sandbox\.mode: Invalid option: expected one of "auto"\|"required"/),
      '3: sandbox.denyRead[0]: write an absolute path or ~/path',
    ]);
  });
});
