/**
 * Auto-review before a human: an external command reviewer (approves read-like calls, escalates
 * the rest), one that hangs, one that answers malformed JSON, and the MCP-sampling reviewer
 * driven by a real SDK client whose sampling handler answers. Real gateway processes throughout.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, type CreateMessageRequest } from '@modelcontextprotocol/sdk/types.js';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, REPO, startHttpGateway, textOf, waitForAudit, type AuditRecord, type HttpGateway, type TempConfig } from '../support/gateway.js';
import { modernCall } from '../support/modern.js';

const REVIEWERS = join(REPO, 'test/fixtures/reviewers');

async function lastDecision(auditFile: string, publicName: string, count = 1): Promise<AuditRecord> {
  const match = (r: AuditRecord) => r.event === 'mcpgate.tool.decision' && r.public_name === publicName;
  return (await waitForAudit(auditFile, (rs) => rs.filter(match).length >= count)).filter(match).at(-1) as AuditRecord;
}

/** A client whose user answers every elicitation with "allow once"; counts them. */
async function approvingClient(gateway: HttpGateway): Promise<{ client: Client; asked: () => number }> {
  let asked = 0;
  const client = await gateway.connect({ capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async () => {
    asked++;
    return { action: 'accept', content: { decision: 'once' } };
  });
  return { client, asked: () => asked };
}

describe('auto-review by an external command', () => {
  let config: TempConfig;
  let gateway: HttpGateway;
  let reviewLog: string;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: {
        approval: { timeout: '10s', autoReview: { command: ['node', join(REVIEWERS, 'readLike.mjs'), 'REVIEW_LOG'], timeout: '5s', recentCalls: 5 } },
      },
      servers: { notes: fixtureServer('notes', { tools: { default: 'ask', deny: ['delete_note'] } }) },
    });
    reviewLog = join(config.dir, 'reviews.jsonl');
    // the reviewer's log path is only known once the config dir exists
    const gatewayYaml = join(config.dir, 'gateway.yaml');
    await writeFile(gatewayYaml, (await readFile(gatewayYaml, 'utf8')).replace('REVIEW_LOG', reviewLog));
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('approves a read-like ask without asking the user, and escalates a write to the user', async () => {
    const { client, asked } = await approvingClient(gateway);
    const listed = await client.callTool({ name: 'notes__list_notes', arguments: {} });
    expect(listed.isError).toBeFalsy();
    expect(asked()).toBe(0);
    const approved = await lastDecision(config.auditFile, 'notes__list_notes');
    expect(approved).toMatchObject({ decision: 'allow', decided_by: 'auto_review', scope: 'once', approval_channel: 'auto_review' });
    expect(String(approved.reason)).toContain('approved by the auto-reviewer (risk low): list_notes only reads');

    const added = await client.callTool({ name: 'notes__add_note', arguments: { title: 't', text: 'hello' } });
    expect(added.isError).toBeFalsy();
    expect(asked()).toBe(1); // escalated: the user was asked
    expect(await lastDecision(config.auditFile, 'notes__add_note')).toMatchObject({ decision: 'allow', decided_by: 'user', approval_channel: 'elicitation' });

    // what the reviewer saw: the call, its annotations and asking rule, and the session's recent calls
    const reviews = (await readFile(reviewLog, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(reviews).toHaveLength(2);
    expect(reviews[1]).toMatchObject({ server: 'notes', tool: 'add_note', public_name: 'notes__add_note', arguments: { title: 't', text: 'hello' } });
    expect(String(reviews[1]!.asking_rule)).toContain('servers.d/notes.yaml tools.default');
    // the upstream's own hints, flagged as not vouched for by an admin (no trustAnnotations)
    expect(reviews[0]).toMatchObject({ annotations: { readOnlyHint: true }, annotations_trusted: false });
    expect(reviews[1]!.recent_calls).toEqual([expect.objectContaining({ tool: 'notes__list_notes', decision: 'allow', decided_by: 'auto_review', outcome: 'ok' })]);
  });

  it('reviews a 2026-07-28 caller\'s asks the same way: approved without a round, escalated to an input_required round', async () => {
    const elicitation = { elicitation: { form: {} } };
    const listed = (await modernCall(gateway.url, 1, 'tools/call', { name: 'notes__list_notes', arguments: {} }, elicitation)).response.result as Record<string, unknown>;
    expect(listed).toMatchObject({ resultType: 'complete' });
    expect(listed.isError).toBeFalsy();
    expect(await lastDecision(config.auditFile, 'notes__list_notes', 2)).toMatchObject({ decision: 'allow', decided_by: 'auto_review', protocol_version: '2026-07-28' });
    const added = (await modernCall(gateway.url, 2, 'tools/call', { name: 'notes__add_note', arguments: { title: 'm', text: 'modern' } }, elicitation)).response.result as Record<string, unknown>;
    expect(added).toMatchObject({ resultType: 'input_required', inputRequests: { 'mcpgate:approval': { method: 'elicitation/create' } } });
  });

  it('never sees a deny: a denied tool stays denied', async () => {
    const { client } = await approvingClient(gateway);
    const before = (await readFile(reviewLog, 'utf8')).trim().split('\n').length;
    const result = await client.callTool({ name: 'notes__delete_note', arguments: { id: '1' } });
    expect(result.isError).toBe(true);
    expect(await lastDecision(config.auditFile, 'notes__delete_note')).toMatchObject({ decision: 'deny', decided_by: 'rule' });
    expect((await readFile(reviewLog, 'utf8')).trim().split('\n')).toHaveLength(before);
  });
});

describe('auto-review that fails', () => {
  it('a hanging reviewer escalates at its time limit: to the user where one can be asked, else deny', async () => {
    const config = await makeConfig({
      gateway: { approval: { timeout: '10s', autoReview: { command: ['node', join(REVIEWERS, 'hang.mjs')], timeout: '400ms' } } },
      servers: {
        notes: fixtureServer('notes', { tools: { default: 'ask' } }),
        echo: fixtureServer('echo', { tools: { default: 'ask' }, approval: { channel: 'elicitation' } }),
      },
    });
    const gateway = await startHttpGateway(config.dir);
    try {
      const { client, asked } = await approvingClient(gateway);
      const started = Date.now();
      const listed = await client.callTool({ name: 'notes__list_notes', arguments: {} });
      expect(listed.isError).toBeFalsy();
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(asked()).toBe(1);

      // no human channel for echo without elicitation (per-server channel: elicitation): deny
      const plain = await gateway.connect();
      const denied = await plain.callTool({ name: 'echo__echo', arguments: { message: 'x' } });
      expect(denied.isError).toBe(true);
      expect(textOf(denied)).toContain('the reviewer did not answer within 400 ms');
      expect(textOf(denied)).toContain('the client does not support elicitation');
      expect(await lastDecision(config.auditFile, 'echo__echo')).toMatchObject({ decision: 'deny', approval_channel: 'none' });
    } finally {
      await gateway.close();
      await config.cleanup();
    }
  });

  it('a reviewer that leaves a child holding its stdout: its verdict counts at once, and a hanging one ends at the approval timeout', async () => {
    const pidFile = join(tmpdir(), `mcpgate-sleeper-${process.pid}-${Date.now()}`);
    const config = await makeConfig({
      gateway: { approval: { timeout: '2s', autoReview: { command: ['node', join(REVIEWERS, 'leavesSleeper.mjs'), pidFile, 'approve'], timeout: '60s' } } },
      servers: {
        notes: fixtureServer('notes', { tools: { default: 'ask' } }),
        echo: fixtureServer('echo', { tools: { default: 'ask' } }),
      },
    });
    const gatewayYaml = join(config.dir, 'gateway.yaml');
    const gateway = await startHttpGateway(config.dir);
    try {
      const client = await gateway.connect();
      let started = Date.now();
      expect((await client.callTool({ name: 'notes__list_notes', arguments: {} })).isError).toBeFalsy();
      expect(Date.now() - started).toBeLessThan(15_000); // the sleeper holds the pipe for 45 s
      expect(await lastDecision(config.auditFile, 'notes__list_notes')).toMatchObject({ decision: 'allow', decided_by: 'auto_review' });
      await gateway.close();
      // the same reviewer never answering, with a review limit (60 s) longer than the approval timeout (2 s)
      await writeFile(gatewayYaml, (await readFile(gatewayYaml, 'utf8')).replace(`${pidFile}\n      - approve`, `${pidFile}\n      - hang`));
      const again = await startHttpGateway(config.dir);
      try {
        started = Date.now();
        const denied = await (await again.connect()).callTool({ name: 'echo__echo', arguments: { message: 'x' } });
        expect(Date.now() - started).toBeLessThan(15_000);
        expect(textOf(denied)).toContain('no approval within 2s (approval.timeout): denied (fail closed)');
        expect(await lastDecision(config.auditFile, 'echo__echo')).toMatchObject({ decision: 'deny', decided_by: 'timeout' });
      } finally {
        await again.close();
      }
    } finally {
      await gateway.close();
      await config.cleanup();
      for (const pid of (await readFile(pidFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // killed by the gateway, as it should be
        }
      }
      await rm(pidFile, { force: true });
    }
  });

  it('malformed reviewer output counts as escalate', async () => {
    const config = await makeConfig({
      gateway: { approval: { channel: 'elicitation', autoReview: { command: ['node', join(REVIEWERS, 'malformed.mjs')] } } },
      servers: { echo: fixtureServer('echo', { tools: { default: 'ask' } }) },
    });
    const gateway = await startHttpGateway(config.dir);
    try {
      const client = await gateway.connect();
      const denied = await client.callTool({ name: 'echo__echo', arguments: { message: 'x' } });
      expect(denied.isError).toBe(true);
      expect(textOf(denied)).toContain("the reviewer's answer is malformed: risk_level");
      expect(await lastDecision(config.auditFile, 'echo__echo')).toMatchObject({ decision: 'deny' });
    } finally {
      await gateway.close();
      await config.cleanup();
    }
  });
});

describe('auto-review by an HTTP webhook', () => {
  it('POSTs the call as JSON with the configured headers (references resolved) and follows the verdict', async () => {
    const seen: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const call = JSON.parse(body) as Record<string, unknown>;
        seen.push({ headers: req.headers, body: call });
        const approve = String(call.tool).startsWith('list_');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ outcome: approve ? 'approve' : 'escalate', risk_level: approve ? 'low' : 'high', rationale: approve ? 'read-only' : 'writes' }));
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/review`;
    const config = await makeConfig({
      gateway: { approval: { channel: 'elicitation', autoReview: { url, headers: { authorization: 'Bearer ${env:REVIEW_TOKEN}' } } } },
      servers: { notes: fixtureServer('notes', { tools: { default: 'ask' } }) },
    });
    const gateway = await startHttpGateway(config.dir, [], { REVIEW_TOKEN: 'review-token-123' });
    try {
      const client = await gateway.connect();
      expect((await client.callTool({ name: 'notes__list_notes', arguments: {} })).isError).toBeFalsy();
      expect(await lastDecision(config.auditFile, 'notes__list_notes')).toMatchObject({ decision: 'allow', decided_by: 'auto_review' });
      const denied = await client.callTool({ name: 'notes__add_note', arguments: { title: 'a', text: 'b' } });
      expect(textOf(denied)).toContain('the auto-reviewer escalated (risk high): writes');
      expect(seen).toHaveLength(2);
      expect(seen[0]!.headers.authorization).toBe('Bearer review-token-123');
      expect(seen[1]!.body).toMatchObject({ tool: 'add_note', arguments: { title: 'a', text: 'b' } });
    } finally {
      await gateway.close();
      await config.cleanup();
      hook.close();
    }
  });
});

describe('auto-review by MCP sampling', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { channel: 'elicitation', autoReview: { sampling: true, timeout: '5s' } } },
      servers: { notes: fixtureServer('notes', { tools: { default: 'ask' } }) },
    });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it("asks the calling client's model, which approves a read and escalates a write", async () => {
    const requests: CreateMessageRequest[] = [];
    const client = await gateway.connect({ capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      requests.push(request);
      const content = request.params.messages[0]!.content as { text: string };
      const approve = content.text.includes('"tool": "list_notes"');
      const verdict = approve
        ? { outcome: 'approve', risk_level: 'low', rationale: 'listing notes is read-only' }
        : { outcome: 'escalate', risk_level: 'high', rationale: 'writes a note' };
      return { role: 'assistant', model: 'test-model', content: { type: 'text', text: `\`\`\`json\n${JSON.stringify(verdict)}\n\`\`\`` } };
    });
    const listed = await client.callTool({ name: 'notes__list_notes', arguments: {} });
    expect(listed.isError).toBeFalsy();
    expect(await lastDecision(config.auditFile, 'notes__list_notes')).toMatchObject({ decision: 'allow', decided_by: 'auto_review' });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.params.systemPrompt).toContain('"outcome": "approve" | "escalate"');

    const added = await client.callTool({ name: 'notes__add_note', arguments: { title: 't', text: 'x' } });
    expect(added.isError).toBe(true); // escalated, and this client cannot be asked (no elicitation)
    expect(textOf(added)).toContain('the auto-reviewer escalated (risk high): writes a note');
    expect(requests).toHaveLength(2);
  });

  it('a 2026-07-28 caller declaring sampling is not sampled (no request is ever sent to it): escalated', async () => {
    const reply = await modernCall(gateway.url, 1, 'tools/call', { name: 'notes__list_notes', arguments: {} }, { sampling: {} });
    const result = reply.response.result as Record<string, unknown>;
    expect(result.isError).toBe(true); // escalated, and no elicitation declared: denied
    expect(textOf(result)).toContain('sampling a 2026-07-28 caller for the review is not supported yet');
  });

  it('a client without sampling is escalated (here: denied, no human channel)', async () => {
    const client = await gateway.connect();
    const result = await client.callTool({ name: 'notes__list_notes', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('does not support sampling');
  });
});
