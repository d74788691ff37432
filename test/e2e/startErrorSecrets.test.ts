/**
 * An upstream that fails its start with an error echoing the credential it was given (a real HTTP
 * server answering 401 with the Authorization header in its body): the failure is reported
 * (`mcpgate tools`, the audit log of `mcpgate serve`) with the credential redacted.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeConfig, runMcpgate, startStdioGateway, waitForAudit, type TempConfig } from '../support/gateway.js';

const TOKEN = 'sk-start-error-0123456789abcdef';

describe('a start error that echoes a resolved secret', () => {
  let server: Server;
  let config: TempConfig;

  beforeAll(async () => {
    const port = await freePort();
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`unauthorized: ${req.headers.authorization ?? ''} is not a valid token`);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    config = await makeConfig({
      servers: { leaky: { url: `http://127.0.0.1:${port}/mcp`, headers: { Authorization: 'Bearer ${env:LEAKY_TOKEN}' } } },
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await config?.cleanup();
  });

  it('mcpgate tools names the failure without the value', async () => {
    const tools = await runMcpgate(['tools', '--config', config.dir], { LEAKY_TOKEN: TOKEN });
    expect(tools.code).toBe(1);
    expect(`${tools.stdout}${tools.stderr}`).toContain('unauthorized: Bearer [REDACTED] is not a valid token');
    expect(`${tools.stdout}${tools.stderr}`).not.toContain(TOKEN);
  });

  it('the upstream.state record of mcpgate serve holds no value', async () => {
    const gateway = await startStdioGateway(config.dir, {}, { LEAKY_TOKEN: TOKEN });
    try {
      const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.upstream.state' && r.state === 'failed'));
      const failed = records.find((r) => r.event === 'mcpgate.upstream.state' && r.state === 'failed');
      expect(String(failed?.error)).toContain('[REDACTED]');
      expect(await readFile(config.auditFile, 'utf8')).not.toContain(TOKEN);
      expect(gateway.stderr()).not.toContain(TOKEN);
    } finally {
      await gateway.close();
    }
  });
});
