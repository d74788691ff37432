/**
 * The managed allow-list's identity rules for where relative paths point (a stdio server's cwd)
 * and for what can move a URL's path (references, dot segments, encoded dots), on configurations
 * loaded from real servers.d files so that cwd is resolved exactly as the gateway spawns it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { formatProblem, type GatewayConfig, type ServerConfig } from '../../src/config/types.js';
import { applyRequirements } from '../../src/requirements/apply.js';
import { checkIdentity, identityMatches } from '../../src/requirements/identity.js';
import type { ManagedRequirements, ServerIdentityPattern } from '../../src/requirements/types.js';
import { makeConfig, type TempConfig } from '../support/gateway.js';

const FILE = '/etc/mcpgate/requirements.yaml';

let temp: TempConfig;
let config: GatewayConfig;
beforeAll(async () => {
  temp = await makeConfig({
    servers: {
      evilcwd: { command: 'node', args: ['server.js'], cwd: '/home/user/evil' },
      srvcwd: { command: 'node', args: ['server.js'], cwd: '/srv/mcp' },
      nocwd: { command: 'node', args: ['dist/index.js', 'stdio'] },
      relcwd: { command: 'node', args: ['./server.js'], cwd: 'sub/../srv' },
      refcwd: { command: 'node', args: ['server.js'], cwd: '${env:X}' },
      absolute: { command: 'node', args: ['/opt/mcp/server.js', '--verbose'], cwd: '/home/user/evil' },
      localbin: { command: './bin/server', args: ['stdio'], cwd: '/home/user/evil' },
      flagpath: { command: 'node', args: ['/opt/mcp/server.js', '--config=./mcp.json'], cwd: '/home/user/evil' },
    },
  });
  config = await loadConfig(temp.dir);
});
afterAll(() => temp.cleanup());

const server = (name: string) => config.servers.find((s) => s.name === name) as ServerConfig;
const stdio = (command: string, args: string[], cwd?: string): ServerIdentityPattern => ({ kind: 'stdio', command, args, ...(cwd === undefined ? {} : { cwd }), where: 'servers.allow[0]' });
const refusals = (servers: ServerConfig[], allow: ServerIdentityPattern[]) => {
  const requirements: ManagedRequirements = { file: FILE, text: '', rules: { allow: [], ask: [], deny: [] }, servers: allow, approval: {}, audit: {} };
  const applied = applyRequirements({ ...config, servers }, requirements);
  return { admitted: applied.servers.map((s) => s.name), errors: applied.problems.filter((p) => p.severity === 'error').map(formatProblem) };
};

describe('stdio identity: where relative paths point', () => {
  it('the loaded cwd is absolute: as written, resolved against the config dir, or the config dir itself when absent', () => {
    expect(server('evilcwd').target).toMatchObject({ cwd: '/home/user/evil' });
    expect(server('relcwd').target).toMatchObject({ cwd: `${temp.dir}/srv` });
    expect(server('nocwd').target).toMatchObject({ cwd: temp.dir });
    expect(server('localbin').target).toMatchObject({ command: `${temp.dir}/bin/server` });
  });

  it('a relative argument matches only an entry that gives a cwd glob accepting the server cwd', () => {
    const noCwd = stdio('node', ['server.js']);
    expect(identityMatches(server('evilcwd'), noCwd)).toBe(false);
    expect(checkIdentity(server('evilcwd'), noCwd)).toEqual({
      matches: false,
      part: 'args[0]',
      reason: 'its argument args[0] "server.js" is a relative path, resolved against its cwd /home/user/evil, and servers.allow[0] gives no cwd glob to accept that directory',
    });
    expect(identityMatches(server('srvcwd'), stdio('node', ['server.js'], '/srv/mcp'))).toBe(true);
    expect(identityMatches(server('srvcwd'), stdio('node', ['server.js'], '/srv/*'))).toBe(true);
    expect(checkIdentity(server('evilcwd'), stdio('node', ['server.js'], '/srv/*'))).toEqual({
      matches: false,
      part: 'cwd',
      reason: 'its cwd /home/user/evil is not one servers.allow[0] accepts (cwd: /srv/*)',
    });
    // `./x` relative to a cwd written relative to the config dir
    expect(identityMatches(server('relcwd'), stdio('node', ['./server.js'], `${temp.dir}/srv`))).toBe(true);
    // an option's value is a path too
    expect(identityMatches(server('flagpath'), stdio('node', ['/opt/mcp/*.js', '**']))).toBe(false);
    expect(identityMatches(server('flagpath'), stdio('node', ['/opt/mcp/*.js', '**'], '/home/user/*'))).toBe(true);
  });

  it('a server without cwd runs in the config dir: its relative paths need a cwd glob accepting that directory', () => {
    const args = ['dist/*.js', 'stdio'];
    expect(checkIdentity(server('nocwd'), stdio('node', args))).toMatchObject({ matches: false, part: 'args[0]' });
    expect(identityMatches(server('nocwd'), stdio('node', args, temp.dir))).toBe(true);
    expect(identityMatches(server('nocwd'), stdio('node', args, '/srv/mcp'))).toBe(false);
  });

  it('absolute command and arguments need no cwd; a cwd the entry gives is checked anyway', () => {
    expect(identityMatches(server('absolute'), stdio('node', ['/opt/mcp/*.js', '**']))).toBe(true);
    expect(identityMatches(server('absolute'), stdio('node', ['/opt/mcp/*.js', '**'], '/srv/*'))).toBe(false);
    expect(identityMatches(server('absolute'), stdio('node', ['/opt/mcp/*.js', '**'], '/home/user/*'))).toBe(true);
    // `./bin/server` was made absolute against the config dir at load: cwd does not choose it
    expect(identityMatches(server('localbin'), stdio(`${temp.dir}/bin/*`, ['stdio']))).toBe(true);
  });

  it('a cwd glob admits no ".." segment and no reference it does not write', () => {
    const evil = (cwd: string) => ({ ...server('srvcwd'), target: { ...server('srvcwd').target, cwd } }) as ServerConfig;
    expect(identityMatches(evil('/srv/mcp/../../home/evil'), stdio('node', ['server.js'], '/srv/mcp/*'))).toBe(false);
    expect(identityMatches(evil('/srv/mcp/../../home/evil'), stdio('node', ['server.js'], '/srv/mcp/../*'))).toBe(true);
    // references are not resolved in cwd, but one must still be written by the glob (or `*`)
    const refcwd = server('refcwd');
    expect(refcwd.target).toMatchObject({ cwd: `${temp.dir}/\${env:X}` });
    expect(identityMatches(refcwd, stdio('node', ['server.js'], `${temp.dir}/*`))).toBe(false);
    expect(identityMatches(refcwd, stdio('node', ['server.js'], `${temp.dir}/\${env:*}`))).toBe(true);
    expect(identityMatches(refcwd, stdio('node', ['server.js'], '*'))).toBe(true);
  });

  it('the refusal names the file, the server, the field and why; the allowed server is kept', () => {
    const { admitted, errors } = refusals([server('evilcwd'), server('srvcwd')], [stdio('node', ['server.js'], '/srv/mcp')]);
    expect(admitted).toEqual(['srvcwd']);
    expect(errors).toEqual([
      `servers.d/evilcwd.yaml:4: cwd: server "evilcwd" refused: its cwd /home/user/evil is not one servers.allow[0] accepts (cwd: /srv/mcp); its identity (stdio: node server.js (cwd /home/user/evil)) is not on the managed allow-list in ${FILE} (servers.allow); use an absolute path or a cwd the allow-list accepts, or ask the administrator`,
    ]);
    const noCwd = refusals([server('evilcwd')], [stdio('node', ['server.js'])]);
    expect(noCwd.errors).toEqual([expect.stringContaining('servers.d/evilcwd.yaml:3: args[0]: server "evilcwd" refused: its argument args[0] "server.js" is a relative path, resolved against its cwd /home/user/evil')]);
  });
});

describe('remote identity: what can move a URL path', () => {
  const remote = (url: string, kind: 'http' | 'sse' = 'http') => ({ ...server('absolute'), name: 'api', file: 'servers.d/api.yaml', target: { kind, url, headers: {} } }) as ServerConfig;
  const url = (pattern: string): ServerIdentityPattern => ({ kind: 'remote', url: pattern, where: 'servers.allow[0]' });
  const v1 = url('https://api.example.com/v1/*');

  it('a plain path under the pattern matches', () => {
    expect(identityMatches(remote('https://api.example.com/v1/tools'), v1)).toBe(true);
    expect(identityMatches(remote('https://api.example.com/v1/file.json?x=1'), v1)).toBe(true);
    expect(identityMatches(remote('https://api.example.com/v1/..hidden'), v1)).toBe(true); // not a segment
  });

  it.each([
    ['https://api.example.com/v1/${env:X}', 'a ${…} reference (resolved only at start)'],
    ['https://api.example.com/v1/x?to=${env:X}', 'a ${…} reference (resolved only at start)'],
    ['https://api.example.com/v1/../admin', 'a ".." segment'],
    ['https://api.example.com/v1/..', 'a ".." segment'],
    ['https://api.example.com/v1/..\\admin', 'a ".." segment'],
    ['https://api.example.com/v1/..%2fadmin', 'a ".." segment'],
    ['https://api.example.com/v1/x?path=../admin', 'a ".." segment'],
    ['https://api.example.com/v1/./x', 'a "." segment'],
    ['https://api.example.com/v1/%2e%2e/admin', 'a percent-encoded dot (%2e)'],
    ['https://api.example.com/v1/%2E%2E/admin', 'a percent-encoded dot (%2e)'],
    ['https://api.example.com/v1/.%2e/admin', 'a percent-encoded dot (%2e)'],
    ['https://api.example.com/v1/%252e%252e/admin', 'a percent-encoded dot (%2e)'],
  ])('%s matches only a pattern that writes it or accepts any path', (value, why) => {
    expect(checkIdentity(remote(value), v1)).toEqual({
      matches: false,
      part: 'url',
      reason: `its URL path holds ${why}, which can move it off the path servers.allow[0] names (https://api.example.com/v1/*); an entry accepts that only by writing it or by accepting any path after the host (/*)`,
    });
    for (const any of ['https://api.example.com/*', 'https://api.example.com/**', 'https://api.example.com*', '*']) {
      expect(identityMatches(remote(value), url(any)), any).toBe(true);
    }
  });

  it.each([
    ['https://api.example.com/v1/.\t./admin', 'a ".." segment'],
    ['https://api.example.com/v1/.\n./admin', 'a ".." segment'],
    ['https://api.example.com/v1/\r../admin', 'a ".." segment'],
  ])('%j: a tab or line break the URL parser removes does not hide a dot segment', (value, why) => {
    // The gateway connects to what new URL() makes of it: the parser drops tabs and line breaks.
    expect(new URL(value).pathname).not.toMatch(/^\/v1\//);
    expect(checkIdentity(remote(value), v1)).toMatchObject({ matches: false, part: 'url', reason: expect.stringContaining(`its URL path holds ${why}`) });
    expect(identityMatches(remote(value), url('https://api.example.com/*'))).toBe(true);
  });

  it('a pattern that writes the reference or the segment admits it', () => {
    expect(identityMatches(remote('https://api.example.com/v1/${env:X}'), url('https://api.example.com/v1/${env:*}'))).toBe(true);
    expect(identityMatches(remote('https://api.example.com/v1/../admin'), url('https://api.example.com/v1/../*'))).toBe(true);
    expect(identityMatches(remote('https://api.example.com/v1/%2e%2e/admin'), url('https://api.example.com/v1/%2e%2e/*'))).toBe(true);
    // writing one thing does not admit another
    expect(identityMatches(remote('https://api.example.com/v1/${env:X}/../a'), url('https://api.example.com/v1/${env:*}'))).toBe(false);
  });

  it('the existing host checks still apply before the path ones', () => {
    expect(checkIdentity(remote('https://evil.io/api.example.com/v1/x'), url('https://*api.example.com/v1/*'))).toEqual({ matches: false });
    expect(checkIdentity(remote('https://${env:H}/v1/x'), url('https://*/v1/*'))).toEqual({ matches: false });
  });

  it('the refusal names the file, the server and the url or sse field', () => {
    const { admitted, errors } = refusals([remote('https://api.example.com/v1/${env:X}', 'sse'), remote('https://api.example.com/v1/mcp')], [v1]);
    expect(admitted).toEqual(['api']);
    expect(errors).toEqual([
      `servers.d/api.yaml: sse: server "api" refused: its URL path holds a \${…} reference (resolved only at start), which can move it off the path servers.allow[0] names (https://api.example.com/v1/*); an entry accepts that only by writing it or by accepting any path after the host (/*); its identity (sse: https://api.example.com/v1/$%7Benv:X%7D) is not on the managed allow-list in ${FILE} (servers.allow); write the URL without it, or ask the administrator`,
    ]);
  });
});
