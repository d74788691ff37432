/**
 * Benchmark: a 100 MB download from a local HTTP server on 127.0.0.2, directly and through the
 * egress proxy (HTTP CONNECT tunnel, absolute-form HTTP, SOCKS5), each as its own process: the
 * origin, the proxy (mcpgate's Egress with a real policy and gatekeeper, as in the gateway) and
 * the client (this process), plus a bare socket-pipe relay (the floor of any relay process on the
 * machine). Rounds are interleaved and the median throughput is reported with the ratio to direct
 * (target ≥ 0.8) and the middle process's CPU per MB (from /proc, stable under load). Run: `npm run bench:egress` (`-- --quick`: 20 MB, 3 rounds).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const quick = process.argv.includes('--quick');
const SIZE = (quick ? 20 : 100) * 1024 * 1024;
const ROUNDS = quick ? 3 : 7;
const ORIGIN_HOST = '127.0.0.2';

type Mode = 'direct' | 'relay' | 'connect' | 'http' | 'socks5';

/** Child process: serves SIZE bytes on 127.0.0.2, written in 1 MiB chunks with backpressure. */
async function serveOrigin(): Promise<void> {
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) });
    let left = SIZE;
    const pump = () => {
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  server.listen(0, ORIGIN_HOST, () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
}

/** Child process: the egress proxy for one server, allowing the origin by an IP rule. */
async function serveProxy(): Promise<void> {
  const { Egress } = await import('../src/network/egress.js');
  const { NetworkPolicy } = await import('../src/network/policy.js');
  const { decideDestination } = await import('../src/network/gatekeeper.js');
  const policy = new NetworkPolicy({ server: { default: 'deny', allow: [{ rule: ORIGIN_HOST, source: 'servers.d/bench.yaml', where: 'network.allow[0]' }], ask: [], deny: [] } });
  const gatekeeper = {
    policy: () => policy,
    owner: () => undefined,
    ask: async () => ({ decision: 'deny' as const, decidedBy: 'default' as const, reason: 'no asks in the benchmark', waitMs: 0, via: 'none' as const }),
    connectTimeoutMs: 5000,
  };
  let records = 0;
  const egress = new Egress({
    decide: (server, destination, signal) => decideDestination(gatekeeper, server, destination, signal),
    record: () => void records++,
    maxConnections: 64,
    idleTimeoutMs: 60_000,
    connectTimeoutMs: 5000,
    logger: { debug() {}, info() {}, warn() {}, error() {} } as never,
  });
  const route = await egress.route('bench');
  console.log(JSON.stringify({ port: route.tcpPort }));
  setInterval(() => undefined, 1 << 30);
}

/** Child process: the floor of any relay in Node: a bare socket pipe to the origin, no handshake, no policy. */
async function serveRelay(originPort: number): Promise<void> {
  const server = createNetServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: ORIGIN_HOST, port: originPort, allowHalfOpen: true });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
}

function startChild(role: string, ...args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, role, ...args, ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, port: (JSON.parse(line) as { port: number }).port }));
  });
}

/** Reads a whole HTTP response from a raw socket (after any handshake) and returns body bytes seen. */
function drain(socket: Socket, send: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let total = 0;
    socket.on('data', (chunk: Buffer) => void (total += chunk.length));
    socket.once('error', reject);
    socket.once('close', () => resolve(total));
    socket.write(send);
  });
}

function handshake(socket: Socket, bytes: Buffer | string, doneAt: (received: Buffer) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!doneAt(received)) return;
      socket.off('data', onData);
      resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(bytes);
  });
}

async function download(mode: Mode, originPort: number, proxyPort: number, relayPort: number): Promise<number> {
  const get = `GET /big HTTP/1.1\r\nHost: ${ORIGIN_HOST}:${originPort}\r\nConnection: close\r\n\r\n`;
  const started = performance.now();
  let bytes: number;
  if (mode === 'http') {
    bytes = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: `http://${ORIGIN_HOST}:${originPort}/big`, headers: { host: `${ORIGIN_HOST}:${originPort}` } }, (res) => {
        let total = 0;
        res.on('data', (chunk: Buffer) => void (total += chunk.length));
        res.on('end', () => resolve(total));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  } else {
    const socket = mode === 'direct' ? connect(originPort, ORIGIN_HOST) : connect(mode === 'relay' ? relayPort : proxyPort, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    if (mode === 'connect') await handshake(socket, `CONNECT ${ORIGIN_HOST}:${originPort} HTTP/1.1\r\n\r\n`, (b) => b.includes('\r\n\r\n'));
    if (mode === 'socks5') {
      await handshake(socket, Buffer.from([5, 1, 0]), (b) => b.length >= 2);
      await handshake(socket, Buffer.from([5, 1, 0, 1, 127, 0, 0, 2, originPort >> 8, originPort & 0xff]), (b) => b.length >= 10);
    }
    bytes = await drain(socket, get);
  }
  const seconds = (performance.now() - started) / 1000;
  if (bytes < SIZE) throw new Error(`${mode}: got ${bytes} of ${SIZE} bytes`);
  return SIZE / 1024 / 1024 / seconds;
}

/** CPU time (user + system) a process has used, in ms, from /proc (Linux). */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 1/100 s
  } catch {
    return Number.NaN;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const origin = await startChild('origin');
  const proxy = await startChild('proxy');
  const relay = await startChild('relay', String(origin.port));
  try {
    const modes: Mode[] = ['direct', 'relay', 'connect', 'http', 'socks5'];
    for (const mode of modes) await download(mode, origin.port, proxy.port, relay.port); // warm-up
    const results = new Map<Mode, number[]>(modes.map((m) => [m, []]));
    const proxyCpu = new Map<Mode, number>(modes.map((m) => [m, 0]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = modes.map((_, i) => modes[(i + round) % modes.length] as Mode);
      for (const mode of order) {
        const middle = mode === 'relay' ? relay.child.pid : proxy.child.pid;
        const before = cpuMs(middle);
        results.get(mode)?.push(await download(mode, origin.port, proxy.port, relay.port));
        proxyCpu.set(mode, (proxyCpu.get(mode) ?? 0) + cpuMs(middle) - before);
      }
    }
    const megabytes = (SIZE / 1024 / 1024) * ROUNDS;
    const direct = median(results.get('direct') ?? []);
    console.log('(relay: a bare Node socket pipe with no handshake or policy, the floor of any relay process here)');
    console.log(`egress proxy: ${SIZE / 1024 / 1024} MB download from ${ORIGIN_HOST}, median of ${ROUNDS} interleaved rounds (node ${process.version}, load average ${loadavg()[0]?.toFixed(1)})`);
    for (const mode of modes) {
      const mbps = median(results.get(mode) ?? []);
      const ratio = mbps / direct;
      const cpu = mode === 'direct' ? '' : `  ${mode === 'relay' ? 'relay' : 'proxy'} CPU ${((proxyCpu.get(mode) ?? 0) / megabytes).toFixed(2)} ms/MB`;
      console.log(`  ${mode.padEnd(8)} ${mbps.toFixed(0).padStart(6)} MB/s${mode === 'direct' ? '' : `  ratio ${ratio.toFixed(2)} ${ratio >= 0.8 ? 'PASS' : 'FAIL'} (target ≥ 0.8)`}${cpu}`);
    }
  } finally {
    origin.child.kill();
    proxy.child.kill();
    relay.child.kill();
  }
}

const role = process.argv[2];
if (role === 'origin') void serveOrigin();
else if (role === 'proxy') void serveProxy();
else if (role === 'relay') void serveRelay(Number(process.argv[3]));
else
  main().catch((error: unknown) => {
    console.error(`egress benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
