/**
 * Deep and huge input on real processes: a result nested thousands of levels deep (stdio and HTTP
 * clients), arguments nested past the limit, arguments that differ only deep down (session
 * approvals and audit records must tell them apart), an upstream line past `maxMessageBytes`
 * (a clear error for that call, the truth in the audit log, no stall of calls to other upstreams),
 * and a large result under a raised limit.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureServer,
  makeConfig,
  startHttpGateway,
  startStdioGateway,
  textOf,
  waitForAudit,
  waitForTools,
  type AuditRecord,
  type HttpGateway,
  type StdioGateway,
  type TempConfig,
} from '../support/gateway.js';

const nest = (depth: number, leaf: unknown): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { n: value };
  return value;
};

/** The error a call fails with (JSON-RPC code and message). */
async function failure(call: Promise<unknown>): Promise<{ code?: number; message: string; data?: unknown }> {
  return call.then(
    () => ({ message: 'the call succeeded' }),
    (error: { code?: number; message: string; data?: unknown }) => error,
  );
}

/** User + system CPU time of a process so far, in ms (Linux /proc). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const resultOf = (records: AuditRecord[], tool: string) => records.filter((r) => r.event === 'mcpgate.tool.result' && r.tool === tool);

describe('deep and huge input', () => {
  let config: TempConfig;
  let stdio: StdioGateway;
  let http: HttpGateway;
  let httpClient: Client;
  const asked: unknown[] = [];

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { audit: { arguments: 'full', maxArgumentBytes: 65536 }, approval: { sessionScope: 'arguments' } },
      servers: {
        hostile: fixtureServer('hostile', { tools: { default: 'allow' } }),
        roomy: fixtureServer('hostile', { maxMessageBytes: 16 * 1024 * 1024, tools: { default: 'allow' } }),
        other: fixtureServer('echo', { tools: { default: 'allow', ask: ['meta'] } }),
      },
    });
    stdio = await startStdioGateway(config.dir, { capabilities: { elicitation: {} } });
    stdio.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params);
      return { action: 'accept', content: { decision: 'session' } };
    });
    await waitForTools(stdio.client, ['hostile__deep', 'roomy__huge', 'other__echo']);
    http = await startHttpGateway(config.dir);
    httpClient = await http.connect();
    await waitForTools(httpClient, ['hostile__deep']);
  });

  afterAll(async () => {
    await stdio?.close();
    await http?.close();
    await config?.cleanup();
  });

  it.each([
    ['stdio', 10_000],
    ['stdio', 600],
    ['HTTP', 5_000],
  ])('a result nested %s levels deep (%s client) fails that call clearly, and the audit says so', async (transport, depth) => {
    const client = transport === 'stdio' ? stdio.client : httpClient;
    const error = await failure(client.callTool({ name: 'hostile__deep', arguments: { depth } }));
    expect(error.code).toBe(-32012);
    expect(error.message).toContain('upstream "hostile" sent a message nested deeper than 512 levels; it was dropped');
    const records = await waitForAudit(config.auditFile, (rs) => resultOf(rs, 'deep').some((r) => r.outcome === 'protocol_error'));
    const failed = resultOf(records, 'deep').filter((r) => r.outcome === 'protocol_error');
    expect(failed.at(-1)?.error).toMatch(/nested deeper than 512 levels/);
    expect(resultOf(records, 'deep').some((r) => r.outcome === 'ok')).toBe(false);
  });

  it('a request the upstream sends nested past the limit is answered with the error and never reaches the client', async () => {
    const before = asked.length;
    const result = await stdio.client.callTool({ name: 'hostile__deep-request', arguments: { depth: 2000 } });
    expect(textOf(result)).toContain('nested deeper than 512 levels');
    expect(textOf(result)).toContain('-32012');
    expect(asked).toHaveLength(before);
  });

  it('a result within the depth limit still arrives (stdio and HTTP)', async () => {
    for (const client of [stdio.client, httpClient]) {
      const result = await client.callTool({ name: 'hostile__deep', arguments: { depth: 400 } });
      let level: unknown = result.structuredContent;
      let depth = 0;
      while (typeof level === 'object' && level !== null) {
        level = (level as { a: unknown }).a;
        depth++;
      }
      expect(depth).toBe(400);
    }
  });

  it('arguments nested deeper than the limit are refused at the door with a clear error', async () => {
    for (const client of [stdio.client, httpClient]) {
      const error = await failure(client.request({ method: 'tools/call', params: { name: 'other__echo', arguments: { message: 'x', deep: nest(1000, 1) } } }, CallToolResultSchema));
      expect(error.code).toBe(-32600);
      expect(error.message).toContain('tools/call is nested deeper than 512 levels');
      expect(error.data).toEqual({ code: 'MCPGATE_REQUEST_REJECTED' });
    }
  });

  it('a client line past 4 MiB (stdio) is answered with an error for its id, and the session goes on', async () => {
    const error = await failure(stdio.client.callTool({ name: 'other__echo', arguments: { message: 'x'.repeat(5 * 1024 * 1024) } }));
    expect(error.code).toBe(-32600);
    expect(error.message).toMatch(/the message is \d+ bytes, more than the 4194304 the gateway accepts; it was dropped/);
    expect(textOf(await stdio.client.callTool({ name: 'other__echo', arguments: { message: 'still here' } }))).toBe('still here');
  });

  it('arguments that differ only deep down never share a session approval or an audit record', async () => {
    const first = nest(100, 'ls /tmp');
    const second = nest(100, 'rm -rf ~');
    await stdio.client.callTool({ name: 'other__meta', arguments: { deep: first } });
    await stdio.client.callTool({ name: 'other__meta', arguments: { deep: first } });
    expect(asked).toHaveLength(1); // the same arguments: remembered for the session
    await stdio.client.callTool({ name: 'other__meta', arguments: { deep: second } });
    expect(asked).toHaveLength(2); // different arguments (at depth 100): asked again
    const records = await waitForAudit(config.auditFile, (rs) => rs.filter((r) => r.event === 'mcpgate.tool.decision' && r.tool === 'meta').length === 3);
    const recorded = records.filter((r) => r.event === 'mcpgate.tool.decision' && r.tool === 'meta').map((r) => JSON.stringify(r.arguments));
    expect(recorded[2]).toContain('rm -rf ~');
    expect(recorded.join()).not.toContain('[Too deep]');
  });

  it('a line past maxMessageBytes fails the call it answers (not at its timeout), says why, and the upstream goes on serving', async () => {
    const started = Date.now();
    const error = await failure(stdio.client.callTool({ name: 'hostile__huge', arguments: { mib: 8 } }));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(error.code).toBe(-32012);
    expect(error.message).toMatch(/upstream "hostile" sent a message of \d+ bytes, more than its maxMessageBytes \(4194304\); the message was dropped/);
    expect(error.data).toEqual({ code: 'MCPGATE_UPSTREAM_MESSAGE_REJECTED' });
    const records = await waitForAudit(config.auditFile, (rs) => resultOf(rs, 'huge').some((r) => r.outcome === 'protocol_error'));
    expect(resultOf(records, 'huge').find((r) => r.outcome === 'protocol_error')?.error).toMatch(/more than its maxMessageBytes/);
    const after = await stdio.client.callTool({ name: 'hostile__huge', arguments: { mib: 0.5 } });
    expect(textOf(after)).toHaveLength(512 * 1024);
  });

  it('a raised maxMessageBytes lets a large result through whole', async () => {
    // 8 MiB: past the default, within roomy's 16 MiB (and within the 10 MiB the SDK client reads).
    const result = await stdio.client.callTool({ name: 'roomy__huge', arguments: { mib: 8 } });
    expect(textOf(result)).toHaveLength(8 * 1024 * 1024);
  });

  it('calls to another upstream are not stalled while a huge line streams in, and the line costs the gateway little CPU', async () => {
    const echo = async () => {
      const started = performance.now();
      await stdio.client.callTool({ name: 'other__echo', arguments: { message: 'ping' } });
      return performance.now() - started;
    };
    for (let i = 0; i < 5; i++) await echo(); // warm
    const pid = stdio.transport.pid as number;
    const cpuBefore = await cpuMs(pid);
    const started = performance.now();
    let done = false;
    const huge = failure(stdio.client.callTool({ name: 'hostile__huge', arguments: { mib: 48 } })).finally(() => (done = true));
    const latencies: number[] = [];
    while (!done) latencies.push(await echo());
    const elapsed = performance.now() - started;
    const cpu = (await cpuMs(pid)) - cpuBefore;
    expect((await huge).code).toBe(-32012);
    latencies.sort((a, b) => a - b);
    const worst = latencies.at(-1) ?? 0;
    console.log(
      `48 MiB line: ${Math.round(elapsed)} ms, gateway CPU ${cpu} ms; ${latencies.length} echo calls to another upstream meanwhile: median ${latencies[latencies.length >> 1]?.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`,
    );
    expect(latencies.length).toBeGreaterThan(3);
    // Bounds that hold on a loaded shared machine; the quadratic splitter took seconds of CPU and stalled calls by up to 0.8 s.
    expect(worst).toBeLessThan(500);
    expect(cpu).toBeLessThan(1000);
  });
});
