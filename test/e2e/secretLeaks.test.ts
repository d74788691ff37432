/**
 * A hostile upstream holding resolved `${env:}` and `${file:}` values tries every way to show them
 * to the agent (test/fixtures/servers/hostile.ts): metadata of tools, prompts, resources and
 * templates, results escaped on the wire, JSON inside JSON, values as keys, base64, errors,
 * progress, log messages, elicitation and sampling requests, stderr lines of a PEM key before a
 * crash; another upstream reads the key file; the real server-everything prints its environment.
 * What the client sees, the audit log, the operational (debug) log and the OTLP export must hold
 * none of the values, in any of the spellings a reader could undo.
 */
import { ElicitRequestSchema, CreateMessageRequestSchema, LoggingMessageNotificationSchema, type ElicitRequest, type CreateMessageRequest } from '@modelcontextprotocol/sdk/types.js';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingServer, fixtureServer, makeConfig, startStdioGateway, textOf, waitFor, waitForAudit, waitForTools, type StdioGateway, type TempConfig } from '../support/gateway.js';
import { OtlpReceiver } from '../support/otlpReceiver.js';

const TOKEN = `hst_${randomBytes(12).toString('hex')}`;
const PASSWORD = `pw"with\\quote-${randomBytes(4).toString('hex')}`;
const PEM = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PEM_LINES = PEM.split('\n').filter((line) => line && !line.startsWith('-----'));
const REDACTED = '[REDACTED]';

const jsonEscape = (text: string) => JSON.stringify(text).slice(1, -1);
const uEscape = (text: string) => [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

/** Every value, and the spellings of it a reader of a JSON text could undo. */
const FORBIDDEN = [TOKEN, PASSWORD, ...PEM_LINES].flatMap((value) => [value, jsonEscape(value), jsonEscape(jsonEscape(value)), uEscape(value), encodeURIComponent(value)]);

/** The forbidden spellings found in `text` (shown on failure: which value leaked, not the whole text). */
function leaks(text: string): string[] {
  return [...new Set(FORBIDDEN.filter((form) => text.includes(form)))].map((form) => `${form.slice(0, 24)}…`);
}

const FAST_EXPORT = { OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BLRP_SCHEDULE_DELAY: '100', OTEL_METRIC_EXPORT_INTERVAL: '300' };

describe('a hostile upstream holding secrets cannot show them', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  let receiver: OtlpReceiver;
  let keyDir: string;
  let pemFile: string;
  const elicitations: ElicitRequest[] = [];
  const samplings: CreateMessageRequest[] = [];
  const logs: unknown[] = [];

  beforeAll(async () => {
    receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    keyDir = await mkdtemp(join(tmpdir(), 'mcpgate-key-'));
    pemFile = join(keyDir, 'key.pem');
    await writeFile(pemFile, PEM);
    const secrets = { HOSTILE_TOKEN: '${env:H_TOKEN}', HOSTILE_PASSWORD: '${env:H_PASSWORD}', HOSTILE_PEM: `\${file:${pemFile}}` };
    config = await makeConfig({
      servers: {
        hostile: fixtureServer('hostile', { env: secrets, tools: { default: 'allow' } }),
        // unconfined on purpose: a sandbox would hide the key file from it; this tests the scrubber behind it
        bystander: fixtureServer('hostile', { tools: { default: 'allow' }, sandbox: { mode: 'off' } }),
        everything: everythingServer({ env: { KEY_PEM: `\${file:${pemFile}}`, DB_PASSWORD: '${env:H_PASSWORD}' }, tools: { default: 'allow' } }),
      },
    });
    gateway = await startStdioGateway(
      config.dir,
      { capabilities: { elicitation: {}, sampling: {} } },
      { H_TOKEN: TOKEN, H_PASSWORD: PASSWORD, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...FAST_EXPORT },
    );
    gateway.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      elicitations.push(request);
      return { action: 'decline' };
    });
    gateway.client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      samplings.push(request);
      return { role: 'assistant', content: { type: 'text', text: 'summary' }, model: 'test' };
    });
    gateway.client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void logs.push(notification.params));
    await waitForTools(gateway.client, ['hostile__configure', 'bystander__readfile', 'everything__get-env']);
  });

  afterAll(async () => {
    await gateway?.close();
    await receiver?.close();
    await config?.cleanup();
    await rm(keyDir, { recursive: true, force: true });
  });

  const call = (how: string) => gateway.client.callTool({ name: 'hostile__leak', arguments: { how } });

  it('tools/list: descriptions, titles, schema property names and defaults, annotations and _meta are redacted; a tool named by a secret is left out', async () => {
    const { tools } = await gateway.client.listTools();
    expect(leaks(JSON.stringify(tools))).toEqual([]);
    const configure = tools.find((tool) => tool.name === 'hostile__configure');
    expect(configure?.description).toContain(`the token ${REDACTED}`);
    expect(configure?.title).toBe(`Configure (password ${REDACTED})`);
    expect(Object.keys((configure?.inputSchema.properties ?? {}) as object)).toEqual([`token_${REDACTED}`]);
    expect(JSON.stringify(configure?._meta)).toContain(REDACTED);
    expect(tools.some((tool) => tool.name.startsWith('hostile__named_'))).toBe(false);
    expect(tools.some((tool) => tool.name === 'hostile__leak')).toBe(true);
  });

  it('prompts and resources: descriptions (escaped or not) are redacted; a prompt or resource named by a secret is left out', async () => {
    const { prompts } = await gateway.client.listPrompts();
    const { resources } = await gateway.client.listResources();
    const { resourceTemplates } = await gateway.client.listResourceTemplates();
    for (const list of [prompts, resources, resourceTemplates]) expect(leaks(JSON.stringify(list))).toEqual([]);
    expect(prompts.map((p) => p.name).filter((name) => name.startsWith('hostile__'))).toEqual(['hostile__greet']);
    expect(prompts.find((p) => p.name === 'hostile__greet')?.description).toBe(`Greets with "${REDACTED}"`);
    expect(resources.map((r) => r.uri).filter((uri) => uri.startsWith('hostile:'))).toEqual(['hostile://notes']);
    expect(resources.find((r) => r.uri === 'hostile://notes')?.description).toBe(`token ${REDACTED}`);
    expect(resourceTemplates.find((t) => t.uriTemplate.startsWith('hostile:'))?.description).toBe(`password ${REDACTED}`);
    const prompt = await gateway.client.getPrompt({ name: 'hostile__greet', arguments: { who: 'me' } });
    const resource = await gateway.client.readResource({ uri: 'hostile://notes' });
    expect(leaks(JSON.stringify([prompt, resource]))).toEqual([]);
    expect(JSON.stringify(resource)).toContain(REDACTED);
  });

  it.each([
    ['plain', 'token=[REDACTED]'],
    ['uescape-wire', 'token=[REDACTED]'],
    ['uescape-text', 'token=[REDACTED]'],
    ['base64', REDACTED],
  ])('a result leaking the token as %s shows it redacted', async (how, expected) => {
    const result = await call(how);
    expect(leaks(JSON.stringify(result))).toEqual([]);
    expect(textOf(result)).toContain(expected);
  });

  it('the audit records the size of the scrubbed result that was sent, not of what the upstream sent', async () => {
    const result = await call('json2');
    const sent = textOf(result).length;
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.tool.result' && r.tool === 'leak' && r.result_size === sent));
    expect(records.some((r) => r.event === 'mcpgate.tool.result' && r.tool === 'leak' && r.result_size === sent)).toBe(true);
    expect(sent).toBeLessThan(JSON.stringify({ env: JSON.stringify({ PASSWORD, PEM }) }).length);
  });

  it('a result with the values as JSON inside JSON (twice escaped) keeps its shape, values redacted', async () => {
    const result = await call('json2');
    expect(leaks(JSON.stringify(result))).toEqual([]);
    const outer = JSON.parse(textOf(result)) as { env: string };
    expect(JSON.parse(outer.env)).toEqual({ PASSWORD: REDACTED, PEM: REDACTED });
  });

  it('a result with values as object keys (a PEM line among them) shows the keys redacted', async () => {
    const result = await call('key');
    expect(leaks(JSON.stringify(result))).toEqual([]);
    expect(result.structuredContent).toEqual({ [REDACTED]: 'a key', nested: [{ [REDACTED]: 1 }] });
  });

  it('an error response with a \\u-escaped token and the password in its data is redacted', async () => {
    const error = await call('error').then(() => undefined, (caught: Error & { data?: unknown }) => caught);
    expect(error?.message, error?.message).toContain(`bad token ${REDACTED}`);
    expect(leaks(`${error?.message} ${JSON.stringify(error?.data)}`)).toEqual([]);
  });

  it('progress notifications and log messages are redacted', async () => {
    const progress: unknown[] = [];
    await gateway.client.callTool({ name: 'hostile__leak', arguments: { how: 'progress' } }, undefined, { onprogress: (p) => void progress.push(p) });
    await call('log');
    await waitFor(() => progress.length > 0 && logs.length > 0, 5000, () => `a progress notification and a log message: ${JSON.stringify([progress, logs])}`);
    expect(JSON.stringify(progress)).toContain(`using ${REDACTED}`);
    expect(JSON.stringify(logs)).toContain(REDACTED);
    expect(leaks(JSON.stringify([progress, logs]))).toEqual([]);
  });

  it('elicitation and sampling requests the upstream sends during a call are redacted', async () => {
    expect(textOf(await call('elicit'))).toContain('elicitation answered');
    expect(textOf(await call('sample'))).toContain('sampling answered');
    expect(elicitations).toHaveLength(1);
    expect(samplings).toHaveLength(1);
    expect(JSON.stringify(elicitations)).toContain(REDACTED);
    expect(JSON.stringify(samplings)).toContain(REDACTED);
    expect(leaks(JSON.stringify([elicitations, samplings]))).toEqual([]);
  });

  it('an upstream holding no secret cannot show one either (unconfined, it reads the key file another server is given)', async () => {
    const result = await gateway.client.callTool({ name: 'bystander__readfile', arguments: { path: pemFile } });
    expect(leaks(JSON.stringify(result))).toEqual([]);
    expect(textOf(result).trim()).toBe(REDACTED);
  });

  it('server-everything get-env: a ${file:} PEM and a password with " and \\ (JSON escaped twice on the wire) are redacted', async () => {
    const result = await gateway.client.callTool({ name: 'everything__get-env', arguments: {} });
    expect(leaks(JSON.stringify(result))).toEqual([]);
    const env = JSON.parse(textOf(result)) as Record<string, string>;
    expect(env.KEY_PEM).toBe(REDACTED);
    expect(env.DB_PASSWORD).toBe(REDACTED);
  });

  it('a crash after stderr lines of the PEM: the -32011 error, the audit log, the debug log and OTLP hold no line of it', async () => {
    const error = await call('crash').then(() => undefined, (caught: Error) => caught);
    expect(error?.message).toMatch(/exited while tools\/call "leak" was in flight/);
    expect(error?.message).toMatch(/last stderr: (".*" \/ )*"\[REDACTED\]"\)/);
    expect(leaks(String(error?.message))).toEqual([]);
    await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.upstream.state' && r.server === 'hostile' && r.state === 'restarting' && String(r.error).includes('stderr')));
    await waitFor(() => gateway.stderr().includes('cannot use the key above'), 5000, () => 'the stderr lines in the debug log');
    await waitFor(() => receiver.logs.some((log) => JSON.stringify(log).includes('protocol_error')), 10_000, () => 'the failed call exported over OTLP');
  });

  it('the audit log, the debug log and the OTLP export of the whole run hold no value in any spelling', async () => {
    const audit = await readFile(config.auditFile, 'utf8');
    expect(audit).toContain(REDACTED);
    expect(leaks(audit)).toEqual([]);
    expect(gateway.stderr()).toContain('upstream stderr'); // the debug log was captured
    expect(leaks(gateway.stderr())).toEqual([]);
    expect(receiver.logs.length).toBeGreaterThan(0);
    expect(leaks(JSON.stringify([receiver.logs, receiver.spans]))).toEqual([]);
  });
});
