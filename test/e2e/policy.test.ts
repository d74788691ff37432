/**
 * Policy matrix on real calls through a real gateway: allow, deny, ask without a channel, argument
 * conditions, precedence across server and global rules, defaults — each checked on the call's
 * result and on the audit lines it wrote; and `mcpgate tools --json` explaining the same.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, MAIN, makeConfig, startStdioGateway, textOf, waitForAudit, type AuditRecord, type TempConfig } from '../support/gateway.js';

const run = promisify(execFile);

describe('policy on real calls', () => {
  let config: TempConfig;
  let client: Client;
  let close: () => Promise<void>;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: {
        approval: { channel: 'none' }, // asks are answered in test/e2e/approval*.test.ts
        policy: {
          default: 'ask',
          allow: ['notes/get_*'],
          deny: ['echo/add', { tool: 'notes/delete_*', reason: 'notes are append-only' }],
        },
      },
      servers: {
        echo: fixtureServer('echo', {
          tools: {
            default: 'deny',
            allow: ['echo', 'add'],
            ask: ['fail'],
            deny: [{ tool: 'echo', args: { message: '/^rm -rf/' }, reason: 'no destructive commands' }],
          },
        }),
        // no tools section: the global default (ask) applies, except where global rules speak
        notes: fixtureServer('notes'),
      },
    });
    const gateway = await startStdioGateway(config.dir);
    client = gateway.client;
    close = gateway.close;
  });

  afterAll(async () => {
    await close?.();
    await config?.cleanup();
  });

  /** Calls a tool and returns its result plus the decision record the call wrote. */
  async function callAndAudit(name: string, args: Record<string, unknown>) {
    const result = await client.callTool({ name, arguments: args });
    // the decision is written before the call is forwarded, the result after it: wait for both
    const records = await waitForAudit(config.auditFile, (rs) => {
      const decision = rs.find(
        (r) => r.event === 'mcpgate.tool.decision' && r.public_name === name && JSON.stringify(r.arguments) === JSON.stringify(args),
      );
      return decision !== undefined && (decision.decision !== 'allow' || rs.some((r) => r.event === 'mcpgate.tool.result' && r.call === decision.call));
    });
    const decision = records.filter((r) => r.event === 'mcpgate.tool.decision' && r.public_name === name).at(-1) as AuditRecord;
    const results = records.filter((r) => r.event === 'mcpgate.tool.result' && r.call === decision.call);
    return { result, decision, results };
  }

  it('hides unconditionally denied tools and lists the rest', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('echo__echo'); // only an argument-conditional deny names it
    expect(names).toContain('echo__fail'); // ask is listed
    expect(names).not.toContain('echo__add'); // global deny beats the server's allow
    expect(names).not.toContain('notes__delete_note'); // global deny with a reason
    expect(names).toContain('notes__list_notes'); // default ask: listed
  });

  it('allow: the call runs and leaves a decision and a result record', async () => {
    const { result, decision, results } = await callAndAudit('echo__echo', { message: 'hello' });
    expect(textOf(result)).toContain('hello');
    expect(decision).toMatchObject({ decision: 'allow', decided_by: 'rule', server: 'echo', tool: 'echo' });
    expect(String(decision.rule)).toContain('servers.d/echo.yaml');
    expect(String(decision.rule)).toContain('tools.allow[0]');
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ outcome: 'ok' });
  });

  it('argument condition: a matching deny beats the allow, with its reason', async () => {
    const { result, decision, results } = await callAndAudit('echo__echo', { message: 'rm -rf /' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('no destructive commands');
    expect(decision).toMatchObject({ decision: 'deny', decided_by: 'rule', reason: 'no destructive commands' });
    expect(String(decision.rule)).toContain('tools.deny[0]');
    expect(results).toHaveLength(0);
  });

  it('ask with approval.channel none is a deny saying "approval required"', async () => {
    const { result, decision, results } = await callAndAudit('echo__fail', { reason: 'x' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('approval required');
    expect(decision).toMatchObject({ decision: 'deny', decided_by: 'rule', approval_channel: 'none' });
    expect(String(decision.reason)).toContain('approval required');
    expect(results).toHaveLength(0);
  });

  it('precedence: a global deny beats a server allow even when called by name', async () => {
    const { result, decision } = await callAndAudit('echo__add', { a: 1, b: 2 });
    expect(result.isError).toBe(true);
    expect(decision).toMatchObject({ decision: 'deny', decided_by: 'rule' });
    expect(String(decision.rule)).toContain('gateway.yaml policy.deny[0]');
  });

  it('a global rule with a reason explains the denial to the agent', async () => {
    const { result, decision } = await callAndAudit('notes__delete_note', { id: '1' });
    expect(textOf(result)).toContain('notes are append-only');
    expect(decision).toMatchObject({ decision: 'deny', reason: 'notes are append-only' });
  });

  it('global allow applies to a server without its own rules', async () => {
    const { decision, results } = await callAndAudit('notes__get_note', { id: 'nope' });
    expect(decision).toMatchObject({ decision: 'allow', decided_by: 'rule' });
    expect(String(decision.rule)).toContain('gateway.yaml policy.allow[0]');
    expect(results).toHaveLength(1);
    expect(results[0]?.outcome).toBe('tool_error'); // the note does not exist: the upstream says so
  });

  it('defaults: the global default decides what no rule names', async () => {
    const { result, decision } = await callAndAudit('notes__list_notes', {});
    expect(result.isError).toBe(true);
    expect(decision).toMatchObject({ decision: 'deny', decided_by: 'default', approval_channel: 'none' });
  });

  it('the server default decides its own unnamed tools (deny), and unknown tools are refused', async () => {
    await expect(client.callTool({ name: 'echo__nonexistent', arguments: {} })).rejects.toThrow(/Unknown tool/);
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.public_name === 'echo__nonexistent'));
    expect(records.find((r) => r.public_name === 'echo__nonexistent')).toMatchObject({ decision: 'deny' });
  });

  it('mcpgate tools --json shows each decision and the rule that made it', async () => {
    const { stdout } = await run(process.execPath, [MAIN, 'tools', '--config', config.dir, '--json']);
    const rows = JSON.parse(stdout).tools as Array<Record<string, unknown>>;
    const row = (name: string) => rows.find((r) => r.name === name);
    expect(row('echo__echo')).toMatchObject({ decision: 'allow', decided_by: 'rule', conditional: true, hidden: false });
    expect(row('echo__add')).toMatchObject({ decision: 'deny', hidden: true });
    expect(String(row('echo__add')?.rule)).toContain('gateway.yaml policy.deny[0]');
    expect(row('echo__fail')).toMatchObject({ decision: 'ask' });
    expect(row('notes__list_notes')).toMatchObject({ decision: 'ask', decided_by: 'default' });
    expect(row('notes__get_note')).toMatchObject({ decision: 'allow' });

    const table = await run(process.execPath, [MAIN, 'tools', '--config', config.dir]);
    expect(table.stdout).toMatch(/echo__add \(hidden\)\s+deny\s+gateway\.yaml policy\.deny\[0\]/);
  });
});
