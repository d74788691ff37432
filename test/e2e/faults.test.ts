/**
 * Faults through a real gateway: an upstream that crashes mid-call, one that hangs past its
 * timeout, one that writes garbage on stdout, one that never finishes initialising, one that
 * exits at start, and broken servers.d files. The healthy servers keep serving, every call leaves
 * audit records, and malformed JSON-RPC from the client gets a JSON-RPC error.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureServer,
  MAIN,
  makeConfig,
  REPO,
  readAudit,
  startStdioGateway,
  textOf,
  waitFor,
  waitForAudit,
  waitForTools,
  type StdioGateway,
  type TempConfig,
} from '../support/gateway.js';

const FAULTS_TOKEN = 'faults-token-value-8c1f';

describe('faults', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  let client: Client;
  let callsMade = 0;

  async function call(name: string, args: Record<string, unknown> = {}) {
    callsMade++;
    return client.callTool({ name, arguments: args });
  }

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { upstreams: { restartInitialDelay: '200ms', restartMaxDelay: '2s' } },
      servers: {
        echo: fixtureServer('echo', { tools: { default: 'allow' } }),
        crash: fixtureServer('crash', { tools: { default: 'allow' } }),
        hang: fixtureServer('hang', { tools: { default: 'allow' }, timeout: '1s' }),
        garbage: fixtureServer('garbage', { tools: { default: 'allow' } }),
        slowinit: { command: process.execPath, args: [join(REPO, 'test/fixtures/servers/slowInit.mjs')], startupTimeout: '2s', tools: { default: 'allow' }, env: { FIXTURE_STDERR: 'using token ${env:FAULTS_TOKEN}' } },
        exitstart: fixtureServer('exitAtStart', { tools: { default: 'allow' } }),
        // a YAML syntax error on line 3
        'syntax.yaml': 'command: node\nargs: ["x"]\ntools: { default: allow\n',
        // a wrong field type on line 2
        'wrongfield.yaml': 'command: node\nconcurrency: lots\n',
      },
    });
    gateway = await startStdioGateway(config.dir, {}, { FAULTS_TOKEN: FAULTS_TOKEN });
    client = gateway.client;
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('serves the healthy servers and leaves the broken ones out', async () => {
    // six fixture processes start in parallel: on a loaded machine they can outrun the first listing's wait
    const names = (await waitForTools(client, ['echo__echo', 'crash__ok', 'crash__crash', 'hang__hang', 'garbage__ok'])).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['echo__echo', 'crash__ok', 'crash__crash', 'hang__hang', 'garbage__ok']));
    expect(names.some((n) => n.startsWith('slowinit__') || n.startsWith('exitstart__'))).toBe(false);
    expect(names.some((n) => n.startsWith('syntax__') || n.startsWith('wrongfield__'))).toBe(false);
  });

  it('names file, line and field of the broken servers.d files in the log', async () => {
    await waitFor(() => /servers\.d\/wrongfield\.yaml:2: concurrency:/.test(gateway.stderr()), 5000, () => gateway.stderr());
    expect(gateway.stderr()).toMatch(/servers\.d\/syntax\.yaml:\d+/);
  });

  it('reports upstreams that never initialise or exit at start as failed, quoting their last stderr lines', async () => {
    // An attempt can fail before its process wrote anything (a loaded machine): a later one has the lines.
    const quoting = (r: Record<string, unknown>, server: string) => r.server === server && r.state === 'failed' && String(r.error).includes('last stderr');
    const records = await waitForAudit(config.auditFile, (rs) => ['slowinit', 'exitstart'].every((s) => rs.some((r) => quoting(r, s))), 30_000);
    const slow = records.find((r) => quoting(r, 'slowinit'));
    // What the upstream last wrote on stderr explains why: quoted, its secret scrubbed.
    expect(slow?.error).toBe('did not finish initialising within 2000 ms (last stderr: "slowInit fixture: listening and never answering" / "using token [REDACTED]")');
    expect(gateway.stderr()).toContain('upstream slowinit failed: did not finish initialising within 2000 ms (last stderr: \\"slowInit fixture');
    expect(gateway.stderr()).not.toContain(FAULTS_TOKEN);
    const exitstart = records.find((r) => quoting(r, 'exitstart'));
    expect(String(exitstart?.error)).toContain('last stderr: "exitAtStart fixture: missing configuration, giving up"');
  });

  it('retries a failing upstream with exponential backoff up to the configured ceiling', async () => {
    // exitstart fails every attempt: restartInitialDelay 200ms doubling, capped at restartMaxDelay 2s
    const delays = (rs: Awaited<ReturnType<typeof readAudit>>) =>
      rs.filter((r) => r.event === 'mcpgate.upstream.state' && r.server === 'exitstart' && r.state === 'restarting').map((r) => r.retry_in_ms);
    const records = await waitForAudit(config.auditFile, (rs) => delays(rs).length >= 4, 15_000);
    expect(delays(records).slice(0, 4)).toEqual([200, 400, 800, 1600]);
    const failed = records.find((r) => r.server === 'exitstart' && r.state === 'failed');
    expect(String(failed?.error)).toMatch(/exit code 1|exited during start-up/);
  });

  it('fails a call in flight when its upstream crashes, naming the server, then restarts it', async () => {
    await expect(call('crash__crash')).rejects.toThrow(/upstream "crash" exited/);
    expect(textOf(await call('echo__echo', { message: 'still here' }))).toContain('still here');
    await waitFor(async () => {
      try {
        return textOf(await call('crash__ok')) === 'ok';
      } catch {
        return false;
      }
    }, 15_000, () => 'crash upstream to come back');
    // the audit writer buffers for up to 200 ms: wait for the restart's records
    const crashStates = (rs: Awaited<ReturnType<typeof readAudit>>) =>
      rs.filter((r) => r.event === 'mcpgate.upstream.state' && r.server === 'crash').map((r) => r.state);
    const states = crashStates(
      await waitForAudit(config.auditFile, (rs) => {
        const s = crashStates(rs);
        return s.includes('restarting') && s.lastIndexOf('ready') > s.indexOf('restarting');
      }),
    );
    expect(states.slice(0, 2)).toEqual(['starting', 'ready']);
    expect(states.indexOf('restarting')).toBeGreaterThan(1);
  });

  it('times out a call that hangs past the server timeout and keeps the server usable', async () => {
    const started = Date.now();
    await expect(call('hang__hang')).rejects.toThrow(/did not answer .* within 1000 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(textOf(await call('hang__ok'))).toBe('ok');
    await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.tool.result' && r.server === 'hang' && r.outcome === 'timeout'));
  });

  it('keeps serving an upstream that writes garbage on stdout', async () => {
    expect(textOf(await call('garbage__ok'))).toBe('ok');
    expect(textOf(await call('garbage__ok'))).toBe('ok');
  });

  it('leaves a decision record for every call made', async () => {
    const records = await waitForAudit(
      config.auditFile,
      (rs) => rs.filter((r) => r.event === 'mcpgate.tool.decision').length >= callsMade && rs.filter((r) => r.event === 'mcpgate.tool.result').length >= callsMade,
    );
    const decisions = records.filter((r) => r.event === 'mcpgate.tool.decision');
    expect(decisions.length).toBe(callsMade);
    const results = records.filter((r) => r.event === 'mcpgate.tool.result');
    expect(results.length).toBe(decisions.length); // all were allowed: one result each, whatever the outcome
    expect(results.some((r) => r.server === 'crash' && r.outcome === 'protocol_error')).toBe(true);
  });
});

describe('malformed JSON-RPC from the client', () => {
  let config: TempConfig;

  beforeAll(async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
  });

  afterAll(async () => {
    await config?.cleanup();
  });

  it('answers parse errors and invalid requests with JSON-RPC errors and keeps going', async () => {
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', config.dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: Array<Record<string, unknown>> = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line)));
    child.stderr.resume();
    try {
      child.stdin.write('this is not json\n');
      child.stdin.write('{"jsonrpc":"2.0","id":7,"method":42}\n');
      child.stdin.write('{"jsonrpc":"2.0","id":8,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}\n');
      await waitFor(() => lines.length >= 3, 10_000, () => JSON.stringify(lines));
      expect(lines[0]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
      expect(lines[1]).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32600 } });
      expect(lines[2]).toMatchObject({ id: 8, result: { serverInfo: { name: 'mcpgate' } } });
      child.stdin.write('{"jsonrpc":"2.0","id":9,"method":"no/such/method"}\n');
      await waitFor(() => lines.length >= 4, 5000);
      expect(lines[3]).toMatchObject({ id: 9, error: { code: -32601 } });
    } finally {
      child.kill('SIGTERM');
    }
  });
});
