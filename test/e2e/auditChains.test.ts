/**
 * Several gateway processes on one configuration (an agent's stdio gateway each, plus an HTTP
 * one): each writes a chain of its own, `audit verify` reads them all and says they are intact,
 * `audit query` counts every call exactly once, and a gateway started later continues the chain a
 * stopped (or killed) one left, instead of starting a new one beside it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fixtureServer,
  makeConfig,
  runMcpgate,
  startHttpGateway,
  startStdioGateway,
  waitFor,
  waitForExit,
  type AuditRecord,
  type HttpGateway,
  type StdioGateway,
  type TempConfig,
} from '../support/gateway.js';

const CALLS = 40;

function records(text: string): AuditRecord[] {
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditRecord);
}

describe('one audit chain per gateway process', () => {
  let config: TempConfig;
  const stdio: StdioGateway[] = [];
  const http: HttpGateway[] = [];

  afterEach(async () => {
    await Promise.all([...stdio.splice(0).map((g) => g.close().catch(() => undefined)), ...http.splice(0).map((g) => g.close())]);
    await config?.cleanup();
  });

  async function calls(call: (message: string) => Promise<unknown>, who: string): Promise<void> {
    await Promise.all(Array.from({ length: CALLS }, (_, i) => call(`${who}-${i}`)));
  }

  it('three stdio gateways and an HTTP one writing at once: every chain verifies, query counts every call once', { timeout: 150_000 }, async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { concurrency: 16, tools: { default: 'allow' } }) } });
    const started = await Promise.all([startStdioGateway(config.dir), startStdioGateway(config.dir), startStdioGateway(config.dir)]);
    stdio.push(...started);
    const web = await startHttpGateway(config.dir);
    http.push(web);
    const webClient = await web.connect();
    const echo = (client: { callTool: StdioGateway['client']['callTool'] }) => (message: string) => client.callTool({ name: 'echo__echo', arguments: { message } });
    await Promise.all([...started.map((g, i) => calls(echo(g.client), `stdio${i}`)), calls(echo(webClient), 'http')]);
    const pids = started.map((g) => g.transport.pid as number);
    await Promise.all(stdio.splice(0).map((g) => g.close()));
    await Promise.all(http.splice(0).map((g) => g.close()));
    for (const pid of pids) await waitForExit(pid);

    const names = (await readdir(config.dir)).filter((n) => n.startsWith('audit')).sort();
    expect(names).toEqual(['audit.chain-2.log', 'audit.chain-3.log', 'audit.chain-4.log', 'audit.log']);

    const verify = await runMcpgate(['audit', 'verify', '--config', config.dir]);
    expect(verify.stderr).toBe('');
    expect(verify.stdout).toMatch(/^4 chains \(one per gateway process\), \d+ records: all intact\n/);
    for (const chain of ['chain 1 (audit.log)', 'chain 2 (audit.chain-2.log)', 'chain 3 (audit.chain-3.log)', 'chain 4 (audit.chain-4.log)']) {
      expect(verify.stdout).toContain(`${chain}: intact (`);
    }
    expect(verify.code).toBe(0);

    // Each chain numbers its own records from 1; records of chain K ≥ 2 say so.
    for (const [index, name] of ['audit.log', 'audit.chain-2.log', 'audit.chain-3.log', 'audit.chain-4.log'].entries()) {
      const chain = records(await readFile(`${config.dir}/${name}`, 'utf8'));
      expect(chain.map((r) => r.seq)).toEqual(chain.map((_, i) => i + 1));
      expect(new Set(chain.map((r) => r.chain))).toEqual(new Set([index === 0 ? undefined : index + 1]));
    }

    const query = await runMcpgate(['audit', 'query', '--config', config.dir, '--json', '--tool', 'echo__echo']);
    expect(query.code).toBe(0);
    const calls_ = records(query.stdout);
    const decisions = calls_.filter((r) => r.event === 'mcpgate.tool.decision');
    expect(decisions).toHaveLength(4 * CALLS);
    expect(new Set(decisions.map((r) => (r.arguments as { message: string }).message)).size).toBe(4 * CALLS);
    expect(calls_.filter((r) => r.event === 'mcpgate.tool.result' && r.outcome === 'ok')).toHaveLength(4 * CALLS);
    // Merged by time across the chains.
    const times = calls_.map((r) => String(r.time));
    expect(times).toEqual([...times].sort());
    const allowed = await runMcpgate(['audit', 'query', '--config', config.dir, '--json', '--decision', 'allow', '--outcome', 'ok']);
    expect(records(allowed.stdout).filter((r) => r.event === 'mcpgate.tool.decision')).toHaveLength(4 * CALLS);
    const table = await runMcpgate(['audit', 'query', '--config', config.dir, '--tool', 'echo__echo']);
    expect(table.stdout).toMatch(/\n\S+\s+3:\d+\s+tool\.decision/);

    const report = JSON.parse((await runMcpgate(['audit', 'report', '--config', config.dir, '--json'])).stdout) as { calls: number; sessions: number };
    expect(report.calls).toBe(4 * CALLS);
    expect(report.sessions).toBe(4);
  });

  it('a gateway started while another runs writes a chain of its own; alone again, a restarted one continues chain 1', { timeout: 120_000 }, async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    const first = await startStdioGateway(config.dir);
    stdio.push(first);
    await first.client.callTool({ name: 'echo__echo', arguments: { message: 'one' } });
    const second = await startStdioGateway(config.dir);
    stdio.push(second);
    await second.client.callTool({ name: 'echo__echo', arguments: { message: 'two' } });
    // The first was killed: its lock is left behind, and the next gateway takes its chain over.
    process.kill(first.transport.pid as number, 'SIGKILL');
    await waitForExit(first.transport.pid as number);
    await waitFor(async () => (await readFile(`${config.dir}/audit.log`, 'utf8')).includes('"one"'));
    const before = records(await readFile(`${config.dir}/audit.log`, 'utf8'));
    const third = await startStdioGateway(config.dir);
    stdio.push(third);
    await third.client.callTool({ name: 'echo__echo', arguments: { message: 'three' } });
    await Promise.all(stdio.splice(0).map((g) => g.close().catch(() => undefined)));
    await waitForExit(second.transport.pid as number);
    await waitForExit(third.transport.pid as number);

    const chain1 = records(await readFile(`${config.dir}/audit.log`, 'utf8'));
    const chain2 = records(await readFile(`${config.dir}/audit.chain-2.log`, 'utf8'));
    expect(chain1.slice(0, before.length)).toEqual(before);
    expect(chain1[before.length]?.seq).toBe((before.at(-1)?.seq as number) + 1);
    expect(chain1.some((r) => (r.arguments as { message?: string } | undefined)?.message === 'three')).toBe(true);
    expect(chain2.some((r) => (r.arguments as { message?: string } | undefined)?.message === 'two')).toBe(true);
    expect((await readdir(config.dir)).filter((n) => n.endsWith('.lock'))).toEqual([]);

    const lone = await startStdioGateway(config.dir);
    stdio.push(lone);
    await lone.client.callTool({ name: 'echo__echo', arguments: { message: 'four' } });
    await stdio.splice(0)[0]?.close();
    await waitForExit(lone.transport.pid as number);
    const after = records(await readFile(`${config.dir}/audit.log`, 'utf8'));
    expect(after.some((r) => (r.arguments as { message?: string } | undefined)?.message === 'four')).toBe(true);
    const verify = await runMcpgate(['audit', 'verify', '--config', config.dir]);
    expect(verify.stdout).toMatch(/^2 chains \(one per gateway process\), \d+ records: all intact\n/);
    expect(verify.code).toBe(0);
  });
});
