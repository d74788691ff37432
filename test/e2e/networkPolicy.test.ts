/**
 * The egress proxy against real processes: an unsandboxed fixture upstream (netprobe) whose
 * tools fetch through the proxy its environment names (its loopback TCP route, which the test
 * also talks to directly), the same fixture sandboxed (boxed: its only way out is the egress
 * bridge inside the sandbox), local origin servers on 127.0.0.2/.3/.4,
 * and a gateway over stdio. Each case is asserted on the tool's answer and on the
 * `mcpgate.network.decision` record of the connection.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, readAudit, runMcpgate, startStdioGateway, textOf, waitForAudit, waitForTools, type AuditRecord, type StdioGateway, type TempConfig } from '../support/gateway.js';
import { exchange, startOrigin, type Origin } from '../support/origins.js';

const network = (records: AuditRecord[]) => records.filter((r) => r.event === 'mcpgate.network.decision');

describe('egress proxy: allow and deny by policy (unsandboxed upstream)', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  let client: Client;
  let allowed: Origin;
  let denied: Origin;
  let unnamed: Origin;
  let proxyPort: number;

  const fetch = async (url: string, via = 'http') => textOf(await client.callTool({ name: 'netprobe__fetch', arguments: { url, via } }));
  /** The record of the next connection to `host:port`, once it ended. */
  const recordFor = async (host: string, port: number, seen = 0) => {
    const match = (r: AuditRecord) => r.host === host && r.port === port;
    const records = await waitForAudit(config.auditFile, (rs) => network(rs).filter(match).length > seen);
    return network(records).filter(match)[seen] as AuditRecord;
  };

  beforeAll(async () => {
    [allowed, denied, unnamed] = await Promise.all([startOrigin('127.0.0.2'), startOrigin('127.0.0.3'), startOrigin('127.0.0.4')]);
    config = await makeConfig({
      gateway: { network: { default: 'allow', deny: ['127.0.0.3'] } },
      servers: {
        netprobe: fixtureServer('netprobe', { tools: { allow: ['*'] }, network: { allow: ['127.0.0.2', 'localhost:1'] }, sandbox: { mode: 'off' } }),
        boxed: fixtureServer('netprobe', { tools: { allow: ['*'] }, network: { allow: ['127.0.0.2'] }, sandbox: { mode: 'required' } }),
      },
    });
    gateway = await startStdioGateway(config.dir);
    client = gateway.client;
    await waitForTools(client, ['netprobe__fetch', 'boxed__fetch']);
    const env = JSON.parse(textOf(await client.callTool({ name: 'netprobe__proxy_env', arguments: {} }))) as Record<string, string>;
    proxyPort = Number(new URL(env.HTTP_PROXY as string).port);
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([allowed?.close(), denied?.close(), unnamed?.close()]);
    await config?.cleanup();
  });

  it('gives an unsandboxed stdio server the proxy variables of its own loopback route', async () => {
    const env = JSON.parse(textOf(await client.callTool({ name: 'netprobe__proxy_env', arguments: {} }))) as Record<string, string>;
    const url = `http://127.0.0.1:${proxyPort}`;
    expect(env).toEqual({
      HTTP_PROXY: url,
      HTTPS_PROXY: url,
      http_proxy: url,
      https_proxy: url,
      ALL_PROXY: `socks5h://127.0.0.1:${proxyPort}`,
      all_proxy: `socks5h://127.0.0.1:${proxyPort}`,
      NO_PROXY: '',
      no_proxy: '',
      NODE_USE_ENV_PROXY: '1',
    });
  });

  it.each(['http', 'connect', 'socks5'])('fetches from an allowed local server over %s; the record carries the rule and the bytes', async (via) => {
    const before = network(await readAudit(config.auditFile)).filter((r) => r.host === '127.0.0.2').length;
    expect(await fetch(allowed.url, via)).toBe('HTTP 200: hello from 127.0.0.2');
    const record = await recordFor('127.0.0.2', allowed.port, before);
    expect(record).toMatchObject({
      server: 'netprobe',
      protocol: via,
      decision: 'allow',
      decided_by: 'rule',
      rule: 'servers.d/netprobe.yaml network.allow[0] (127.0.0.2)',
      address: '127.0.0.2',
      session: expect.any(String),
      tool: 'netprobe__fetch',
      call: expect.any(String),
    });
    expect(record.bytes_up).toBeGreaterThan(20);
    expect(record.bytes_down).toBeGreaterThan('hello from 127.0.0.2'.length);
    expect(record.duration_ms).toEqual(expect.any(Number));
  });

  it.each(['http', 'connect', 'socks5'])('refuses a denied local server over %s with the reason; the origin never sees it', async (via) => {
    const before = network(await readAudit(config.auditFile)).filter((r) => r.host === '127.0.0.3').length;
    const answer = await fetch(denied.url, via);
    expect(answer).toMatch(via === 'socks5' ? /^refused: SOCKS5 reply 2$/ : /^refused: HTTP\/1\.1 403 Forbidden .*denied by gateway\.yaml network\.deny\[0\] \(127\.0\.0\.3\)/);
    expect(denied.requests()).toBe(0);
    const record = await recordFor('127.0.0.3', denied.port, before);
    expect(record).toMatchObject({ decision: 'deny', decided_by: 'rule', rule: 'gateway.yaml network.deny[0] (127.0.0.3)', reason: 'denied by gateway.yaml network.deny[0] (127.0.0.3)' });
    expect(record.bytes_up).toBeUndefined();
  });

  it('denies a loopback address no rule names, even under default: allow (built-in protection)', async () => {
    expect(await fetch(unnamed.url)).toContain('127.0.0.4 is a loopback address: denied unless a network rule names it');
    expect(unnamed.requests()).toBe(0);
    expect(await recordFor('127.0.0.4', unnamed.port)).toMatchObject({ decision: 'deny', decided_by: 'default' });
  });

  it('judges a host name by the address it resolves to: localhost → loopback is denied (an exact rule on another port does not name it)', async () => {
    const answer = await fetch(`http://localhost:${allowed.port}/`, 'socks5');
    expect(answer).toBe('refused: SOCKS5 reply 2');
    const record = await recordFor('localhost', allowed.port);
    expect(record).toMatchObject({ decision: 'deny', decided_by: 'default', reason: expect.stringContaining('localhost is a loopback name') });
  });

  it.each([
    ['decimal', '2130706435'], // 127.0.0.3
    ['hex', '0x7f.0.0.3'],
    ['octal', '0177.0.0.3'],
    ['short', '127.3'],
    ['IPv4-mapped IPv6', '[::ffff:127.0.0.3]'],
    ['trailing dot, uppercase', '0X7F.0.0.3.'],
  ])('judges a %s spelling of the denied address as that address', async (_label, host) => {
    const before = network(await readAudit(config.auditFile)).filter((r) => r.host === '127.0.0.3').length;
    const answer = await fetch(`http://${host}:${denied.port}/`, 'connect');
    expect(answer).toMatch(/^refused: HTTP\/1\.1 403 Forbidden/);
    expect(await recordFor('127.0.0.3', denied.port, before)).toMatchObject({ decision: 'deny', rule: 'gateway.yaml network.deny[0] (127.0.0.3)' });
    expect(denied.requests()).toBe(0);
  });

  it.each(['http', 'connect', 'socks5'])('a sandboxed server reaches an allowed origin only through the egress bridge (%s); denied ones and direct connections fail', async (via) => {
    const boxed = async (url: string, how: string) => textOf(await client.callTool({ name: 'boxed__fetch', arguments: { url, via: how } }));
    const env = JSON.parse(textOf(await client.callTool({ name: 'boxed__proxy_env', arguments: {} }))) as Record<string, string>;
    expect(env.HTTP_PROXY).toBe('http://127.0.0.1:3128'); // the bridge inside the sandbox's own network namespace
    const before = network(await readAudit(config.auditFile)).filter((r) => r.server === 'boxed' && r.host === '127.0.0.2').length;
    expect(await boxed(allowed.url, via)).toBe('HTTP 200: hello from 127.0.0.2');
    const records = await waitForAudit(config.auditFile, (rs) => network(rs).filter((r) => r.server === 'boxed' && r.host === '127.0.0.2').length > before);
    expect(network(records).filter((r) => r.server === 'boxed' && r.host === '127.0.0.2')[before]).toMatchObject({ decision: 'allow', protocol: via, tool: 'boxed__fetch' });
    const deniedBefore = denied.requests();
    expect(await boxed(denied.url, via)).toMatch(/^refused: /);
    // no route out of the sandbox but the bridge: the origin the policy allows is unreachable directly
    expect(await boxed(allowed.url, 'direct')).toMatch(/^error: /);
    expect(denied.requests()).toBe(deniedBefore);
  });

  it('refuses hostile handshakes without crashing, and keeps serving', async () => {
    // SOCKS4: refused with "request rejected"
    expect((await exchange(proxyPort, Buffer.from([0x04, 0x01, 0x00, 0x50, 127, 0, 0, 2, 0]))).answer).toEqual(Buffer.from([0x00, 0x5b, 0, 0, 0, 0, 0, 0]));
    // SOCKS5 offering only username/password: no acceptable method
    expect((await exchange(proxyPort, Buffer.from([0x05, 0x01, 0x02]))).answer).toEqual(Buffer.from([0x05, 0xff]));
    // SOCKS5 BIND: command not supported
    const bind = await exchange(proxyPort, Buffer.from([0x05, 0x01, 0x00, 0x05, 0x02, 0x00, 0x01, 127, 0, 0, 2, 0, 80]));
    expect([...bind.answer.subarray(2, 4)]).toEqual([0x05, 0x07]);
    // a request line that is not HTTP, an origin-form request, userinfo, https absolute-form
    expect((await exchange(proxyPort, 'hello\r\n\r\n')).answer.toString()).toMatch(/^HTTP\/1\.1 400 Bad Request[\s\S]*malformed request line/);
    expect((await exchange(proxyPort, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).answer.toString()).toContain("this is mcpgate's egress proxy");
    const userinfo = await exchange(proxyPort, `GET http://127.0.0.2:${allowed.port}@127.0.0.3:${denied.port}/ HTTP/1.1\r\n\r\n`);
    expect(userinfo.answer.toString()).toMatch(/^HTTP\/1\.1 400[\s\S]*credentials in the request URL/);
    // a header section larger than the limit
    expect((await exchange(proxyPort, `GET http://a/ HTTP/1.1\r\nX: ${'a'.repeat(70_000)}`)).closed).toBe(true);
    // an invalid host, a very long name, CONNECT to port 0 / 99999
    expect((await exchange(proxyPort, `CONNECT ${'a'.repeat(300)}.com:443 HTTP/1.1\r\n\r\n`)).answer.toString()).toMatch(/^HTTP\/1\.1 403[\s\S]*invalid destination/);
    expect((await exchange(proxyPort, 'CONNECT 127.0.0.2:0 HTTP/1.1\r\n\r\n')).answer.toString()).toMatch(/^HTTP\/1\.1 400/);
    expect((await exchange(proxyPort, 'CONNECT 127.0.0.2:99999 HTTP/1.1\r\n\r\n')).answer.toString()).toMatch(/^HTTP\/1\.1 400/);
    // a client that never finishes its handshake is cut off (not waited for forever)
    // a half-sent SOCKS5 greeting followed by a close
    expect((await exchange(proxyPort, Buffer.from([0x05]), 500)).answer.length).toBe(0);
    expect(denied.requests()).toBe(0);
    expect(await fetch(allowed.url)).toBe('HTTP 200: hello from 127.0.0.2');
  });

  it('audit query --event network lists the decisions (--decision filters them); the report has a network section', async () => {
    await recordFor('127.0.0.2', allowed.port, 3); // the fetch above, after three earlier ones
    const query = await runMcpgate(['audit', 'query', '--config', config.dir, '--event', 'network', '--json']);
    const lines = query.stdout.trim().split('\n').map((line) => JSON.parse(line) as AuditRecord);
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((r) => r.event === 'mcpgate.network.decision')).toBe(true);
    const denies = await runMcpgate(['audit', 'query', '--config', config.dir, '--event', 'network', '--decision', 'deny', '--json']);
    const denied = denies.stdout.trim().split('\n').map((line) => JSON.parse(line) as AuditRecord);
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((r) => r.decision === 'deny')).toBe(true);
    const table = await runMcpgate(['audit', 'query', '--config', config.dir, '--event', 'network', '--server', 'netprobe']);
    expect(table.stdout).toMatch(new RegExp(`network\\.decision\\s+\\S+\\s+netprobe → 127\\.0\\.0\\.2:${allowed.port}\\s+allow by rule \\[http\\]: allowed by servers\\.d/netprobe\\.yaml network\\.allow\\[0\\] \\(127\\.0\\.0\\.2\\), \\d+ B up / \\d+ B down`));
    const html = join(config.dir, 'report.html');
    const report = await runMcpgate(['audit', 'report', '--config', config.dir, '--json', '--html', html]);
    const network = (JSON.parse(report.stdout) as { network: { topHosts: Array<Record<string, unknown>>; blocked: Array<{ label: string }>; denied: number } }).network;
    // netprobe's four connections and boxed's three (its direct attempts never reach the proxy)
    expect(network.topHosts.find((h) => h.host === '127.0.0.2')).toMatchObject({ connections: 7, denied: 0, bytes_down: expect.any(Number) });
    expect(network.topHosts.find((h) => h.host === '127.0.0.2')?.bytes_down).toBeGreaterThan(7 * 'hello from 127.0.0.2'.length);
    expect(network.blocked.map((b) => b.label)).toContain('netprobe → 127.0.0.3: denied by gateway.yaml network.deny[0] (127.0.0.3)');
    const page = await readFile(html, 'utf8');
    expect(page).toContain('<h2>Network</h2>');
    expect(page).toContain('data-chart="network-hosts"');
    expect(page).toContain('netprobe → 127.0.0.3: denied by gateway.yaml network.deny[0] (127.0.0.3)');
    const text = await runMcpgate(['audit', 'report', '--config', config.dir]);
    expect(text.stdout).toMatch(/^Network \(egress proxy\): \d+ decision\(s\)/m);
  });
});
