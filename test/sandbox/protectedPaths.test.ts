import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { gatewayFilesOf, protectedPaths, sessionPaths, type GatewayFiles } from '../../src/sandbox/protectedPaths.js';
import { configDir, removeConfigDirs } from '../support/configDir.js';
import { afterEach } from 'vitest';

afterEach(removeConfigDirs);

const FILES: GatewayFiles = {
  configDir: '/srv/mcpgate',
  auditFile: '/var/log/mcpgate/audit.log',
  adminDir: '/var/log/mcpgate/.mcpgate',
  rulesFile: '/srv/mcpgate/rules.d/approved.yaml',
  pinFile: '/var/log/mcpgate/mcpgate-pins.json',
  requirementsFile: '/etc/mcpgate/requirements.yaml',
  referencedFiles: ['/srv/keys/checkpoint.pem'],
};

describe('protectedPaths', () => {
  const paths = (session = sessionPaths({ HOME: '/home/gw' }, { HOME: '/home/srv' })) => protectedPaths(FILES, session).map((p) => p.path);

  it("holds mcpgate's own files: config, servers.d, audit log, admin dir, rules, pins, requirements, referenced files", () => {
    expect(paths()).toEqual(
      expect.arrayContaining([
        '/srv/mcpgate/gateway.yaml', '/srv/mcpgate/gateway.yml', '/srv/mcpgate/gateway.json', '/srv/mcpgate/servers.d',
        '/var/log/mcpgate/audit.log', '/var/log/mcpgate/.mcpgate', '/srv/mcpgate/rules.d/approved.yaml',
        '/var/log/mcpgate/mcpgate-pins.json', '/var/log/mcpgate/mcpgate-pins.json.lock', '/etc/mcpgate/requirements.yaml', '/srv/keys/checkpoint.pem',
      ]),
    );
  });

  it("holds the credential stores under the gateway user's HOME and the server's, and the keyrings", () => {
    for (const home of ['/home/gw', '/home/srv']) {
      expect(paths()).toEqual(expect.arrayContaining(['.ssh', '.aws', '.gnupg', '.config/gcloud', '.kube', '.docker', '.netrc', '.git-credentials', '.npmrc', '.pypirc', '.config/gh', '.azure', '.local/share/keyrings'].map((rel) => `${home}/${rel}`)));
    }
    expect(paths(sessionPaths({ HOME: '/h', XDG_CONFIG_HOME: '/cfg', XDG_DATA_HOME: '/data' }, {}))).toEqual(expect.arrayContaining(['/cfg/gcloud', '/data/keyrings', '/h/.config/gcloud']));
  });

  it('holds the session runtime dir, the session bus socket named by its address, the agent socket, and /run (keeping its program trees)', () => {
    const session = sessionPaths({ HOME: '/h', XDG_RUNTIME_DIR: '/run/user/1000', SSH_AUTH_SOCK: '/tmp/ssh-x/agent.1' }, { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/var/bus/socket,guid=abc' });
    expect(paths(session)).toEqual(expect.arrayContaining(['/run/user/1000', '/var/bus/socket', '/tmp/ssh-x/agent.1']));
    expect(protectedPaths(FILES, session).find((p) => p.path === '/run')?.keep).toContain('current-system');
    // an abstract socket has no path: the network namespace hides it
    expect(sessionPaths({ DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-x,guid=1' }, {}).sockets).toEqual([]);
  });
});

describe('gatewayFilesOf', () => {
  it('finds the files a loaded config keeps, and every ${file:} reference anywhere in it', async () => {
    const dir = await configDir({
      'gateway.yaml': 'audit:\n  file: logs/audit.log\n  checkpoint:\n    key: "${file:keys/audit.pem}"\n',
      'servers.d/a.yaml': 'command: node\nenv:\n  TOKEN: "${file:/etc/tokens/a}"\n',
      'servers.d/b.yaml': 'url: http://127.0.0.1:9/mcp\nheaders:\n  Authorization: "Bearer ${file:b.token}"\n',
    });
    const files = gatewayFilesOf(await loadConfig(dir));
    expect(files).toMatchObject({ configDir: dir, auditFile: `${dir}/logs/audit.log`, adminDir: `${dir}/logs/.mcpgate`, pinFile: `${dir}/logs/mcpgate-pins.json`, rulesFile: `${dir}/rules.d/approved.yaml` });
    expect([...files.referencedFiles].sort()).toEqual([`${dir}/b.token`, `${dir}/keys/audit.pem`, '/etc/tokens/a'].sort());
  });
});
