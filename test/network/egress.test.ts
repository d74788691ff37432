/**
 * The egress proxy's limits on real sockets (in-process proxy, origin on 127.0.0.2): the
 * connection cap per server, the idle timeout, half-close, the Unix socket's mode, and every
 * open tunnel recorded when the proxy stops.
 */
import { connect, type Socket } from 'node:net';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Egress, type EgressOptions } from '../../src/network/egress.js';
import { decideDestination } from '../../src/network/gatekeeper.js';
import { NetworkPolicy } from '../../src/network/policy.js';
import type { NetworkDecisionEvent } from '../../src/telemetry/events.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { waitFor } from '../support/gateway.js';
import { startOrigin, type Origin } from '../support/origins.js';

const policy = new NetworkPolicy({ server: { default: 'deny', allow: [{ rule: '127.0.0.2', source: 'servers.d/s.yaml', where: 'network.allow[0]' }], ask: [], deny: [] } });
const gatekeeper = {
  policy: () => policy,
  owner: () => undefined,
  ask: async () => ({ decision: 'deny' as const, decidedBy: 'default' as const, reason: 'nobody', waitMs: 0, via: 'none' as const }),
  connectTimeoutMs: 2000,
};

let egress: Egress | undefined;
let origin: Origin | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await egress?.close();
  await origin?.close();
});

function start(overrides: Partial<EgressOptions> = {}): { records: NetworkDecisionEvent[]; egress: Egress } {
  const records: NetworkDecisionEvent[] = [];
  egress = new Egress({
    decide: (server, destination, signal) => decideDestination(gatekeeper, server, destination, signal),
    record: (event) => records.push(event),
    maxConnections: 64,
    idleTimeoutMs: 60_000,
    connectTimeoutMs: 2000,
    logger: silentLogger(),
    ...overrides,
  });
  return { records, egress };
}

/** Opens a CONNECT tunnel to the origin and resolves once it is established. */
async function tunnel(port: number, target: Origin): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed by the proxy')));
    socket.once('data', (chunk: Buffer) => (chunk.toString().startsWith('HTTP/1.1 200') ? resolve() : reject(new Error(chunk.toString()))));
    socket.write(`CONNECT 127.0.0.2:${target.port} HTTP/1.1\r\n\r\n`);
  });
  return socket;
}

describe('Egress', () => {
  it('listens on a 0600 Unix socket in a 0700 directory and on loopback TCP, one route per server', async () => {
    const { egress } = start();
    const a = await egress.route('alpha');
    const b = await egress.route('beta');
    expect(a).not.toEqual(b);
    expect(await egress.route('alpha')).toEqual(a);
    expect(((await stat(a.socketPath)).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(dirname(a.socketPath))).mode & 0o777).toString(8)).toBe('700');
    expect(a.tcpPort).toBeGreaterThan(0);
  });

  it('refuses connections past network.maxConnections for that server only', async () => {
    origin = await startOrigin('127.0.0.2');
    const { egress } = start({ maxConnections: 2 });
    const { tcpPort } = await egress.route('s');
    await tunnel(tcpPort, origin);
    await tunnel(tcpPort, origin);
    await expect(tunnel(tcpPort, origin)).rejects.toThrow('closed by the proxy');
    const other = await egress.route('other');
    await tunnel(other.tcpPort, origin); // another server has its own cap
  });

  it('closes a tunnel idle for idleTimeout and records it with its bytes and error idle_timeout', async () => {
    origin = await startOrigin('127.0.0.2');
    const { egress, records } = start({ idleTimeoutMs: 300 });
    const { tcpPort } = await egress.route('s');
    const socket = await tunnel(tcpPort, origin);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'); // keep-alive off on the origin: it answers and closes
    const started = Date.now();
    await waitFor(() => records.length === 1, 5000);
    expect(records[0]).toMatchObject({ decision: 'allow', protocol: 'connect', host: '127.0.0.2', address: '127.0.0.2' });
    expect(records[0]?.bytes_up).toBe('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.length);
    expect(records[0]?.bytes_down).toBeGreaterThan(20);
    const idle = await tunnel(tcpPort, origin); // sends nothing at all
    await new Promise((resolve) => idle.once('close', resolve));
    expect(Date.now() - started).toBeLessThan(5000);
    await waitFor(() => records.length === 2, 5000);
    expect(records[1]).toMatchObject({ decision: 'allow', error: 'idle_timeout', bytes_up: 0, bytes_down: 0 });
  });

  it('stopping the proxy closes open tunnels and records each', async () => {
    origin = await startOrigin('127.0.0.2');
    const { egress, records } = start();
    const { tcpPort } = await egress.route('s');
    const socket = await tunnel(tcpPort, origin);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await egress.close();
    await closed;
    await waitFor(() => records.length === 1, 2000);
    expect(records[0]).toMatchObject({ server: 's', decision: 'allow', duration_ms: expect.any(Number) });
    await expect(egress.route('s')).rejects.toThrow('stopped');
  });

  it('release stops one server\'s route (listener and open tunnels) and leaves the others', async () => {
    origin = await startOrigin('127.0.0.2');
    const { egress } = start();
    const gone = await egress.route('removed');
    const kept = await egress.route('kept');
    const open = await tunnel(gone.tcpPort, origin);
    const closed = new Promise<void>((resolve) => open.once('close', () => resolve()));
    await egress.release('removed');
    await closed;
    await expect(tunnel(gone.tcpPort, origin)).rejects.toThrow(/ECONNREFUSED|closed by the proxy/);
    await expect(stat(gone.socketPath)).rejects.toThrow('ENOENT');
    await tunnel(kept.tcpPort, origin);
    expect(await egress.route('removed')).not.toEqual(gone); // added back later: a fresh route
  });
});
