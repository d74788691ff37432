/**
 * Loading a configuration directory: YAML and JSON, every problem with file, line and field,
 * one broken file never taking the others out, a broken gateway.yaml stopping the gateway.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configDir, removeConfigDirs } from '../support/configDir.js';
import { loadConfig, loadConfigReport } from '../../src/config/load.js';
import { fieldName } from '../../src/config/parse.js';
import { formatProblem } from '../../src/config/types.js';
import { ErrorCodes, GatewayError } from '../../src/errors.js';

afterEach(removeConfigDirs);

describe('loadConfig', () => {
  it('loads YAML and JSON server files and normalises them', async () => {
    const dir = await configDir({
      'servers.d/a.yaml': 'command: node\nargs: ["x.js"]\ntimeout: 2s\nstartupTimeout: 500ms\nconcurrency: 3\nprefix: aa\ntools:\n  default: allow\n  deny: ["rm_*"]\n',
      'servers.d/b.json': '{ "url": "http://127.0.0.1:9/mcp", "headers": { "X-Key": "${env:KEY}" } }',
      'servers.d/c.yml': 'sse: http://127.0.0.1:9/sse\nenabled: false\n',
      'servers.d/README.md': 'not a server',
    });
    const config = await loadConfig(dir);
    expect(config.problems).toEqual([]);
    expect(config.servers.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    const [a, b, c] = config.servers;
    expect(a).toMatchObject({ timeoutMs: 2000, startupTimeoutMs: 500, concurrency: 3, prefix: 'aa', file: 'servers.d/a.yaml' });
    expect(a?.target).toMatchObject({ kind: 'stdio', command: 'node', args: ['x.js'], cwd: dir });
    expect(a?.tools.deny[0]).toMatchObject({ rule: 'rm_*', source: 'servers.d/a.yaml', where: 'tools.deny[0]', line: 9 });
    expect(a?.tools.defaultSource).toEqual({ source: 'servers.d/a.yaml', where: 'tools.default' });
    expect(b?.target).toMatchObject({ kind: 'http', url: 'http://127.0.0.1:9/mcp', headers: { 'X-Key': '${env:KEY}' } });
    expect(b?.prefix).toBe('b');
    expect(c).toMatchObject({ enabled: false, target: { kind: 'sse' } });
    expect(config.audit.file).toBe(join(dir, 'mcpgate-audit.log'));
    expect(Object.isFrozen(config.servers[0]?.target)).toBe(true);
  });

  it('names file and line of a YAML syntax error and keeps the other servers', async () => {
    const dir = await configDir({
      'servers.d/good.yaml': 'command: node\n',
      'servers.d/broken.yaml': 'command: node\nargs: ["x"]\ntools: { default: allow\n',
    });
    const config = await loadConfig(dir);
    expect(config.servers.map((s) => s.name)).toEqual(['good']);
    expect(config.problems).toHaveLength(1);
    expect(config.problems[0]).toMatchObject({ file: 'servers.d/broken.yaml', server: 'broken', severity: 'error' });
    expect(config.problems[0]?.line).toBeGreaterThanOrEqual(3);
    expect(config.problems[0]?.message).toMatch(/syntax error/);
  });

  it('names file, line and field of a wrong type and of an unknown key', async () => {
    const dir = await configDir({
      'servers.d/x.yaml': 'description: d\ncommand: node\nargs: []\nconcurrency: "lots"\ntools:\n  allow: ["a"]\n  alow: ["b"]\n',
    });
    const { problems } = await loadConfigReport(dir);
    const lines = problems.map(formatProblem);
    expect(lines).toContain('servers.d/x.yaml:4: concurrency: Invalid input: expected number, received string');
    expect(lines.some((l) => l.startsWith('servers.d/x.yaml:7: tools.alow: unknown field'))).toBe(true);
  });

  it('requires exactly one of command, url and sse', async () => {
    const dir = await configDir({ 'servers.d/none.yaml': 'description: nothing to run\n', 'servers.d/two.yaml': 'command: node\nurl: http://127.0.0.1:1/mcp\n' });
    const { config } = await loadConfigReport(dir);
    expect(config?.servers).toEqual([]);
    expect(config?.problems.map((p) => p.server).sort()).toEqual(['none', 'two']);
    expect(config?.problems.every((p) => /exactly one of command/.test(p.message))).toBe(true);
  });

  it('rejects bad server names, duplicate stems, malformed references and bad regexes', async () => {
    const dir = await configDir({
      'servers.d/Bad Name.yaml': 'command: node\n',
      'servers.d/dup.json': '{"command": "node"}',
      'servers.d/dup.yaml': 'command: node\n',
      'servers.d/refs.yaml': 'command: node\nenv:\n  A: "${vault:x}"\n  B: "${env:}"\n  C: "${env:UNCLOSED"\n',
      'servers.d/re.yaml': 'command: node\ntools:\n  deny:\n    - { tool: x, args: { path: "/[a-/" } }\n',
    });
    const { config } = await loadConfigReport(dir);
    const text = config?.problems.map(formatProblem).join('\n') ?? '';
    expect(text).toMatch(/servers\.d\/Bad Name\.yaml: server name "Bad Name"/);
    expect(text).toMatch(/servers\.d\/dup\.yaml: server "dup" is already defined by servers\.d\/dup\.json/);
    expect(text).toMatch(/servers\.d\/refs\.yaml:3: env\.A: unknown reference \$\{vault:x\}/);
    expect(text).toMatch(/servers\.d\/refs\.yaml:4: env\.B: empty reference/);
    expect(text).toMatch(/servers\.d\/refs\.yaml:5: env\.C: unterminated reference/);
    expect(text).toMatch(/servers\.d\/re\.yaml:4: tools\.deny\[0\]\.args\.path: invalid regular expression/);
    expect(config?.servers.map((s) => s.name)).toEqual(['dup']);
  });

  it('refuses a broken gateway.yaml with file:line: field, and global rules without server/', async () => {
    const dir = await configDir({ 'gateway.yaml': 'policy:\n  default: maybe\n', 'servers.d/a.yaml': 'command: node\n' });
    const error = await loadConfig(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe(ErrorCodes.CONFIG_INVALID);
    expect((error as GatewayError).message).toMatch(/gateway\.yaml:2: policy\.default: /);

    const dir2 = await configDir({ 'gateway.yaml': 'policy:\n  allow: ["github/get_*"]\n  deny:\n    - "delete_*"\n' });
    await expect(loadConfig(dir2)).rejects.toThrow(/gateway\.yaml:4: policy\.deny\[0\]: global rules name "server\/tool"/);
  });

  it('reports a missing directory', async () => {
    await expect(loadConfig(join(tmpdir(), 'mcpgate-does-not-exist'))).rejects.toMatchObject({ code: ErrorCodes.CONFIG_NOT_FOUND });
  });

  it('warns (and still serves) when ${secret:} is passed on the command line, which other local users can read', async () => {
    const dir = await configDir({
      'servers.d/argv.yaml': 'command: node\nargs:\n  - server.js\n  - --token\n  - ${secret:api-token}\nenv:\n  OTHER: ${secret:in-env}\n',
    });
    const config = await loadConfig(dir);
    expect(config.servers.map((s) => s.name)).toEqual(['argv']);
    expect(config.problems.map(formatProblem)).toEqual([
      "servers.d/argv.yaml:5: args[2]: ${secret:api-token} puts the value on the upstream's command line, which other local users can read (ps, /proc/PID/cmdline); pass it in env instead if the server can read it from there",
    ]);
    expect(config.problems[0]?.severity).toBe('warning');
  });

  it('formats field paths', () => {
    expect(fieldName(['tools', 'deny', 1, 'args', 'options.branch'])).toBe('tools.deny[1].args.options.branch');
  });
});
