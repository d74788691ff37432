/**
 * Raw HTTP load for the HTTP benchmark, without the SDK client (which caps near 1.2–1.5 k calls/s
 * on this machine and would hide the server's capacity): Streamable HTTP sessions opened with
 * plain fetch, autocannon driving `tools/call` POSTs on one session, and many sessions opened and
 * closed to watch the gateway's memory.
 */
import autocannon from 'autocannon';
import type { Workload } from './measure.js';

const PROTOCOL = '2025-11-25';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** Opens a Streamable HTTP session (initialize + notifications/initialized); returns its id. */
export async function openSession(url: URL): Promise<string> {
  const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bench-raw', version: '1.0.0' } } };
  const res = await fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify(init) });
  const sid = res.headers.get('mcp-session-id');
  const text = await res.text();
  if (!res.ok || !sid) throw new Error(`initialize failed: HTTP ${res.status} ${text.slice(0, 300)}`);
  const notified = await fetch(url, { method: 'POST', headers: sessionHeaders(sid), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  await notified.text();
  return sid;
}

/** Headers of a request on session `sid`. */
export function sessionHeaders(sid: string): Record<string, string> {
  return { ...HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': PROTOCOL };
}

/** One `tools/call` on a session over raw HTTP; throws unless the answer is a successful result. */
export async function rawCall(url: URL, sid: string, workload: Workload, id: number): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: sessionHeaders(sid), body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: workload }) });
  const text = await res.text();
  if (!res.ok || !text.includes('"result"') || text.includes('"isError":true')) throw new Error(`call failed: HTTP ${res.status} ${text.slice(0, 300)}`);
}

/** Ends a session with DELETE. */
export async function closeSession(url: URL, sid: string): Promise<void> {
  const res = await fetch(url, { method: 'DELETE', headers: sessionHeaders(sid) });
  await res.text();
}

/** Capacity measured by autocannon: requests/s and latency, every request a `tools/call` with its own id. */
export interface Capacity {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
}

/** Drives `connections` keep-alive connections of `tools/call` POSTs on one session for `seconds`. */
export async function capacity(url: URL, workload: Workload, connections: number, seconds: number): Promise<Capacity> {
  const sid = await openSession(url);
  let id = 1;
  try {
    const result = await autocannon({
      url: url.href,
      method: 'POST',
      connections,
      duration: seconds,
      headers: sessionHeaders(sid),
      requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: workload }) }) }],
    });
    return { perSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
  } finally {
    await closeSession(url, sid);
  }
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
