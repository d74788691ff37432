/**
 * The egress proxy's listeners: per upstream server, one Unix socket (mode 0600, in a 0700
 * directory of the gateway's: what a sandbox's bridge forwards to) and one loopback TCP port
 * (for servers that run unsandboxed), both speaking HTTP (CONNECT, absolute-form) and SOCKS5.
 * The route identifies the server, so every decision knows who asked. Listeners are created on
 * first use and live until the gateway stops; at most `maxConnections` connections per server.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../telemetry/logger.js';
import type { NetworkDecisionEvent } from '../telemetry/events.js';
import { proxyConnection, RELAY_BUFFER_BYTES, type Decided, type ProxyDestination } from './connection.js';

/** Where one server's proxy listens. */
export interface EgressRoute {
  /** Unix socket, mode 0600 in a 0700 directory. */
  readonly socketPath: string;
  /** Port on 127.0.0.1. */
  readonly tcpPort: number;
}

/** What the proxy needs from the gateway. */
export interface EgressOptions {
  decide(server: string, destination: ProxyDestination, signal: AbortSignal): Promise<Decided>;
  record(event: NetworkDecisionEvent): void;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  /** Parent of the socket directory (default `$XDG_RUNTIME_DIR`, else the temp dir). */
  readonly runtimeDir?: string;
}

interface Listening {
  readonly route: EgressRoute;
  readonly servers: readonly Server[];
  readonly sockets: Set<Socket>;
}

/** The egress proxy of every upstream server. */
export class Egress {
  private dir: Promise<string> | undefined;
  private readonly listening = new Map<string, Promise<Listening>>();
  private closed = false;

  constructor(private readonly options: EgressOptions) {}

  /** The server's route, starting its listeners on first use. */
  route(server: string): Promise<EgressRoute> {
    if (this.closed) return Promise.reject(new Error('the egress proxy is stopped'));
    let listening = this.listening.get(server);
    if (!listening) {
      listening = this.listen(server);
      this.listening.set(server, listening);
      // a failed start is retried at the next route() (the next upstream restart)
      listening.catch(() => this.listening.delete(server));
    }
    return listening.then((l) => l.route);
  }

  /** Stops every listener and closes every open connection (their records are written first). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.listening.values()];
    this.listening.clear();
    await Promise.all(all.map(stopListening));
    const dir = await this.dir?.catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  /**
   * A server left the configuration (a reload removed it, and its last process has stopped): its
   * listeners stop and its open connections close, so nothing can use its route any more.
   */
  async release(server: string): Promise<void> {
    const listening = this.listening.get(server);
    if (!listening) return;
    this.listening.delete(server);
    await stopListening(listening);
  }

  private async listen(server: string): Promise<Listening> {
    this.dir ??= mkdtemp(join(this.options.runtimeDir ?? process.env.XDG_RUNTIME_DIR ?? tmpdir(), 'mcpgate-egress-')); // mode 0700
    const dir = await this.dir;
    const sockets = new Set<Socket>();
    const accept = (socket: Socket) => {
      if (this.closed) return void socket.destroy();
      if (sockets.size >= this.options.maxConnections) {
        this.options.logger.warn({ server, max: this.options.maxConnections }, `egress proxy: server "${server}" has ${sockets.size} open connections (network.maxConnections); refused one`);
        return void socket.destroy();
      }
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      proxyConnection(socket, {
        server,
        decide: (destination, signal) => this.options.decide(server, destination, signal),
        record: this.options.record,
        idleTimeoutMs: this.options.idleTimeoutMs,
        connectTimeoutMs: this.options.connectTimeoutMs,
      });
    };
    // Server names are [a-z0-9_-]; keep the path well under the 107-byte limit of a socket path.
    const socketPath = join(dir, `${server.length <= 48 ? server : `${server.slice(0, 32)}-${createHash('sha256').update(server).digest('hex').slice(0, 12)}`}.sock`);
    const unix = createServer({ allowHalfOpen: true, highWaterMark: RELAY_BUFFER_BYTES }, accept);
    const tcp = createServer({ allowHalfOpen: true, highWaterMark: RELAY_BUFFER_BYTES }, accept);
    await Promise.all([listenOn(unix, socketPath), listenOn(tcp, 0, '127.0.0.1')]);
    await chmod(socketPath, 0o600);
    const address = tcp.address();
    const tcpPort = typeof address === 'object' && address ? address.port : 0;
    this.options.logger.debug({ server, socketPath, tcpPort }, 'egress proxy listening');
    return { route: { socketPath, tcpPort }, servers: [unix, tcp], sockets };
  }
}

function listenOn(server: Server, pathOrPort: string | number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      server.on('error', () => undefined);
      server.unref();
      resolve();
    };
    if (typeof pathOrPort === 'string') server.listen(pathOrPort, done);
    else server.listen(pathOrPort, host, done);
  });
}

/** Closes a server's open connections and stops its listeners (a start that failed has none). */
async function stopListening(listening: Promise<Listening>): Promise<void> {
  const started = await listening.catch(() => undefined);
  if (!started) return;
  for (const socket of started.sockets) socket.destroy();
  await Promise.all(started.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
}
