/**
 * Through a real gateway process, over stdio and over Streamable HTTP, with the SDK's Client:
 * the reference servers (server-everything, server-memory) and our notes fixture, aggregated.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ToolListChangedNotificationSchema,
  type LoggingMessageNotification,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  everythingServer,
  fixtureServer,
  makeConfig,
  memoryServer,
  startHttpGateway,
  startStdioGateway,
  textOf,
  waitFor,
  waitForAudit,
  type TempConfig,
} from '../support/gateway.js';

type Transport = 'stdio' | 'http';

describe.each<Transport>(['stdio', 'http'])('gateway over %s', (transport) => {
  let config: TempConfig;
  let client: Client;
  let close: () => Promise<void>;
  const toolListChanges: number[] = [];
  const logs: LoggingMessageNotification['params'][] = [];

  const memoryFile = join(mkdtempSync(join(tmpdir(), 'mcpgate-memory-')), 'memory.jsonl');

  beforeAll(async () => {
    config = await makeConfig({
      servers: {
        everything: everythingServer({ tools: { default: 'allow' } }),
        memory: memoryServer(memoryFile, { tools: { default: 'allow' } }),
        notes: fixtureServer('notes', { tools: { default: 'allow' }, env: { NOTES_PAGE_SIZE: '2' } }),
      },
    });
    const clientOptions = { capabilities: { sampling: {}, roots: {} } };
    if (transport === 'stdio') {
      const gateway = await startStdioGateway(config.dir, clientOptions);
      client = gateway.client;
      close = gateway.close;
    } else {
      const gateway = await startHttpGateway(config.dir);
      client = await gateway.connect(clientOptions);
      close = gateway.close;
    }
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
      role: 'assistant',
      model: 'test-model',
      content: { type: 'text', text: `sampled answer to ${request.params.messages.length} message(s)` },
    }));
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: `file:///tmp/root-of-${transport}`, name: 'test root' }] }));
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      toolListChanges.push(Date.now());
    });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      logs.push(notification.params);
    });
  });

  afterAll(async () => {
    await close?.();
    await config?.cleanup();
    await rm(dirname(memoryFile), { recursive: true, force: true });
  });

  it('lists the namespaced tools of every upstream', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('everything__echo');
    expect(names).toContain('everything__trigger-long-running-operation');
    expect(names).toContain('memory__create_entities');
    expect(names).toContain('memory__read_graph');
    // notes paginates its own tools/list two at a time: the gateway must have read every page
    expect(names).toEqual(expect.arrayContaining(['notes__list_notes', 'notes__get_note', 'notes__add_note', 'notes__delete_note']));
    expect(new Set(names).size).toBe(names.length);
  });

  it('calls tools of server-everything and server-memory', async () => {
    const echo = await client.callTool({ name: 'everything__echo', arguments: { message: 'hello gateway' } });
    expect(textOf(echo)).toBe('Echo: hello gateway');

    await client.callTool({
      name: 'memory__create_entities',
      arguments: { entities: [{ name: 'mcpgate', entityType: 'project', observations: [`via ${transport}`] }] },
    });
    const graph = await client.callTool({ name: 'memory__read_graph', arguments: {} });
    expect(textOf(graph)).toContain('mcpgate');
    expect(textOf(graph)).toContain(`via ${transport}`);
  });

  it('passes structured content and isError results through', async () => {
    const structured = await client.callTool({ name: 'everything__get-structured-content', arguments: { location: 'Chicago' } });
    expect(structured.structuredContent).toMatchObject({ temperature: expect.any(Number), conditions: expect.any(String) });
    const failing = await client.callTool({ name: 'notes__get_note', arguments: { id: 'does-not-exist' } });
    expect(failing.isError).toBe(true);
  });

  it('forwards progress notifications with the client’s own progress token', async () => {
    const progress: Progress[] = [];
    const result = await client.callTool(
      { name: 'everything__trigger-long-running-operation', arguments: { duration: 2, steps: 4 } },
      undefined,
      { onprogress: (p) => progress.push(p) },
    );
    expect(textOf(result)).toContain('Long running operation completed');
    // The gateway forwards all four in order, each before the result. The SDK client handles a
    // notification a microtask late, so when one read holds the last progress and the result
    // (a loaded machine), the client itself drops that progress: allow for it, nothing else.
    const values = progress.map((p) => p.progress);
    expect(values.length).toBeGreaterThanOrEqual(3);
    expect(values).toEqual([1, 2, 3, 4].slice(0, values.length));
    expect(progress.every((p) => p.total === 4)).toBe(true);
  });

  it('cancels a running call upstream and records it as cancelled', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const call = client.callTool(
      { name: 'everything__trigger-long-running-operation', arguments: { duration: 20, steps: 20 } },
      undefined,
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort('test cancels'), 300);
    await expect(call).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    const records = await waitForAudit(config.auditFile, (rs) =>
      rs.some((r) => r.event === 'mcpgate.tool.result' && r.tool === 'trigger-long-running-operation' && r.outcome === 'cancelled'),
    );
    const cancelled = records.find((r) => r.outcome === 'cancelled');
    expect(cancelled?.server).toBe('everything');
  });

  it('routes a sampling request from server-everything to this client and back', async () => {
    const result = await client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'say hi', maxTokens: 5 } });
    expect(textOf(result)).toContain('sampled answer to 1 message(s)');
    expect(textOf(result)).toContain('test-model');
  });

  it('routes a roots/list request from the upstream to the client that made the call', async () => {
    const result = await client.callTool({ name: 'everything__get-roots-list', arguments: {} });
    expect(textOf(result)).toContain(`file:///tmp/root-of-${transport}`);
  });

  it('propagates tools/list_changed after re-listing the upstream', async () => {
    const before = toolListChanges.length;
    await client.callTool({ name: 'notes__register_tool', arguments: { name: `extra_${transport}` } });
    await waitFor(() => toolListChanges.length > before, 10_000, () => 'tools/list_changed notification');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain(`notes__extra_${transport}`);
    const called = await client.callTool({ name: `notes__extra_${transport}`, arguments: { x: 1 } });
    expect(called.isError).not.toBe(true);
  });

  it('forwards logging messages sent during a call', async () => {
    await client.callTool({ name: 'notes__log_message', arguments: { level: 'warning', message: `hello from ${transport}` } });
    await waitFor(() => logs.some((l) => JSON.stringify(l.data).includes(`hello from ${transport}`)), 5000, () => 'log message');
  });

  it('aggregates resources, templates and prompts, and routes reads and gets', async () => {
    const resources = (await client.listResources()).resources.map((r) => r.uri);
    expect(resources.some((uri) => uri.startsWith('demo://resource/static/document/'))).toBe(true);
    const first = resources.find((uri) => uri.startsWith('demo://resource/static/document/')) as string;
    const read = await client.readResource({ uri: first });
    expect(read.contents[0]?.uri).toBe(first);

    const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toContain('demo://resource/dynamic/text/{resourceId}');
    const dynamic = await client.readResource({ uri: 'demo://resource/dynamic/text/7' });
    expect(JSON.stringify(dynamic.contents)).toContain('7');

    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toContain('everything__simple-prompt');
    expect(prompts).toContain('everything__args-prompt');
    const prompt = await client.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Lisbon' } });
    expect(JSON.stringify(prompt.messages)).toContain('Lisbon');
  });

  it('wrote session, decision and result records to the audit log', async () => {
    // the writer buffers briefly: wait until every allowed call's result is on disk
    const records = await waitForAudit(config.auditFile, (rs) => {
      const allowed = rs.filter((r) => r.event === 'mcpgate.tool.decision' && r.decision === 'allow');
      return allowed.length > 5 && allowed.every((d) => rs.some((r) => r.event === 'mcpgate.tool.result' && r.call === d.call));
    });
    expect(records.some((r) => r.event === 'mcpgate.session.start' && r.transport === transport && r.client_name === 'mcpgate-test')).toBe(true);
    const decisions = records.filter((r) => r.event === 'mcpgate.tool.decision');
    const results = records.filter((r) => r.event === 'mcpgate.tool.result');
    expect(decisions.length).toBeGreaterThan(5);
    // every allowed decision has exactly one result with the same call id
    for (const decision of decisions.filter((d) => d.decision === 'allow')) {
      expect(results.filter((r) => r.call === decision.call)).toHaveLength(1);
    }
    expect(records.some((r) => r.event === 'mcpgate.upstream.state' && r.server === 'everything' && r.state === 'ready')).toBe(true);
  });
});
