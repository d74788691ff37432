/**
 * maxMessageBytes for HTTP upstreams: the capped fetch against a real loopback HTTP server that
 * writes its body in pieces. Many small events pass whatever their total; one event past the limit
 * fails the body, wherever the chunk boundaries fall (CRLF blank lines too); a JSON body counts whole.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cappedFetch } from '../../src/upstream/cappedFetch.js';

const LIMIT = 1_000;
let server: Server;
let base = '';
const bodies = new Map<string, { type: string; pieces: string[] }>();

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = bodies.get(req.url ?? '') as { type: string; pieces: string[] };
    res.writeHead(200, { 'content-type': body.type });
    for (const piece of body.pieces) {
      res.write(piece);
      await new Promise((resolve) => setImmediate(resolve)); // separate chunks
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function read(path: string, type: string, pieces: string[]): Promise<string> {
  bodies.set(path, { type, pieces });
  const response = await cappedFetch(LIMIT, 'srv')(`${base}${path}`);
  return response.text().then((text) => `ok ${text.length}`, (error: Error) => error.message);
}

describe('cappedFetch', () => {
  it('lets any number of events under the limit through', async () => {
    const event = `data: ${'a'.repeat(600)}\n\n`;
    expect(await read('/many', 'text/event-stream', Array(20).fill(event))).toBe(`ok ${event.length * 20}`);
  });

  it('fails an event past the limit, split across chunks or not, CRLF or LF', async () => {
    const big = 'b'.repeat(1_200);
    for (const [path, pieces] of Object.entries({
      '/one': [`data: ${big}\n\n`],
      '/split': [`data: ${big.slice(0, 500)}`, big.slice(500), '\n', '\n'],
      '/crlf': [`data: small\r\n\r\ndata: ${big}\r`, '\n\r\n'],
      '/lines': [`id: 1\ndata: ${'c'.repeat(600)}\n`, `data: ${'c'.repeat(600)}\n\n`], // one event of two data lines
    })) {
      expect(await read(path, 'text/event-stream', pieces), path).toContain('more than 1000 bytes, its maxMessageBytes');
    }
  });

  it('counts a JSON body whole', async () => {
    expect(await read('/small.json', 'application/json', ['{"a":', '"x"}'])).toBe('ok 9');
    expect(await read('/big.json', 'application/json', [`{"a":"${'d'.repeat(600)}`, `${'d'.repeat(600)}"}`])).toContain('maxMessageBytes');
  });
});
