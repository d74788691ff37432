import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { formatProblem, type GatewayConfig, type ServerConfig } from '../../src/config/types.js';
import { applyRequirements } from '../../src/requirements/apply.js';
import { identityMatches } from '../../src/requirements/identity.js';
import type { ManagedRequirements } from '../../src/requirements/types.js';
import { makeConfig, type TempConfig } from '../support/gateway.js';

const FILE = '/etc/mcpgate/requirements.yaml';
const requirements = (extra: Partial<ManagedRequirements> = {}): ManagedRequirements => ({
  file: FILE,
  text: '',
  rules: { allow: [], ask: [], deny: [] },
  approval: {},
  audit: {},
  ...extra,
});

let temp: TempConfig;
let config: GatewayConfig;
beforeAll(async () => {
  temp = await makeConfig({
    gateway: { approval: { timeout: '10s' }, audit: { arguments: 'full' }, policy: { allow: ['*/get_*'] } },
    servers: {
      github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], tools: { allow: ['delete_branch'], default: 'allow' } },
      evil: { command: 'npx', args: ['-y', '@evil/server-github'] },
      remote: { url: 'https://mcp.example.com/mcp' },
      sneaky: { url: 'https://mcp.example.com.evil.io/mcp' },
    },
  });
  config = await loadConfig(temp.dir);
});
afterAll(() => temp.cleanup());

const serverNamed = (name: string) => config.servers.find((s) => s.name === name) as ServerConfig;

describe('applyRequirements', () => {
  it('returns the config unchanged without requirements', () => {
    expect(applyRequirements(config, undefined)).toBe(config);
    expect(config.approval).toMatchObject({ timeoutMs: 10_000, allowAlways: true });
  });

  it('keeps only servers whose identity is on the allow-list, with a problem naming the file and why', () => {
    const applied = applyRequirements(
      config,
      requirements({
        servers: [
          { kind: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], where: 'servers.allow[0]' },
          { kind: 'remote', url: 'https://mcp.example.com/*', where: 'servers.allow[1]' },
        ],
      }),
    );
    expect(applied.servers.map((s) => s.name).sort()).toEqual(['github', 'remote']);
    const problems = applied.problems.filter((p) => p.severity === 'error').map(formatProblem);
    expect(problems).toContain(
      `servers.d/evil.yaml: server "evil" refused: its identity (stdio: npx -y @evil/server-github (cwd ${temp.dir})) is not on the managed allow-list in ${FILE} (servers.allow); ask the administrator to allow this command or URL`,
    );
    expect(problems.some((p) => p.includes('"sneaky" refused: its identity (http: https://mcp.example.com.evil.io/mcp)'))).toBe(true);
    expect(Object.isFrozen(applied)).toBe(true);
  });

  it('raises approval.timeout to the managed minimum and forbids "always"', () => {
    const applied = applyRequirements(config, requirements({ approval: { minTimeoutMs: 30_000, allowAlways: false } }));
    expect(applied.approval).toMatchObject({ timeoutMs: 30_000, allowAlways: false });
    expect(applied.problems.map(formatProblem)).toContain(`gateway.yaml: approval.timeout: 10000 ms raised to the managed minimum 30000 ms (${FILE} approval.minTimeout)`);
    // a longer user timeout stays
    expect(applyRequirements(config, requirements({ approval: { minTimeoutMs: 5_000 } })).approval).toMatchObject({ timeoutMs: 10_000, allowAlways: true });
  });

  it('forces who may answer an ask: the queue everywhere (a user none stays none), no sampling reviewer; a command reviewer stays', () => {
    const withApproval = (approval: Partial<GatewayConfig['approval']>, channels: Record<string, 'auto' | 'elicitation' | 'queue' | 'none'>) =>
      ({ ...config, approval: { ...config.approval, ...approval }, servers: config.servers.map((s) => (channels[s.name] ? { ...s, approvalChannel: channels[s.name] } : s)) }) as GatewayConfig;
    const sampling = { kind: 'sampling', timeoutMs: 1000, recentCalls: 0 } as const;
    const applied = applyRequirements(withApproval({ channel: 'auto', autoReview: sampling }, { github: 'elicitation', evil: 'none' }), requirements({ approval: { channel: 'queue' } }));
    expect(applied.approval.channel).toBe('queue');
    expect(applied.approval.autoReview).toBeUndefined();
    expect(applied.servers.find((s) => s.name === 'github')?.approvalChannel).toBe('queue');
    expect(applied.servers.find((s) => s.name === 'evil')?.approvalChannel).toBe('none');
    expect(applied.servers.find((s) => s.name === 'remote')?.approvalChannel).toBeUndefined(); // follows the gateway's: queue
    expect(applied.problems.filter((p) => p.field === 'approval.channel').map((p) => p.file)).toEqual(['gateway.yaml', 'servers.d/github.yaml']);
    const command = { kind: 'command', command: ['review'], timeoutMs: 1000, recentCalls: 0 } as const;
    expect(applyRequirements(withApproval({ channel: 'none', autoReview: command }, {}), requirements({ approval: { channel: 'queue' } })).approval).toMatchObject({ channel: 'none', autoReview: command });
    expect(applyRequirements(withApproval({ channel: 'queue' }, { github: 'auto' }), requirements({ approval: { channel: 'none' } })).servers.find((s) => s.name === 'github')?.approvalChannel).toBe('none');
  });

  it('forces audit settings over the user ones', () => {
    const applied = applyRequirements(config, requirements({ audit: { file: '/var/log/mcpgate/audit.log', arguments: 'hash', fsync: 'always' } }));
    expect(applied.audit).toMatchObject({ file: '/var/log/mcpgate/audit.log', arguments: 'hash', maxArgumentBytes: 4096, fsync: 'always' });
    expect(applied.problems.map(formatProblem).join('\n')).toContain('audit.arguments: forced to hash by managed requirements');
    expect(applied.problems.map(formatProblem).join('\n')).toContain('audit.fsync: forced to always by managed requirements');
  });

  it('warns about each user allow rule and allow default a managed rule overrides', () => {
    const applied = applyRequirements(
      config,
      requirements({ rules: { allow: [], ask: [{ rule: '*/get_*', source: FILE, where: 'rules[1]' }], deny: [{ rule: 'github/delete_*', source: FILE, where: 'rules[0]' }] } }),
    );
    const warnings = applied.problems.filter((p) => p.severity === 'warning').map(formatProblem);
    expect(warnings).toContainEqual(expect.stringMatching(/^servers\.d\/github\.yaml:\d+: tools\.allow\[0\]: managed: \/etc\/mcpgate\/requirements\.yaml rules\[0\] \(github\/delete_\*: deny\) overrides this allow rule \(delete_branch\)/));
    expect(warnings).toContainEqual(expect.stringContaining('servers.d/github.yaml: tools.default: managed: /etc/mcpgate/requirements.yaml rules[0]'));
    expect(warnings).toContainEqual(expect.stringMatching(/^gateway\.yaml:\d+: policy\.allow\[0\]: managed: \S+ rules\[1\] \(\*\/get_\*: ask\) overrides this allow rule \(\*\/get_\*\)/));
    expect(warnings.some((w) => w.includes('evil.yaml'))).toBe(false); // evil has no allow rules
    expect(applied.requirements?.file).toBe(FILE);
  });
});

describe('server identity', () => {
  it('matches command and args globs; a final ** accepts further arguments; no args pattern accepts any', () => {
    const github = serverNamed('github');
    expect(identityMatches(github, { kind: 'stdio', command: 'npx', where: '' })).toBe(true);
    expect(identityMatches(github, { kind: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/*'], where: '' })).toBe(true);
    expect(identityMatches(github, { kind: 'stdio', command: 'npx', args: ['-y'], where: '' })).toBe(false);
    expect(identityMatches(github, { kind: 'stdio', command: 'npx', args: ['-y', '**'], where: '' })).toBe(true);
    expect(identityMatches(github, { kind: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github', 'extra'], where: '' })).toBe(false);
    expect(identityMatches(github, { kind: 'stdio', command: 'node', where: '' })).toBe(false);
    expect(identityMatches(github, { kind: 'remote', url: '*', where: '' })).toBe(false);
    expect(identityMatches(serverNamed('remote'), { kind: 'remote', url: 'https://mcp.example.com/*', where: '' })).toBe(true);
    expect(identityMatches(serverNamed('remote'), { kind: 'stdio', command: '*', where: '' })).toBe(false);
  });

  it('matches a URL pattern on the host actually connected to: a host glob cannot be satisfied from the path, and a reference cannot choose the host', () => {
    const remote = (url: string) => ({ ...serverNamed('remote'), target: { kind: 'http', url, headers: {} } }) as unknown as ServerConfig;
    const wildcard = { kind: 'remote', url: 'https://*.example.com/*', where: '' } as const;
    expect(identityMatches(remote('https://mcp.example.com/mcp'), wildcard)).toBe(true);
    expect(identityMatches(remote('https://mcp.example.com/${env:MCP_PATH}'), wildcard)).toBe(true); // a path reference keeps the host
    // the text matches the glob, but the gateway would connect to evil.io
    expect(identityMatches(remote('https://evil.io/x.example.com/mcp'), wildcard)).toBe(false);
    expect(identityMatches(remote('https://evil.io?.example.com/mcp'), wildcard)).toBe(false);
    expect(identityMatches(remote('https://evil.io#.example.com/mcp'), wildcard)).toBe(false);
    expect(identityMatches(remote('https://evil.io\\.example.com/mcp'), wildcard)).toBe(false);
    expect(identityMatches(remote('https://a.example.com:x@evil.io/.example.com/mcp'), wildcard)).toBe(false);
    // references before the path are resolved at start: `${env:U}` = "x@evil.io/" would move the host
    expect(identityMatches(remote('https://${env:U}@mcp.example.com/mcp'), wildcard)).toBe(false);
    expect(identityMatches(remote('https://${env:H}.example.com/mcp'), wildcard)).toBe(false);
    expect(identityMatches(remote('http://mcp.example.com/mcp'), wildcard)).toBe(false);
    // a pattern naming no host accepts any URL text, references included (documented)
    expect(identityMatches(remote('${env:URL}'), { kind: 'remote', url: '*', where: '' })).toBe(true);
  });

  it('a command or argument glob admits no ".." path segment and no reference it does not write', () => {
    const stdio = (command: string, args: string[]) => ({ ...serverNamed('github'), target: { kind: 'stdio', command, args, env: {}, cwd: '/' } }) as unknown as ServerConfig;
    const scripts = { kind: 'stdio', command: 'node', args: ['/opt/mcp/*.js', '**'], where: '' } as const;
    expect(identityMatches(stdio('node', ['/opt/mcp/echo.js', '--verbose']), scripts)).toBe(true);
    expect(identityMatches(stdio('node', ['/opt/mcp/../../home/u/evil.js']), scripts)).toBe(false);
    expect(identityMatches(stdio('node', ['/opt/mcp/..\\..\\evil.js']), scripts)).toBe(false);
    // resolved at start: ${env:X} = "../../home/u/evil" would run another script
    expect(identityMatches(stdio('node', ['/opt/mcp/${env:X}.js']), scripts)).toBe(false);
    expect(identityMatches(stdio('/opt/mcp/../../tmp/evil', []), { kind: 'stdio', command: '/opt/mcp/*', where: '' })).toBe(false);
    expect(identityMatches(stdio('/opt/mcp/server', []), { kind: 'stdio', command: '/opt/mcp/*', where: '' })).toBe(true);
    // a glob that accepts any text, or writes the reference, still admits it
    const token = { kind: 'stdio', command: 'npx', args: ['server', '--token', '*'], where: '' } as const;
    expect(identityMatches(stdio('npx', ['server', '--token', '${secret:tok}']), token)).toBe(true);
    expect(identityMatches(stdio('npx', ['server', '--token=${secret:tok}']), { kind: 'stdio', command: 'npx', args: ['server', '--token=${secret:*}'], where: '' })).toBe(true);
    expect(identityMatches(stdio('npx', ['server', '--token=${secret:tok}']), { kind: 'stdio', command: 'npx', args: ['server', '--token=*'], where: '' })).toBe(false);
  });

  it('admits only the env variables an entry lists, and a loader variable only when the entry names it exactly', () => {
    const withEnv = (env: Record<string, string>, command = 'npx') => {
      const github = serverNamed('github');
      return { ...github, target: { ...github.target, command, env }, lines: Object.fromEntries(Object.keys(env).map((key, i) => [`env.${key}`, 10 + i])) } as ServerConfig;
    };
    const admittedWith = (server: ServerConfig, env?: { name: string; value?: string }[]) => {
      const allowList = requirements({ servers: [{ kind: 'stdio', command: '*', ...(env ? { env } : {}), where: 'servers.allow[0]' }] });
      const applied = applyRequirements({ ...config, servers: [server] }, allowList);
      return { admitted: applied.servers.length === 1, errors: applied.problems.filter((p) => p.severity === 'error').map(formatProblem) };
    };
    // no env list: no variable at all
    const none = admittedWith(withEnv({ GITHUB_TOKEN: '${secret:gh}' }));
    expect(none.admitted).toBe(false);
    expect(none.errors).toEqual([
      expect.stringContaining('servers.d/github.yaml:10: env.GITHUB_TOKEN: server "github" refused: its env sets what servers.allow[0] does not allow (env: none): GITHUB_TOKEN is not a variable it lists'),
    ]);
    expect(admittedWith(withEnv({})).admitted).toBe(true);
    // listed names (globs) with any value, or a value glob as written
    const listed = [{ name: 'GITHUB_TOKEN' }, { name: 'LOG_*' }, { name: 'MODE', value: 'read-*' }];
    expect(admittedWith(withEnv({ GITHUB_TOKEN: '${secret:gh}', LOG_LEVEL: 'debug', MODE: 'read-only' }), listed).admitted).toBe(true);
    const value = admittedWith(withEnv({ MODE: 'write' }), listed);
    expect(value.errors).toEqual([expect.stringContaining('env.MODE: server "github" refused: its env sets what servers.allow[0] does not allow (env: GITHUB_TOKEN, LOG_*, MODE=read-*): the value of MODE is not one it accepts (MODE: read-*)')]);
    // a reference is resolved only at start: only a value glob that accepts anything admits it
    expect(admittedWith(withEnv({ MODE: 'read-${env:X}' }), listed).admitted).toBe(false);
    // loader variables: never through a glob, even `*`; the exact name admits it
    for (const key of ['HOME', 'NODE_OPTIONS', 'LD_PRELOAD', 'PATH', 'npm_config_registry', 'PYTHONPATH', 'PYTHONUSERBASE', 'DYLD_INSERT_LIBRARIES', 'XDG_CONFIG_HOME', 'BASH_ENV', 'GIT_SSH_COMMAND', 'JAVA_TOOL_OPTIONS', 'PERL5OPT', 'RUBYOPT', 'OPENSSL_CONF']) {
      const result = admittedWith(withEnv({ [key]: '/tmp/x' }, '/usr/bin/npx'), [{ name: '*' }, { name: `${key.slice(0, 2)}*` }]);
      expect(result.admitted, key).toBe(false);
      expect(result.errors, key).toContainEqual(expect.stringContaining(`servers.d/github.yaml:10: env.${key}: server "github" refused: its env sets what servers.allow[0] does not allow (env: *, ${key.slice(0, 2)}*): ${key} changes `));
      expect(admittedWith(withEnv({ [key]: '/tmp/x' }), [{ name: key }]).admitted, key).toBe(true);
      expect(admittedWith(withEnv({ [key]: '/tmp/x' }), [{ name: key, value: '/opt/*' }]).admitted, key).toBe(false);
    }
    // every refused variable is named, the first one is the field
    const two = admittedWith(withEnv({ HOME: '/tmp/h', FOO: '1' }), [{ name: 'BAR' }]);
    expect(two.errors).toEqual([expect.stringMatching(/env\.HOME: .*HOME changes the home and config directories .*; FOO is not a variable it lists; its identity \(stdio: npx -y @modelcontextprotocol\/server-github \(cwd [^;]*; env HOME, FOO\)\)/)]);
    // without an allow-list nothing is refused
    expect(applyRequirements({ ...config, servers: [withEnv({ NODE_OPTIONS: '--require /tmp/x.js' })] }, requirements()).servers).toHaveLength(1);
  });
});

