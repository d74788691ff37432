/**
 * Argument rules against an agent trying to get around them, through a real gateway in front of a
 * fixture upstream that records every call it receives: path tricks, arrays, numbers, booleans,
 * objects, null and NUL against deny rules; inputSchema validation. Each case is checked on the
 * call's result, on its audit record, and on what the upstream got.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, runMcpgate, startStdioGateway, textOf, waitForAudit, type AuditRecord, type TempConfig } from '../support/gateway.js';

let tag = 0;

describe('argument rules against evasion', () => {
  let config: TempConfig;
  let client: Client;
  let close: () => Promise<void>;
  const received = (server: string) => join(config.dir, `${server}.jsonl`);

  beforeAll(async () => {
    config = await makeConfig({
      // the recorder writes what it receives into the test's temp dir: policy is under test here, not confinement
      gateway: { approval: { channel: 'none' }, sandbox: { mode: 'off' } },
      servers: {
        fs: fixtureServer('recorder', {
          env: { RECORD_FILE: '${env:RECORD_DIR}/fs.jsonl' },
          tools: {
            default: 'allow',
            deny: [
              { tool: 'write_file', args: { path: { path: '/etc/**' } }, reason: 'system files' },
              { tool: 'run', args: { command: '/\\brm\\s+-rf\\b/' }, reason: 'no rm -rf' },
              { tool: 'push', args: { force: 'true' }, reason: 'no force pushes' },
              { tool: 'read_files', args: { paths: { path: '**/.ssh/**' } }, reason: 'no keys' },
            ],
          },
        }),
        // the plain form, as written before the path form existed
        plain: fixtureServer('recorder', {
          env: { RECORD_FILE: '${env:RECORD_DIR}/plain.jsonl' },
          tools: { default: 'allow', deny: [{ tool: 'write_file', args: { path: '/etc/*' }, reason: 'system files' }] },
        }),
        loose: fixtureServer('recorder', { env: { RECORD_FILE: '${env:RECORD_DIR}/loose.jsonl' }, validateArguments: false, tools: { default: 'allow' } }),
      },
    });
    const gateway = await startStdioGateway(config.dir, {}, { RECORD_DIR: config.dir });
    client = gateway.client;
    close = gateway.close;
  });

  afterAll(async () => {
    await close?.();
    await config?.cleanup();
  });

  /** Calls a tool (tagged so its records can be found) and returns its result, decision record and whether the upstream got it. */
  async function attempt(name: string, args: Record<string, unknown>) {
    const id = `t${tag++}`;
    const result = await client.callTool({ name, arguments: { ...args, tag: id } });
    const records = await waitForAudit(config.auditFile, (rs) => {
      const decision = rs.find((r) => r.event === 'mcpgate.tool.decision' && (r.arguments as Record<string, unknown> | undefined)?.tag === id);
      return decision !== undefined && (decision.decision !== 'allow' || rs.some((r) => r.event === 'mcpgate.tool.result' && r.call === decision.call));
    });
    const decision = records.find((r) => r.event === 'mcpgate.tool.decision' && (r.arguments as Record<string, unknown>).tag === id) as AuditRecord;
    const server = name.split('__')[0] as string;
    const lines = (await readFile(received(server), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const forwarded = lines.some((line) => (JSON.parse(line).params?.arguments as Record<string, unknown> | undefined)?.tag === id);
    return { result, decision, forwarded };
  }

  async function expectDenied(name: string, args: Record<string, unknown>, reason: string | RegExp, decidedBy = 'rule') {
    const { result, decision, forwarded } = await attempt(name, args);
    expect(result.isError, JSON.stringify(args)).toBe(true);
    expect(decision).toMatchObject({ decision: 'deny', decided_by: decidedBy });
    expect(String(decision.reason)).toMatch(reason);
    expect(textOf(result)).toContain(String(decision.reason));
    expect(forwarded, `${JSON.stringify(args)} reached the upstream`).toBe(false);
    return decision;
  }

  async function expectForwarded(name: string, args: Record<string, unknown>) {
    const { result, decision, forwarded } = await attempt(name, args);
    expect(result.isError, `${JSON.stringify(args)}: ${textOf(result)}`).toBeFalsy();
    expect(decision.decision).toBe('allow');
    expect(forwarded).toBe(true);
  }

  it.each([
    ['//etc/passwd'],
    ['/./etc/passwd'],
    ['/tmp/../etc/passwd'],
    ['/etc/ssh/../shadow'],
    ['../../../../../../../../../../etc/passwd'],
    ['\\etc\\passwd'],
    ['／etc／passwd'],
  ])('a path deny is not escaped by %j', async (path) => {
    await expectDenied('fs__write_file', { path, content: 'x' }, /^system files$/);
  });

  it('a path deny holds against arrays, nested arrays, objects, numbers and NUL, saying why', async () => {
    await expectDenied('fs__write_file', { path: ['/tmp/ok', '/etc/passwd'], content: 'x' }, /^system files$/);
    await expectDenied('fs__write_file', { path: [['/tmp/ok'], ['/tmp/../etc/hosts']], content: 'x' }, /^system files$/);
    await expectDenied('fs__write_file', { path: { file: '/etc/passwd' }, content: 'x' }, 'system files (path is an object, not a path: treated as matching the deny rule)');
    await expectDenied('fs__write_file', { path: 42, content: 'x' }, /path is a number \(42\), not a path: treated as matching the deny rule/);
    await expectDenied('fs__write_file', { path: '/tmp/x\u0000/../../etc/passwd', content: 'x' }, /path holds a control character .*: treated as matching the deny rule/);
    await expectDenied('fs__read_files', { paths: ['/tmp/a', '/home/me/.ssh/id_rsa'] }, /^no keys$/);
  });

  it('a regex deny holds against a command given as an array', async () => {
    await expectDenied('fs__run', { command: ['rm', '-rf', '/'] }, /^no rm -rf$/);
    await expectDenied('fs__run', { command: [['sh', '-c'], 'rm -rf ~'] }, /^no rm -rf$/);
  });

  it('a boolean deny holds against 1, [true], "yes" and an object', async () => {
    await expectDenied('fs__push', { branch: 'main', force: true }, /^no force pushes$/);
    await expectDenied('fs__push', { branch: 'main', force: [true] }, /^no force pushes$/);
    await expectDenied('fs__push', { branch: 'main', force: 1 }, /force is a number \(1\) where the rule expects true: treated as matching the deny rule/);
    await expectDenied('fs__push', { branch: 'main', force: 'yes' }, /treated as matching the deny rule/);
    await expectDenied('fs__push', { branch: 'main', force: { value: true } }, /force is an object, not a string: treated as matching/);
  });

  it('what the rules do not forbid still runs: other paths, false, null, a missing argument', async () => {
    await expectForwarded('fs__write_file', { path: '/tmp/notes.txt', content: 'x' });
    await expectForwarded('fs__write_file', { path: 'notes/today.md', content: 'x' });
    await expectForwarded('fs__write_file', { path: null, content: 'x' });
    await expectForwarded('fs__push', { branch: 'main', force: false });
    await expectForwarded('fs__push', { branch: 'main' });
    await expectForwarded('fs__run', { command: ['ls', '-la'] });
  });

  it('the plain form fails closed on arrays and objects too', async () => {
    await expectDenied('plain__write_file', { path: ['/etc/passwd'], content: 'x' }, /^system files$/);
    await expectDenied('plain__write_file', { path: { p: '/etc/passwd' }, content: 'x' }, 'system files (path is an object, not a string: treated as matching the deny rule)');
  });

  it.each([
    [{ path: 1, content: 'x' }, '/path must be string'],
    [{ path: ['/tmp/a'], content: 'x' }, '/path must be string'],
    [{ content: 'x' }, "(arguments) must have required property 'path'"],
    [{ path: '/tmp/a', content: 'x', mode: -1 }, '/mode must be >= 0'],
  ])('arguments that do not match the inputSchema are refused: %j', async (args, problem) => {
    await expectDenied('fs__strict_write', args, `the arguments do not match the tool's inputSchema: ${problem}`, 'schema');
  });

  it('an argument the inputSchema forbids (additionalProperties: false) is refused', async () => {
    const decision = await expectDenied('fs__strict_write', { path: '/tmp/a', content: 'x', owner: 'root' }, /must NOT have additional properties \("owner"\)/, 'schema');
    expect(decision.rule).toBeUndefined();
  });

  it('a server with validateArguments: false forwards what its schema would refuse', async () => {
    const { result, forwarded } = await attempt('loose__strict_write', { path: 1, content: 'x' });
    expect(result.isError).toBeFalsy();
    expect(forwarded).toBe(true);
  });

  it('a valid call to a strict tool passes', async () => {
    const result = await client.callTool({ name: 'fs__strict_write', arguments: { path: '/tmp/a', content: 'x', mode: 420 } });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('ran strict_write');
  });

  it('mcpgate check warns about a path-like argument under the plain form', async () => {
    const { code, stdout } = await runMcpgate(['check', '--config', config.dir], { RECORD_DIR: config.dir });
    expect(code).toBe(0);
    expect(stdout).toMatch(/servers\.d\/plain\.yaml:\d+: tools\.deny\[0\]\.args\.path: "path" looks like a file path.*write \{ path: "\/etc\/\*\*" \}/);
  });
});
