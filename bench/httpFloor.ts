/**
 * Calibration only: the floor of any HTTP gateway with a stdio upstream. A node:http server that
 * answers `initialize` and notifications itself and relays each `tools/call` POST to one stdio
 * upstream (the same echo fixture the gateways front) as one line with a fresh id, answering the
 * upstream's line as one `application/json` body: no SDK transport, no policy, no audit, no SSE,
 * each line parsed once and its id swapped. Whatever the SDK
 * client needs per call through this is what the extra hop costs; no gateway can undercut it.
 * Run: node --import tsx bench/httpFloor.ts PORT CMD ARGS…; prints `listening PORT` once the
 * upstream is initialised.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';

const [portArg, command, ...args] = process.argv.slice(2);
if (!command) throw new Error('usage: httpFloor.ts PORT CMD ARGS…');
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
child.on('exit', (code) => process.exit(code ?? 0));

/** Upstream id → the HTTP response and the client's id. */
const pending = new Map<number, { res: ServerResponse; id: unknown }>();
let nextId = 1;
let buffer = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk: string) => {
  buffer += chunk;
  let start = 0;
  for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n', start)) {
    const line = buffer.slice(start, end);
    start = end + 1;
    const message = JSON.parse(line) as { id?: unknown };
    const waiting = typeof message.id === 'number' ? pending.get(message.id) : undefined;
    if (!waiting) continue;
    pending.delete(message.id as number);
    message.id = waiting.id;
    const body = JSON.stringify(message);
    waiting.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  }
  buffer = buffer.slice(start);
});

function upstream(method: string, params: unknown, res?: ServerResponse, id?: unknown): number {
  const upstreamId = nextId++;
  if (res) pending.set(upstreamId, { res, id });
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: upstreamId, method, params })}\n`);
  return upstreamId;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown; method?: string; params?: unknown };
    if (message.id === undefined) return void res.writeHead(202).end();
    if (message.method === 'initialize') {
      const body = JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'http-floor', version: '1.0.0' } } });
      return void res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': randomUUID() }).end(body);
    }
    upstream(message.method ?? '', message.params, res, message.id);
  });
});

// Initialise the upstream (its first output is the answer), then listen.
upstream('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'http-floor', version: '1.0.0' } });
child.stdout.once('data', () => {
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
    const address = server.address();
    console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
  });
});
