/** The server/discover probe on real processes: a 2026 server, a 2025 server, one that never answers, one that exits. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProbeClosedError, probeHttp, probeStdio, startOnce } from '../../src/upstream/modernConnection.js';
import { StdioUpstreamTransport } from '../../src/upstream/stdioTransport.js';
import { freePort, REPO } from '../support/gateway.js';

const open: StdioUpstreamTransport[] = [];

function spawnFixture(file: string): StdioUpstreamTransport {
  const script = join(REPO, 'test/fixtures/servers', file);
  const args = file.endsWith('.ts') ? ['--import', 'tsx', script] : [script];
  const transport = new StdioUpstreamTransport({ command: process.execPath, args, env: {}, cwd: REPO }, { server: 'probe-test', maxMessageBytes: 1 << 20, quote: (line) => JSON.stringify(line) });
  open.push(transport);
  return transport;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('the server/discover probe', () => {
  it('finds a 2026-07-28 server and its capabilities', async () => {
    const transport = spawnFixture('modern.ts');
    await startOnce(transport);
    expect(await probeStdio(transport, 20_000)).toEqual({ kind: 'modern', capabilities: { tools: { listChanged: true }, resources: { subscribe: true } } });
  });

  it('falls back for a 2025 server, which answers -32601 at once', async () => {
    const transport = spawnFixture('echo.ts');
    await startOnce(transport);
    expect(await probeStdio(transport, 20_000)).toMatchObject({ kind: 'legacy', reason: expect.stringContaining('-32601') });
  });

  it('gives up on a server that never answers after its bound, not later', async () => {
    const transport = spawnFixture('slowInit.mjs');
    await startOnce(transport);
    const started = performance.now();
    expect(await probeStdio(transport, 300)).toMatchObject({ kind: 'legacy', reason: expect.stringContaining('no answer') });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('says so when the server exits instead of answering', async () => {
    const transport = spawnFixture('exitAtStart.ts');
    await startOnce(transport);
    await expect(probeStdio(transport, 20_000)).rejects.toBeInstanceOf(ProbeClosedError);
  });

  it('over HTTP, nothing listening is a 2025 verdict, at once', async () => {
    const port = await freePort();
    expect(await probeHttp(new URL(`http://127.0.0.1:${port}/mcp`), {}, 2000)).toMatchObject({ kind: 'legacy' });
  });
});
