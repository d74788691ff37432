/**
 * One audit record per call, whatever way it ends (src/pipeline/stages.ts runs `record` in
 * `finally`): every tools/call leaves exactly one `mcpgate.tool.decision` record, the early exits
 * included (missing or non-string `params.name`, `arguments` that are not an object, an unknown
 * tool, arguments the inputSchema rejects), and every forwarded call exactly one
 * `mcpgate.tool.result` record.
 */
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, readAudit, startStdioGateway, waitForAudit, type AuditRecord, type StdioGateway, type TempConfig } from '../support/gateway.js';

describe('tools/call: one decision record per call, one result record per forwarded call', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  beforeAll(async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    gateway = await startStdioGateway(config.dir);
  });
  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  /** Sends a raw tools/call; resolves with the JSON-RPC error message, or undefined when it answered. */
  async function call(params: Record<string, unknown>): Promise<string | undefined> {
    try {
      await gateway.client.request({ method: 'tools/call', params } as never, CallToolResultSchema);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  const decisions = (records: AuditRecord[]) => records.filter((r) => r.event === 'mcpgate.tool.decision');
  const results = (records: AuditRecord[]) => records.filter((r) => r.event === 'mcpgate.tool.result');

  it('refused requests each leave one deny record and no result record', async () => {
    const before = decisions(await readAudit(config.auditFile)).length;
    expect(await call({ arguments: { message: 'x' } })).toMatch(/needs params\.name/);
    expect(await call({ name: 42 })).toMatch(/needs params\.name/);
    expect(await call({ name: 'echo__echo', arguments: ['x'] })).toMatch(/arguments must be an object/);
    expect(await call({ name: 'echo__echo', arguments: 'x' })).toMatch(/arguments must be an object/);
    expect(await call({ name: 'echo__nope', arguments: {} })).toMatch(/Unknown tool: echo__nope/);
    const records = await waitForAudit(config.auditFile, (rs) => decisions(rs).length >= before + 5);
    const refused = decisions(records).slice(before);
    expect(refused.map((r) => [r.public_name, r.decision, r.decided_by, r.reason])).toEqual([
      ['', 'deny', 'default', 'invalid request: params.name is missing or not a string'],
      ['', 'deny', 'default', 'invalid request: params.name is missing or not a string'],
      ['echo__echo', 'deny', 'default', 'invalid request: params.arguments is not an object'],
      ['echo__echo', 'deny', 'default', 'invalid request: params.arguments is not an object'],
      ['echo__nope', 'deny', 'default', 'unknown tool "echo__nope"'],
    ]);
    expect(new Set(refused.map((r) => r.call)).size).toBe(5); // one record per call
    expect(refused.every((r) => typeof r.protocol_version === 'string')).toBe(true);
    expect(results(records).filter((r) => refused.some((d) => d.call === r.call))).toEqual([]);
  });

  it('an inputSchema rejection is one deny record decided by the schema, and nothing is forwarded', async () => {
    const result = await gateway.client.callTool({ name: 'echo__echo', arguments: { message: 7 } });
    expect(result.isError).toBe(true);
    const records = await waitForAudit(config.auditFile, (rs) => decisions(rs).some((r) => r.decided_by === 'schema'));
    const denied = decisions(records).filter((r) => r.decided_by === 'schema');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ public_name: 'echo__echo', decision: 'deny' });
    expect(results(records).filter((r) => r.call === denied[0]?.call)).toEqual([]);
  });

  it('a forwarded call has exactly one decision and one result record, under the same call id', async () => {
    await gateway.client.callTool({ name: 'echo__echo', arguments: { message: 'once' } });
    const records = await waitForAudit(config.auditFile, (rs) => results(rs).length > 0);
    const [result] = results(records);
    expect(results(records)).toHaveLength(1);
    // both carry the MCP revision the client negotiated (mcp.protocol.version in telemetry)
    expect(result).toMatchObject({ public_name: 'echo__echo', outcome: 'ok', protocol_version: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
    expect(decisions(records).filter((r) => r.call === result?.call)).toEqual([
      expect.objectContaining({ decision: 'allow', arguments: { message: 'once' }, protocol_version: result?.protocol_version }),
    ]);
  });
});
