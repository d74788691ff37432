/**
 * Managed requirements decide who may answer an ask, on real processes: with `approval: {
 * channel: queue }` in the requirements, a user's gateway.yaml (`channel: elicitation`, a
 * sampling reviewer) and server file (`channel: elicitation`) cannot let the calling client answer
 * its own asks: a client that declares elicitation and sampling is never asked, the call waits in
 * the approval queue until a person approves it, and `check` names every overridden setting.
 */
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, pendingApproval, runMcpgate, startHttpGateway, textOf, waitForAudit, writeRequirements, type HttpGateway, type TempConfig } from '../support/gateway.js';

describe('managed approval.channel: queue', () => {
  let config: TempConfig;
  let requirementsFile: string;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { channel: 'elicitation', timeout: '60s', autoReview: { sampling: true } } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] }, approval: { channel: 'elicitation' } }) },
    });
    requirementsFile = await writeRequirements(config.dir, { approval: { channel: 'queue' } });
    gateway = await startHttpGateway(config.dir, [], { MCPGATE_REQUIREMENTS: requirementsFile });
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('a client that could answer its own asks is never asked: the call waits for a person in the queue', async () => {
    let asked = 0;
    const client = await gateway.connect({ capabilities: { elicitation: {}, sampling: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => {
      asked++;
      return { action: 'accept', content: { decision: 'always' } };
    });
    client.setRequestHandler(CreateMessageRequestSchema, async () => {
      asked++;
      return { role: 'assistant', model: 'agent', content: { type: 'text', text: '{"outcome":"approve","risk_level":"low","rationale":"mine"}' } };
    });
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'human-only' } });
    const pending = await pendingApproval(config.dir, 'human-only');
    expect(asked).toBe(0);
    expect((await runMcpgate(['approve', pending.id, '--config', config.dir])).code).toBe(0);
    expect(textOf(await call)).toBe('human-only');
    expect(asked).toBe(0);
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.tool.decision' && r.public_name === 'echo__echo'));
    expect(records.find((r) => r.event === 'mcpgate.tool.decision')).toMatchObject({ decision: 'allow', decided_by: 'user', approval_channel: 'queue' });
  });

  it('check names each user setting the requirement overrides', async () => {
    const out = await runMcpgate(['check', '--config', config.dir, '--requirements', requirementsFile]);
    expect(out.stdout).toContain(`gateway.yaml: approval.channel: forced to queue by managed requirements (${requirementsFile} approval.channel)`);
    expect(out.stdout).toContain(`gateway.yaml: approval.autoReview: the sampling reviewer (the calling client's own model) is off under managed requirements`);
    expect(out.stdout).toContain(`servers.d/echo.yaml: approval.channel: forced to queue by managed requirements (${requirementsFile} approval.channel); the user setting elicitation is ignored`);
  });
});
