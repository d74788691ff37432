/**
 * One connection to the egress proxy, from first byte to close: sniff the protocol (0x05 SOCKS5,
 * 0x04 SOCKS4 (refused), else HTTP), read the handshake (bounded in size and time), ask for a
 * decision, connect to the exact address that was judged, then relay bytes both ways with
 * backpressure (stream pipes), half-close and an idle timeout. Exactly one record per connection,
 * written when it ends. Nothing a client sends can throw out of here: every path ends in a close.
 */
import { connect, type NetConnectOpts, type Socket } from 'node:net';
import type { NetworkDecisionEvent } from '../telemetry/events.js';
import { parseHost, type Address, type Host } from './address.js';
import { parseProxyRequest, proxyResponse } from './httpHead.js';
import { NO_ACCEPTABLE_METHOD, NO_AUTHENTICATION, parseGreeting, parseRequest, SOCKS4_REJECTED, Socks5Reply, socks5Reply } from './socks5.js';

/** How a destination was asked for. */
export type ProxyProtocol = 'connect' | 'http' | 'socks5';

/** A destination as the proxy asks about it. */
export interface ProxyDestination {
  readonly host: Host;
  readonly port: number;
  readonly protocol: ProxyProtocol;
}

/** The decision fields a record carries (everything but where, how much and how it ended). */
export type DecisionFields = Pick<NetworkDecisionEvent, 'decided_by' | 'rule' | 'reason' | 'scope' | 'approval_wait_ms' | 'approval_channel' | 'session' | 'call' | 'tool'>;

/** What the gatekeeper answers: allow with the addresses judged (connect to these only), or deny. */
export interface Decided {
  readonly decision: 'allow' | 'deny';
  readonly addresses: readonly Address[];
  readonly fields: DecisionFields;
}

/** What one proxied connection needs. */
export interface ConnectionOptions {
  readonly server: string;
  /** Never rejects; `signal` aborts when the client goes away while a person is being asked. */
  decide(destination: ProxyDestination, signal: AbortSignal): Promise<Decided>;
  record(event: NetworkDecisionEvent): void;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/**
 * Stream buffer of each relayed socket: a pipe pauses its source when the destination holds more
 * than this, so a larger one pauses and resumes less often per megabyte (bench/egress.ts).
 */
export const RELAY_BUFFER_BYTES = 256 * 1024;

/** Time a client has to finish its handshake. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Bytes a client may send before the tunnel is open (a head, early TLS data); more is a protocol error. */
const MAX_BUFFERED = 64 * 1024;

/** Handles one accepted client socket (the caller counts it and hears of its close). */
export function proxyConnection(client: Socket, options: ConnectionOptions): void {
  new ProxiedConnection(client, options).start();
}

class ProxiedConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private stage: 'sniff' | 'greeting' | 'request' | 'http' | 'deciding' | 'open' | 'done' = 'sniff';
  private readonly gone = new AbortController();
  private handshakeTimer: NodeJS.Timeout | undefined;
  private clientEnded = false;

  constructor(
    private readonly client: Socket,
    private readonly options: ConnectionOptions,
  ) {}

  start(): void {
    const { client } = this;
    client.setNoDelay(true);
    client.on('error', () => client.destroy());
    client.on('close', () => {
      clearTimeout(this.handshakeTimer);
      this.gone.abort();
    });
    client.on('end', () => {
      this.clientEnded = true;
      // A client that hangs up before its tunnel opened gives up its request (and a pending ask).
      if (this.stage !== 'open') this.gone.abort();
    });
    client.on('data', this.onData);
    this.handshakeTimer = setTimeout(() => client.destroy(), HANDSHAKE_TIMEOUT_MS);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (this.buffered.length > MAX_BUFFERED) {
      this.client.destroy();
      return;
    }
    try {
      this.advance();
    } catch {
      this.client.destroy(); // fail closed: a parser bug is a dropped connection, never a crash
    }
  };

  private advance(): void {
    for (;;) {
      if (this.stage === 'sniff') {
        if (this.buffered.length === 0) return;
        const first = this.buffered[0];
        if (first === 0x04) return this.refuse(SOCKS4_REJECTED);
        this.stage = first === 0x05 ? 'greeting' : 'http';
      } else if (this.stage === 'greeting') {
        const step = parseGreeting(this.buffered);
        if (step.kind === 'incomplete') return;
        if (step.kind === 'error' || !step.noAuth) return this.refuse(NO_ACCEPTABLE_METHOD);
        this.client.write(NO_AUTHENTICATION);
        this.buffered = this.buffered.subarray(step.length);
        this.stage = 'request';
      } else if (this.stage === 'request') {
        const step = parseRequest(this.buffered);
        if (step.kind === 'incomplete') return;
        if (step.kind === 'error') return this.refuse(socks5Reply(step.reply ?? Socks5Reply.GENERAL_FAILURE));
        const rest = this.buffered.subarray(step.length);
        return void this.begin('socks5', step.host, step.port, rest, undefined);
      } else if (this.stage === 'http') {
        const request = parseProxyRequest(this.buffered);
        if (request.kind === 'incomplete') return;
        if (request.kind === 'error') return this.refuse(proxyResponse(request.status, 'Bad Request', `mcpgate egress proxy: ${request.message}`));
        return void this.begin(request.kind, request.host, request.port, request.rest, request.kind === 'http' ? request.head : undefined);
      } else {
        return; // deciding: bytes wait in `buffered` (bounded); open: piped
      }
    }
  }

  private async begin(protocol: ProxyProtocol, rawHost: string, port: number, rest: Buffer, head: string | undefined): Promise<void> {
    clearTimeout(this.handshakeTimer);
    this.stage = 'deciding';
    this.buffered = rest;
    const host = parseHost(rawHost);
    if ('error' in host) {
      const fields: DecisionFields = { decided_by: 'default', reason: `invalid destination: ${host.error}: denied` };
      this.record({ host: printableHost(rawHost), port, protocol, decision: 'deny', ...fields });
      return this.refuse(this.refusal(protocol, 'deny', fields.reason));
    }
    const hostText = host.kind === 'name' ? host.name : host.address.text;
    const decided = await this.options.decide({ host, port, protocol }, this.gone.signal);
    if (decided.decision === 'deny' || this.gone.signal.aborted) {
      const fields = decided.decision === 'deny' ? decided.fields : { ...decided.fields, reason: 'the client closed the connection before it opened' };
      this.record({ host: hostText, port, protocol, decision: decided.decision, ...fields });
      return this.refuse(this.refusal(protocol, 'deny', `connection to ${hostText}:${port} denied: ${fields.reason}`));
    }
    const started = performance.now();
    const opened = await this.connectFirst(decided.addresses, port);
    if ('error' in opened) {
      this.record({ host: hostText, port, protocol, decision: 'allow', ...decided.fields, error: opened.error, ...(opened.address ? { address: opened.address } : {}) });
      return this.refuse(this.refusal(protocol, opened.code, `cannot connect to ${hostText}:${port}: ${opened.error}`));
    }
    this.open(opened.socket, protocol, head, () => ({ host: hostText, port, protocol, decision: 'allow', address: opened.address, ...decided.fields, duration_ms: Math.round(performance.now() - started) }));
  }

  /** Connects to the judged addresses in order (no lookup: they are IPs), within the connect timeout. */
  private async connectFirst(addresses: readonly Address[], port: number): Promise<{ socket: Socket; address: string } | { error: string; code: 'refused' | 'unreachable' | 'timeout'; address?: string }> {
    const deadline = Date.now() + this.options.connectTimeoutMs;
    let last: { error: string; code: 'refused' | 'unreachable' | 'timeout'; address?: string } = { error: 'no address', code: 'unreachable' };
    for (const address of addresses) {
      if (this.gone.signal.aborted) return { error: 'the client closed the connection', code: 'unreachable' };
      const left = deadline - Date.now();
      if (left <= 0) return { ...last, error: `connect timeout (${this.options.connectTimeoutMs} ms)`, code: 'timeout' };
      const result = await new Promise<{ socket: Socket } | { error: string; code: 'refused' | 'unreachable' | 'timeout' }>((resolve) => {
        // highWaterMark on net.connect: Node ≥ 18.17 / 20.1 (not yet in @types/node 20's options type)
        const socket = connect({ host: address.text, port, family: address.family, allowHalfOpen: true, highWaterMark: RELAY_BUFFER_BYTES } as NetConnectOpts);
        const timer = setTimeout(() => {
          socket.destroy();
          resolve({ error: `connect timeout (${this.options.connectTimeoutMs} ms)`, code: 'timeout' });
        }, left);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          resolve({ socket });
        });
        socket.once('error', (error: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          socket.destroy();
          resolve({ error: error.code ?? error.message, code: error.code === 'ECONNREFUSED' ? 'refused' : 'unreachable' });
        });
      });
      if ('socket' in result) return { socket: result.socket, address: address.text };
      last = { ...result, address: address.text };
    }
    return last;
  }

  private open(upstream: Socket, protocol: ProxyProtocol, head: string | undefined, describe: () => Omit<NetworkDecisionEvent, 'event' | 'server'>): void {
    const { client } = this;
    this.stage = 'open';
    if (client.destroyed) {
      upstream.destroy();
      this.record({ ...describe(), error: 'the client closed the connection before it opened' });
      return;
    }
    upstream.setNoDelay(true);
    let error: string | undefined;
    let closed = 0;
    const finish = () => {
      if (++closed < 2) return;
      this.record({ ...describe(), bytes_up: upstream.bytesWritten, bytes_down: upstream.bytesRead, ...(error ? { error } : {}) });
    };
    const idle = () => {
      error ??= 'idle_timeout';
      client.destroy();
      upstream.destroy();
    };
    client.setTimeout(this.options.idleTimeoutMs, idle);
    upstream.setTimeout(this.options.idleTimeoutMs, idle);
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
      client.destroy();
    });
    client.on('close', () => {
      upstream.destroy();
      finish();
    });
    upstream.on('close', () => {
      if (!client.writableEnded) client.end();
      finish();
    });
    client.removeListener('data', this.onData);
    if (protocol === 'connect') client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    else if (protocol === 'socks5') client.write(socks5Reply(Socks5Reply.SUCCEEDED));
    if (head !== undefined) upstream.write(head, 'latin1');
    if (this.buffered.length > 0) upstream.write(this.buffered);
    this.buffered = Buffer.alloc(0);
    client.pipe(upstream);
    upstream.pipe(client);
    if (this.clientEnded) upstream.end();
  }

  private refusal(protocol: ProxyProtocol, why: 'deny' | 'refused' | 'unreachable' | 'timeout', message: string): Buffer {
    if (protocol === 'socks5') {
      const code = { deny: Socks5Reply.NOT_ALLOWED, refused: Socks5Reply.CONNECTION_REFUSED, unreachable: Socks5Reply.HOST_UNREACHABLE, timeout: Socks5Reply.TTL_EXPIRED }[why];
      return socks5Reply(code);
    }
    if (why === 'deny') return proxyResponse(403, 'Forbidden', `mcpgate: ${message}`, { 'X-Mcpgate-Decision': 'deny' });
    return proxyResponse(why === 'timeout' ? 504 : 502, why === 'timeout' ? 'Gateway Timeout' : 'Bad Gateway', `mcpgate: ${message}`);
  }

  /** Sends a last answer and closes (a client that never reads it is destroyed after a moment). */
  private refuse(answer: Buffer): void {
    this.stage = 'done';
    clearTimeout(this.handshakeTimer);
    const { client } = this;
    client.removeListener('data', this.onData);
    if (client.destroyed) return;
    client.end(answer);
    setTimeout(() => client.destroy(), 2000).unref();
  }

  private record(fields: Omit<NetworkDecisionEvent, 'event' | 'server'>): void {
    this.options.record({ event: 'mcpgate.network.decision', server: this.options.server, ...fields });
  }
}

/** A host that failed to parse, safe to record (printable, bounded). */
function printableHost(raw: string): string {
  const cut = raw.length > 255 ? `${raw.slice(0, 254)}…` : raw;
  return cut.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
