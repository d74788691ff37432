/**
 * Test support for the egress proxy: small HTTP origin servers on distinct loopback addresses
 * (127.0.0.2, 127.0.0.3 …: never off this machine), and raw-socket exchanges with a proxy port.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';

/** An HTTP server on one loopback address that answers `hello from ADDRESS` (and counts requests). */
export interface Origin {
  readonly address: string;
  readonly port: number;
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

/** Starts an origin on `address` (a free port); the body names the address, `/big?bytes=N` answers N bytes. */
export async function startOrigin(address: string): Promise<Origin> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    const url = new URL(req.url ?? '/', 'http://origin');
    if (url.pathname === '/big') {
      const size = Number(url.searchParams.get('bytes') ?? 0);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      res.end(Buffer.alloc(size, 0x61));
      return;
    }
    const body = `hello from ${address}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length), connection: 'close' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    address,
    port,
    url: `http://${address}:${port}/`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends `bytes` to a proxy port and returns everything it answered before closing (bounded by `timeoutMs`). */
export function exchange(port: number, bytes: Buffer | string, timeoutMs = 5000): Promise<{ answer: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ answer: Buffer.concat(chunks), closed: false });
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer: Buffer.concat(chunks), closed: true });
    });
  });
}
