/**
 * The HTTP fast path's responses over a real node:http server and real fetch: a call answered
 * at once is one JSON body, one that runs longer becomes a (resumable) SSE stream, messages the
 * session sends for a call arrive on its SSE stream before the result, a resumable stream is
 * replayed from the event store on `Last-Event-ID` and continues there, cancellation passes its
 * reason on. The session is a stand-in (`SessionStandIn`): the end-to-end HTTP tests drive the
 * real one through real gateways.
 */
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BoundedEventStore } from '../../src/downstream/eventStore.js';
import { FastCalls, PRIMING_DELAY_MS } from '../../src/downstream/httpFastCall.js';
import type { FastPathHost } from '../../src/downstream/session.js';

/** Stands in for ClientSession's fast path: each call waits until the test answers it. */
class SessionStandIn implements FastPathHost {
  readonly answers = new Map<RequestId, (response: JSONRPCMessage | undefined) => void>();
  readonly cancelled: Array<{ id: RequestId; reason?: string }> = [];
  fastRequest = (request: JSONRPCRequest) => new Promise<JSONRPCMessage | undefined>((resolve) => this.answers.set(request.id, resolve));
  fastCancel = (id: RequestId, reason?: string) => {
    this.cancelled.push({ id, ...(reason ? { reason } : {}) });
    this.answers.get(id)?.(undefined);
  };
}

const call = (id: number): JSONRPCRequest => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: {} } });
const result = (id: number): JSONRPCMessage => ({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: `done ${id}` }] } }) as JSONRPCMessage;
const progress = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: n } }) as JSONRPCMessage;

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

/** Serves POST as a fast call (resumable or not) and GET with Last-Event-ID as a resume. */
async function serve(fast: FastCalls, resumable: boolean, primed: (stream: string) => void = () => undefined): Promise<string> {
  server = createServer((req, res) => {
    if (req.method === 'GET') {
      void fast.resume(String(req.headers['last-event-id']), res);
      return;
    }
    const id = Number(req.headers['x-call-id']);
    void fast.run(call(id), res, resumable, primed);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** Reads an SSE response (or goes on reading it) until `until` matches the text read so far. */
async function readUntil(from: Response | ReadableStreamDefaultReader<Uint8Array>, until: RegExp, text = ''): Promise<{ text: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = from instanceof Response ? (from.body as ReadableStream<Uint8Array>).getReader() : from;
  const decoder = new TextDecoder();
  while (!until.test(text)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  return { text, reader };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('HTTP fast calls', () => {
  it('answer a call that finishes before the priming delay with one JSON body: no SSE, nothing to resume', async () => {
    const session = new SessionStandIn();
    const primed: string[] = [];
    const fast = new FastCalls('sid-0', session, new BoundedEventStore());
    const url = await serve(fast, true, (stream) => void primed.push(stream));
    const pending = fetch(url, { method: 'POST', headers: { 'x-call-id': '10' } });
    await until(() => session.answers.has(10));
    session.answers.get(10)?.(result(10));
    const response = await pending;
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mcp-session-id')).toBe('sid-0');
    expect(await response.json()).toEqual(result(10));
    expect(primed).toEqual([]);
  });

  it('switch a call still running after the priming delay to SSE with a priming event, resumable from then on', async () => {
    const session = new SessionStandIn();
    const primed: string[] = [];
    const fast = new FastCalls('sid-5', session, new BoundedEventStore());
    const url = await serve(fast, true, (stream) => void primed.push(stream));
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers: { 'x-call-id': '11' } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(PRIMING_DELAY_MS - 5); // headers wait for the delay
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const { text, reader } = await readUntil(response, /^id: .+$/m);
    expect(primed).toHaveLength(1);
    session.answers.get(11)?.(result(11));
    const { text: all } = await readUntil(reader, /done 11/, text);
    expect(all).toMatch(/^event: message\nid: .+\ndata: .*done 11/m);
  });

  it('stream what the session sends for a call before its result, then end with the result', async () => {
    const session = new SessionStandIn();
    const fast = new FastCalls('sid-1', session, new BoundedEventStore());
    const url = await serve(fast, false);
    const response = await fetch(url, { method: 'POST', headers: { 'x-call-id': '1' } });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('mcp-session-id')).toBe('sid-1');
    await until(() => session.answers.has(1));
    expect(fast.route(progress(1), 1)).toBe(true);
    expect(fast.route(progress(2), 99)).toBe(false); // another request's: the SDK transport's business
    session.answers.get(1)?.(result(1));
    const text = await response.text();
    expect(text.indexOf('"progress":1')).toBeGreaterThan(-1);
    expect(text.indexOf('"progress":1')).toBeLessThan(text.indexOf('done 1'));
    expect(text).not.toContain('"progress":2');
    expect(text).not.toMatch(/^id: /m); // not resumable: no event ids
  });

  it('replay a resumable stream the client lost on Last-Event-ID and finish the call there', async () => {
    const session = new SessionStandIn();
    const events = new BoundedEventStore();
    const fast = new FastCalls('sid-2', session, events);
    const url = await serve(fast, true);
    const controller = new AbortController();
    const first = await fetch(url, { method: 'POST', headers: { 'x-call-id': '2' }, signal: controller.signal });
    const { text: primed } = await readUntil(first, /^id: .+$/m);
    const primingId = /^id: (.+)$/m.exec(primed)?.[1] as string;
    expect(primed).toMatch(/^retry: \d+$/m);
    controller.abort(); // the client loses the stream
    await until(() => session.answers.has(2));
    fast.route(progress(7), 2); // sent while no one listens: stored
    const resumed = await fetch(url, { headers: { 'last-event-id': primingId } });
    const { text: replayed, reader } = await readUntil(resumed, /"progress":7/);
    expect(replayed).toMatch(/^id: .+$/m);
    session.answers.get(2)?.(result(2));
    const { text: all } = await readUntil(reader, /done 2/, replayed);
    expect(all).toContain('done 2');
  });

  it('pass a cancellation on with its reason, only for calls in flight here', async () => {
    const session = new SessionStandIn();
    const fast = new FastCalls('sid-3', session, new BoundedEventStore());
    const url = await serve(fast, false);
    const response = await fetch(url, { method: 'POST', headers: { 'x-call-id': '3' } });
    await until(() => session.answers.has(3));
    fast.cancel(4, 'not here');
    fast.cancel(3, 'the client disconnected');
    expect(session.cancelled).toEqual([{ id: 3, reason: 'the client disconnected' }]);
    expect(await response.text()).toBe(''); // a cancelled call gets no response
  });

  it('leave a call the session declines to the SDK transport', () => {
    const fast = new FastCalls('sid-4', { fastRequest: () => undefined }, new BoundedEventStore());
    expect(fast.run(call(5), {} as never, false, () => undefined)).toBeUndefined();
  });
});
