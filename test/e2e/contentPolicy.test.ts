/**
 * Resources, prompts and completions get a policy and an audit record each, through a real
 * gateway: a server whose tool default is deny (or that says `resources: deny`) has them hidden
 * and refused with a reason, nothing reaches it, and every request leaves exactly one
 * `mcpgate.request` record (allowed, denied, failed), exported to OpenTelemetry too.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CompleteResultSchema, EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver } from '../support/otlpReceiver.js';
import { fixtureServer, makeConfig, startStdioGateway, waitFor, waitForAudit, type AuditRecord, type TempConfig } from '../support/gateway.js';

const FAST_EXPORT = { OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BLRP_SCHEDULE_DELAY: '100', OTEL_METRICS_EXPORTER: 'none' };

describe('resources, prompts and completions: policy and audit', () => {
  let config: TempConfig;
  let client: Client;
  let close: () => Promise<void>;
  let receiver: OtlpReceiver;
  const recorder = (name: string, extra: Record<string, unknown>) =>
    fixtureServer('recorder', { env: { RECORD_FILE: `\${env:RECORD_DIR}/${name}.jsonl`, RECORD_NAME: name }, ...extra });
  const received = async (server: string) =>
    (await readFile(join(config.dir, `${server}.jsonl`), 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { method: string; params: Record<string, unknown> });

  beforeAll(async () => {
    receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    config = await makeConfig({
      // the recorder writes what it receives into the test's temp dir: policy is under test here, not confinement
      gateway: { approval: { channel: 'none' }, sandbox: { mode: 'off' } },
      servers: {
        open: recorder('open', { tools: { default: 'allow' } }),
        asky: recorder('asky', {}), // tool default ask (built in): resources and prompts are allowed
        closed: recorder('closed', { tools: { default: 'deny' } }),
        notes: fixtureServer('notes', { tools: { default: 'allow' }, resources: 'deny', prompts: 'allow' }),
      },
    });
    const gateway = await startStdioGateway(config.dir, {}, { RECORD_DIR: config.dir, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...FAST_EXPORT });
    client = gateway.client;
    close = gateway.close;
    await waitFor(async () => (await client.listPrompts()).prompts.length >= 3, 30_000, () => 'prompts of every upstream');
  });

  afterAll(async () => {
    await close?.();
    await receiver?.close();
    await config?.cleanup();
  });

  /** The one `mcpgate.request` record of the n-th request on `target` with `method`. */
  async function requestRecord(method: string, target: string, nth = 0): Promise<AuditRecord> {
    const matching = (rs: AuditRecord[]) => rs.filter((r) => r.event === 'mcpgate.request' && r.method === method && r.target === target);
    const records = await waitForAudit(config.auditFile, (rs) => matching(rs).length > nth);
    return matching(records)[nth] as AuditRecord;
  }

  it('hides the resources, templates and prompts of denied servers', async () => {
    const uris = (await client.listResources()).resources.map((r) => r.uri);
    expect(uris).toContain('rec://open/doc/1');
    expect(uris).toContain('rec://asky/doc/1');
    expect(uris).not.toContain('rec://closed/doc/1');
    expect(uris.filter((uri) => uri.startsWith('notes://'))).toEqual([]);
    const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toEqual(expect.arrayContaining(['rec://open/doc/{id}', 'rec://asky/doc/{id}']));
    expect(templates).not.toContain('rec://closed/doc/{id}');
    expect(templates).not.toContain('notes://note/{id}');
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toEqual(expect.arrayContaining(['open__greet', 'asky__greet', 'notes__summarize_notes']));
    expect(prompts).not.toContain('closed__greet');
  });

  it('refuses a read of a denied server with the reason, records it, and forwards nothing', async () => {
    await expect(client.readResource({ uri: 'rec://closed/doc/1' })).rejects.toThrow(/resources\/read rec:\/\/closed\/doc\/1 was denied: resources denied by default, following the tool default \(deny by default/);
    expect(await requestRecord('resources/read', 'rec://closed/doc/1')).toMatchObject({ server: 'closed', decision: 'deny', decided_by: 'default', outcome: 'denied' });
    await expect(client.readResource({ uri: 'rec://closed/doc/7' })).rejects.toThrow(/was denied/); // by its template
    await expect(client.subscribeResource({ uri: 'rec://closed/doc/1' })).rejects.toThrow(/was denied/);
    expect(await requestRecord('resources/subscribe', 'rec://closed/doc/1')).toMatchObject({ decision: 'deny', outcome: 'denied' });
    await expect(client.readResource({ uri: 'notes://note/1' })).rejects.toThrow(/resources of notes are denied \(servers\.d\/notes\.yaml resources: deny\)/);
    expect(await requestRecord('resources/read', 'notes://note/1')).toMatchObject({ server: 'notes', decision: 'deny', decided_by: 'rule', rule: 'servers.d/notes.yaml resources (resources: deny)' });
    expect(await received('closed')).toEqual([]);
  });

  it('records allowed reads (with their size) and failed ones (with the error)', async () => {
    const read = await client.readResource({ uri: 'rec://open/doc/1' });
    expect(read.contents[0]).toMatchObject({ text: 'document one' });
    expect(await requestRecord('resources/read', 'rec://open/doc/1')).toMatchObject({ server: 'open', decision: 'allow', outcome: 'ok', result_size: 12 });
    await expect(client.readResource({ uri: 'rec://open/doc/9' })).rejects.toThrow(/no such document/);
    const failed = await requestRecord('resources/read', 'rec://open/doc/9');
    expect(failed).toMatchObject({ decision: 'allow', outcome: 'protocol_error' });
    expect(String(failed.error)).toContain('no such document');
    await expect(client.readResource({ uri: 'nowhere://x' })).rejects.toThrow(/Resource not found/);
    expect(await requestRecord('resources/read', 'nowhere://x')).toMatchObject({ server: '', decision: 'deny', outcome: 'protocol_error' });
    expect(await client.readResource({ uri: 'rec://asky/doc/1' })).toMatchObject({ contents: [{ text: 'document one' }] });
    await client.request({ method: 'resources/subscribe', params: { uri: 'rec://open/doc/1' } }, EmptyResultSchema);
    expect(await requestRecord('resources/subscribe', 'rec://open/doc/1')).toMatchObject({ decision: 'allow', outcome: 'ok' });
  });

  it('prompts: a denied server refuses prompts/get; an allowed one records the arguments', async () => {
    await expect(client.getPrompt({ name: 'closed__greet', arguments: { who: 'x' } })).rejects.toThrow(/prompts\/get closed__greet was denied: prompts denied by default/);
    expect(await requestRecord('prompts/get', 'closed__greet')).toMatchObject({ decision: 'deny', outcome: 'denied', server: 'closed' });
    const prompt = await client.getPrompt({ name: 'open__greet', arguments: { who: 'ann' } });
    expect(prompt.messages[0]?.content).toMatchObject({ text: 'hello ann' });
    expect(await requestRecord('prompts/get', 'open__greet')).toMatchObject({ decision: 'allow', outcome: 'ok', arguments: { who: 'ann' } });
    await expect(client.getPrompt({ name: 'nobody__greet' })).rejects.toThrow(/Unknown prompt/);
    expect(await requestRecord('prompts/get', 'nobody__greet')).toMatchObject({ outcome: 'protocol_error', decision: 'deny' });
    // notes says prompts: allow although its resources are denied
    expect((await client.getPrompt({ name: 'notes__summarize_notes' })).messages).toHaveLength(1);
    expect(await requestRecord('prompts/get', 'notes__summarize_notes')).toMatchObject({ decision: 'allow', decided_by: 'rule', rule: 'servers.d/notes.yaml prompts (prompts: allow)' });
  });

  it('completions follow the policy of what they complete', async () => {
    const complete = (ref: Record<string, unknown>) => client.request({ method: 'completion/complete', params: { ref, argument: { name: 'who', value: 'a' } } }, CompleteResultSchema);
    await expect(complete({ type: 'ref/prompt', name: 'closed__greet' })).rejects.toThrow(/was denied/);
    await expect(complete({ type: 'ref/resource', uri: 'rec://closed/doc/{id}' })).rejects.toThrow(/was denied/);
    expect(await requestRecord('completion/complete', 'closed__greet')).toMatchObject({ decision: 'deny', outcome: 'denied' });
    expect((await complete({ type: 'ref/prompt', name: 'open__greet' })).completion.values).toEqual(['alice']);
    expect(await requestRecord('completion/complete', 'open__greet')).toMatchObject({ decision: 'allow', outcome: 'ok', result_size: 1 });
    // notes has no completion handler: the upstream's error is recorded
    await expect(complete({ type: 'ref/prompt', name: 'notes__summarize_notes' })).rejects.toThrow();
    expect(await requestRecord('completion/complete', 'notes__summarize_notes')).toMatchObject({ decision: 'allow', outcome: 'protocol_error' });
    const forwarded = (await received('open')).filter((r) => r.method === 'completion/complete');
    expect(forwarded.map((r) => r.params.ref)).toEqual([{ type: 'ref/prompt', name: 'greet' }]);
    expect((await received('closed')).map((r) => r.method)).toEqual([]);
  });

  it('writes exactly one record per request, and exports it to OpenTelemetry', async () => {
    const records = (await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.request'))).filter((r) => r.event === 'mcpgate.request');
    const ids = records.map((r) => r.request);
    expect(new Set(ids).size).toBe(ids.length);
    await waitFor(() => receiver.logs.some((log) => log.eventName === 'mcpgate.request' && log.attributes['mcp.resource.uri'] === 'rec://closed/doc/1'), 15_000, () => 'the mcpgate.request log record');
    const exported = receiver.logs.find((log) => log.eventName === 'mcpgate.request' && log.attributes['mcp.resource.uri'] === 'rec://closed/doc/1');
    expect(exported?.attributes).toMatchObject({ 'mcp.method.name': 'resources/read', 'mcpgate.decision': 'deny', 'mcpgate.outcome': 'denied', 'error.type': 'denied' });
  });
});
