/**
 * Network asks through the approval machinery tools use, on real processes: elicitation to the
 * client whose call is in flight (message names server, destination and the call), the queue
 * (`mcpgate approvals` / `approve` / `deny` as separate processes), session and always scopes
 * (always writes a network entry to the approved-rules file, honoured next time), auto-review
 * (`kind: "network"`), a connection with no call in flight, and timeout = deny. Each asserted on
 * the fetch's answer and on the connection's `mcpgate.network.decision` record.
 *
 * Every address on this machine is loopback, which the policy denies unless a rule names it: so
 * the asks here come from `ask` rules naming 127.0.0.4/.5; the path of an ask by `default` is the
 * same from the verdict on (test/network/policy.test.ts covers the verdict).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureServer,
  makeConfig,
  pendingApprovals,
  REPO,
  runMcpgate,
  startStdioGateway,
  textOf,
  waitFor,
  waitForAudit,
  waitForTools,
  type AuditRecord,
  type PendingApproval,
  type StdioGateway,
  type TempConfig,
} from '../support/gateway.js';
import { startOrigin, type Origin } from '../support/origins.js';

const networkRecords = (records: AuditRecord[], host: string) => records.filter((r) => r.event === 'mcpgate.network.decision' && r.host === host);

/** Waits for the n-th (0-based) record of a connection to `host`. */
async function nthRecord(file: string, host: string, n: number): Promise<AuditRecord> {
  return networkRecords(await waitForAudit(file, (rs) => networkRecords(rs, host).length > n), host)[n] as AuditRecord;
}

/** Waits until a network ask for `destination` is pending and returns it. */
async function pendingConnection(dir: string, destination: string): Promise<PendingApproval> {
  let found: PendingApproval | undefined;
  await waitFor(async () => (found = (await pendingApprovals(dir)).find((p) => p.kind === 'network' && p.destination === destination)) !== undefined, 60_000, () => `pending network ask for ${destination}`);
  return found as PendingApproval;
}

const netprobe = (extra: Record<string, unknown> = {}) =>
  fixtureServer('netprobe', { tools: { allow: ['*'] }, network: { allow: ['127.0.0.2'], ask: ['127.0.0.4', '127.0.0.5'] }, ...extra });

describe('network ask by elicitation', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  let client: Client;
  let origin: Origin;
  const asked: ElicitRequest[] = [];
  const answers: ElicitResult[] = [];

  beforeAll(async () => {
    origin = await startOrigin('127.0.0.4');
    config = await makeConfig({ gateway: { approval: { timeout: '20s' }, network: { default: 'deny' } }, servers: { netprobe: netprobe() } });
    gateway = await startStdioGateway(config.dir, { capabilities: { elicitation: {} } });
    client = gateway.client;
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request);
      return answers.shift() ?? { action: 'decline' };
    });
    await waitForTools(client, ['netprobe__fetch']);
  });

  afterAll(async () => {
    await gateway?.close();
    await origin?.close();
    await config?.cleanup();
  });

  const fetch = async (via = 'http') => textOf(await client.callTool({ name: 'netprobe__fetch', arguments: { url: origin.url, via } }));

  it('asks the client whose call is in flight, naming server, destination and call; allow once opens that connection only', async () => {
    answers.push({ action: 'accept', content: { decision: 'once' } });
    expect(await fetch()).toBe('HTTP 200: hello from 127.0.0.4');
    expect(asked).toHaveLength(1);
    const message = asked[0]!.params.message;
    expect(message).toContain('mcpgate: allow this network connection?');
    expect(message).toContain('Server: netprobe');
    expect(message).toContain(`Destination: 127.0.0.4:${origin.port}`);
    expect(message).toMatch(/During: netprobe__fetch \(call \S+\)/);
    expect(message).toContain('servers.d/netprobe.yaml network.ask[0] (127.0.0.4)');
    const record = await nthRecord(config.auditFile, '127.0.0.4', 0);
    expect(record).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'once', approval_channel: 'elicitation', tool: 'netprobe__fetch', rule: 'servers.d/netprobe.yaml network.ask[0] (127.0.0.4)' });
    expect(record.bytes_down).toBeGreaterThan(0);
    expect(record.approval_wait_ms).toEqual(expect.any(Number));
  });

  it('a deny answer refuses the connection with the reason; the origin never sees it', async () => {
    const before = origin.requests();
    answers.push({ action: 'accept', content: { decision: 'deny' } });
    expect(await fetch('socks5')).toBe('refused: SOCKS5 reply 2');
    expect(asked).toHaveLength(2);
    expect(origin.requests()).toBe(before);
    expect(await nthRecord(config.auditFile, '127.0.0.4', 1)).toMatchObject({ decision: 'deny', decided_by: 'user', approval_channel: 'elicitation', protocol: 'socks5' });
  });

  it('"for this session" answers later connections of that session to that destination without asking', async () => {
    answers.push({ action: 'accept', content: { decision: 'session' } });
    expect(await fetch('connect')).toBe('HTTP 200: hello from 127.0.0.4');
    expect(await fetch('connect')).toBe('HTTP 200: hello from 127.0.0.4');
    expect(asked).toHaveLength(3);
    expect(await nthRecord(config.auditFile, '127.0.0.4', 2)).toMatchObject({ decision: 'allow', scope: 'session', approval_channel: 'elicitation' });
    expect(await nthRecord(config.auditFile, '127.0.0.4', 3)).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'session', approval_channel: 'session' });
  });
});

describe('network ask through the approval queue', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  let client: Client;
  let origin: Origin;

  beforeAll(async () => {
    origin = await startOrigin('127.0.0.5');
    // Each `mcpgate` command is its own process: on a loaded machine several take longer than 20 s together.
    config = await makeConfig({ gateway: { approval: { timeout: '100s', channel: 'queue' }, network: { default: 'deny' } }, servers: { netprobe: netprobe() } });
    gateway = await startStdioGateway(config.dir);
    client = gateway.client;
    await waitForTools(client, ['netprobe__fetch']);
  });

  afterAll(async () => {
    await gateway?.close();
    await origin?.close();
    await config?.cleanup();
  });

  const destination = () => `127.0.0.5:${origin.port}`;
  const fetch = (later_ms?: number) => client.callTool({ name: 'netprobe__fetch', arguments: { url: origin.url, ...(later_ms === undefined ? {} : { later_ms }) } });

  it('lists the connection in mcpgate approvals (with the call in flight); deny --reason refuses it with that reason', async () => {
    const call = fetch();
    const item = await pendingConnection(config.dir, destination());
    expect(item).toMatchObject({ kind: 'network', server: 'netprobe', public_name: 'netprobe__fetch', client: 'mcpgate-test 1.0.0' });
    const table = await runMcpgate(['approvals', '--config', config.dir]);
    expect(table.stdout).toContain(`(network)  connect to ${destination()} during netprobe__fetch`);
    expect((await runMcpgate(['deny', item.id, '--reason', 'not that host', '--config', config.dir])).code).toBe(0);
    expect(textOf(await call)).toContain('refused: HTTP/1.1 403 Forbidden mcpgate: connection to 127.0.0.5');
    expect(textOf(await call)).toContain('denied by an administrator: not that host');
    expect(await nthRecord(config.auditFile, '127.0.0.5', 0)).toMatchObject({ decision: 'deny', decided_by: 'user', approval_channel: 'queue', reason: 'denied by an administrator: not that host' });
  }, 150_000);

  it('approve --always opens it, writes a network entry to the approved-rules file, and the next connection is not asked', async () => {
    const call = fetch();
    const item = await pendingConnection(config.dir, destination());
    expect((await runMcpgate(['approve', item.id, '--always', '--config', config.dir])).code).toBe(0);
    expect(textOf(await call)).toBe('HTTP 200: hello from 127.0.0.5');
    expect(await nthRecord(config.auditFile, '127.0.0.5', 1)).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'always', approval_channel: 'queue' });
    const file = parse(await readFile(join(config.dir, 'rules.d/approved.yaml'), 'utf8')) as { network: Array<Record<string, unknown>> };
    expect(file.network).toEqual([expect.objectContaining({ destination: destination(), server: 'netprobe', client: 'mcpgate-test 1.0.0' })]);
    expect(textOf(await fetch())).toBe('HTTP 200: hello from 127.0.0.5');
    expect(await nthRecord(config.auditFile, '127.0.0.5', 2)).toMatchObject({
      decision: 'allow',
      scope: 'always',
      approval_channel: 'always',
      rule: `rules.d/approved.yaml network[0] (${destination()})`,
    });
    expect(await pendingApprovals(config.dir)).toHaveLength(0);
  }, 150_000);

  it('the audit report lists the asked connections and their answers', async () => {
    const report = await runMcpgate(['audit', 'report', '--config', config.dir, '--json']);
    const asked = (JSON.parse(report.stdout) as { network: { asked: Array<{ label: string; count: number }> } }).network.asked;
    expect(asked).toEqual(
      expect.arrayContaining([
        { label: 'netprobe → 127.0.0.5: deny by user', count: 1 },
        { label: 'netprobe → 127.0.0.5: allow by user (always)', count: 2 },
      ]),
    );
  });

  it('a connection opened with no call in flight is queued without a session, and approving it opens it', async () => {
    const other = await startOrigin('127.0.0.4');
    try {
      // later_ms: the tool answers at once and fetches afterwards, when no call is in flight
      expect(textOf(await client.callTool({ name: 'netprobe__fetch', arguments: { url: other.url, later_ms: 10 } }))).toBe('scheduled');
      const item = await pendingConnection(config.dir, `127.0.0.4:${other.port}`);
      expect(item).toMatchObject({ session: '', public_name: '', client: '' });
      expect((await runMcpgate(['approve', item.id, '--config', config.dir])).code).toBe(0);
      const record = await nthRecord(config.auditFile, '127.0.0.4', 0);
      expect(record).toMatchObject({ decision: 'allow', decided_by: 'user', approval_channel: 'queue', scope: 'once' });
      expect(record.session).toBeUndefined();
      expect(other.requests()).toBe(1);
    } finally {
      await other.close();
    }
  }, 150_000);
});

describe('network asks answered by the auto-reviewer, or by nobody', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  let client: Client;
  let reviewed: Origin;
  let unanswered: Origin;
  const reviewLog = () => join(config.dir, 'reviews.jsonl');

  beforeAll(async () => {
    [reviewed, unanswered] = await Promise.all([startOrigin('127.0.0.4'), startOrigin('127.0.0.5')]);
    config = await makeConfig({ gateway: { network: { default: 'deny' } }, servers: { netprobe: netprobe() } });
    // The reviewer approves 127.0.0.4 and escalates the rest; the queue then waits 1.5 s.
    const gatewayFile = join(config.dir, 'gateway.yaml');
    const current = parse(await readFile(gatewayFile, 'utf8')) as Record<string, unknown>;
    const review = { command: ['node', join(REPO, 'test/fixtures/reviewers/network.mjs'), reviewLog(), `127.0.0.4:${reviewed.port}`], timeout: '5s' };
    const { writeFile } = await import('node:fs/promises');
    const { stringify } = await import('yaml');
    await writeFile(gatewayFile, stringify({ ...current, approval: { timeout: '1500ms', channel: 'queue', autoReview: review } }));
    gateway = await startStdioGateway(config.dir);
    client = gateway.client;
    await waitForTools(client, ['netprobe__fetch']);
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([reviewed?.close(), unanswered?.close()]);
    await config?.cleanup();
  });

  it('the auto-reviewer gets kind "network" with server, destination and the call, and may approve', async () => {
    expect(textOf(await client.callTool({ name: 'netprobe__fetch', arguments: { url: reviewed.url } }))).toBe('HTTP 200: hello from 127.0.0.4');
    const [input] = (await readFile(reviewLog(), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(input).toMatchObject({ kind: 'network', server: 'netprobe', host: '127.0.0.4', port: reviewed.port, destination: `127.0.0.4:${reviewed.port}`, tool: 'netprobe__fetch', asking_rule: 'servers.d/netprobe.yaml network.ask[0] (127.0.0.4)' });
    expect(await nthRecord(config.auditFile, '127.0.0.4', 0)).toMatchObject({ decision: 'allow', decided_by: 'auto_review', approval_channel: 'auto_review', scope: 'once' });
  });

  it('an escalated connection nobody answers is denied at approval.timeout (decided_by: timeout)', async () => {
    const answer = textOf(await client.callTool({ name: 'netprobe__fetch', arguments: { url: unanswered.url } }));
    expect(answer).toContain('no approval within 1500ms (approval.timeout): denied (fail closed)');
    expect(unanswered.requests()).toBe(0);
    expect(await nthRecord(config.auditFile, '127.0.0.5', 0)).toMatchObject({ decision: 'deny', decided_by: 'timeout', approval_channel: 'queue' });
  });
});
