/**
 * SessionExchanges over real loopback HTTP exchanges (node:http server and client): which
 * requests a closed response cancels, when, and what keeps a session from being idle.
 */
import { createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionExchanges } from '../../src/downstream/exchanges.js';
import { waitFor } from '../support/gateway.js';

interface Arrived {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

describe('SessionExchanges', () => {
  let server: Server;
  let port: number;
  const arrivals: Arrived[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => void arrivals.push({ req, res }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Opens a client request and returns it with the server's side of the exchange. */
  async function exchange(method: string, headers: Record<string, string> = {}): Promise<Arrived & { client: ClientRequest }> {
    const before = arrivals.length;
    const client = httpRequest({ host: '127.0.0.1', port, method, path: '/mcp', headers });
    client.on('error', () => undefined);
    client.end();
    await waitFor(() => arrivals.length > before, 5000, () => 'the request to arrive');
    return { client, ...(arrivals[before] as Arrived) };
  }

  it('a response closed before its answer cancels its requests at once (not resumable); answered ones are left alone', async () => {
    const cancelled: unknown[] = [];
    const exchanges = new SessionExchanges((id) => void cancelled.push(id), 50);
    const { client, req, res } = await exchange('POST', { 'mcp-protocol-version': '2025-06-18' });
    const ex = exchanges.begin(req, res, false);
    expect(ex.resumable).toBe(false);
    exchanges.request(1, ex);
    exchanges.request(2, ex);
    exchanges.answered(2);
    expect(exchanges.idleFor(0)).toBe(false);
    client.destroy();
    await waitFor(() => cancelled.length > 0, 5000, () => 'the cancellation');
    expect(cancelled).toEqual([1]);
    expect(exchanges.idleFor(0)).toBe(true);
  });

  it('an exchange primed later (a fast call) is resumable only once primed: closed before that, its request is cancelled at once', async () => {
    const cancelled: unknown[] = [];
    const exchanges = new SessionExchanges((id) => void cancelled.push(id), 60_000);
    const early = await exchange('POST', { 'mcp-protocol-version': '2025-11-25' });
    const unprimed = exchanges.begin(early.req, early.res, false, true);
    expect(unprimed).toMatchObject({ canResume: true, resumable: false });
    exchanges.request(1, unprimed);
    early.client.destroy();
    await waitFor(() => cancelled.length > 0, 5000, () => 'the cancellation (no grace: the client holds no event id)');
    expect(cancelled).toEqual([1]);

    const late = await exchange('POST', { 'mcp-protocol-version': '2025-11-25' });
    const primed = exchanges.begin(late.req, late.res, false, true);
    exchanges.request(2, primed);
    exchanges.primed(primed, 'stream-2');
    expect(primed.resumable).toBe(true);
    late.client.destroy();
    await waitFor(() => exchanges.idleFor(0) === false && late.res.destroyed, 5000, () => 'the exchange to close');
    await new Promise((r) => setTimeout(r, 100));
    expect(cancelled).toEqual([1]); // waits for a resume (grace period of 60 s here)
  });

  it('a response that finished normally cancels nothing', async () => {
    const cancelled: unknown[] = [];
    const exchanges = new SessionExchanges((id) => void cancelled.push(id), 50);
    const { req, res } = await exchange('POST', { 'mcp-protocol-version': '2025-06-18' });
    const ex = exchanges.begin(req, res, false);
    exchanges.request('a', ex);
    exchanges.answered('a');
    res.end('{}');
    await waitFor(() => exchanges.idleFor(0), 5000, () => 'the exchange to close');
    await new Promise((r) => setTimeout(r, 100));
    expect(cancelled).toEqual([]);
  });

  it('a resumable stream waits for the grace period; a resume (GET with Last-Event-ID) keeps the request until that stream closes too', async () => {
    const cancelled: unknown[] = [];
    const streams = new Map([['stream_1', 'stream']]);
    const exchanges = new SessionExchanges((id) => void cancelled.push(id), 300, (eventId) => streams.get(eventId));
    const post = await exchange('POST', { 'mcp-protocol-version': '2025-11-25' });
    const ex = exchanges.begin(post.req, post.res, false);
    expect(ex.resumable).toBe(true);
    exchanges.primed(ex, 'stream');
    exchanges.request(7, ex);
    post.client.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(cancelled).toEqual([]);
    const get = await exchange('GET', { 'mcp-protocol-version': '2025-11-25', 'last-event-id': 'stream_1' });
    exchanges.begin(get.req, get.res, false);
    await new Promise((r) => setTimeout(r, 400)); // past the first grace period
    expect(cancelled).toEqual([]);
    get.client.destroy();
    await waitFor(() => cancelled.length > 0, 5000, () => 'the cancellation after the resumed stream closed');
    expect(cancelled).toEqual([7]);
  });

  it('a resume rescues only the requests of the stream it names; another stream\'s or an unknown event id rescues nothing', async () => {
    const cancelled: unknown[] = [];
    const streams = new Map([['a_1', 'a'], ['b_1', 'b']]);
    const exchanges = new SessionExchanges((id) => void cancelled.push(id), 300, (eventId) => streams.get(eventId));
    const a = await exchange('POST', { 'mcp-protocol-version': '2025-11-25' });
    const b = await exchange('POST', { 'mcp-protocol-version': '2025-11-25' });
    const exA = exchanges.begin(a.req, a.res, false);
    const exB = exchanges.begin(b.req, b.res, false);
    exchanges.primed(exA, 'a');
    exchanges.primed(exB, 'b');
    exchanges.request('A', exA);
    exchanges.request('B', exB);
    a.client.destroy();
    b.client.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const bogus = await exchange('GET', { 'mcp-protocol-version': '2025-11-25', 'last-event-id': 'no-such-event' });
    exchanges.begin(bogus.req, bogus.res, false);
    bogus.res.end();
    const get = await exchange('GET', { 'mcp-protocol-version': '2025-11-25', 'last-event-id': 'a_1' });
    exchanges.begin(get.req, get.res, false);
    await waitFor(() => cancelled.length > 0, 5000, () => 'the cancellation of the stream not resumed');
    expect(cancelled).toEqual(['B']);
    get.client.destroy();
    await waitFor(() => cancelled.length > 1, 5000, () => 'the cancellation after the resumed stream closed');
    expect(cancelled).toEqual(['B', 'A']);
  });

  it('JSON responses are never resumable; an open exchange or a recent one keeps the session from being idle', async () => {
    const exchanges = new SessionExchanges(() => undefined, 50);
    const { client, req, res } = await exchange('POST', { 'mcp-protocol-version': '2025-11-25' });
    expect(exchanges.begin(req, res, true).resumable).toBe(false);
    expect(exchanges.idleFor(0)).toBe(false); // open
    client.destroy();
    await waitFor(() => exchanges.idleFor(0), 5000, () => 'the exchange to close');
    expect(exchanges.idleFor(60_000)).toBe(false); // closed just now
  });
});
