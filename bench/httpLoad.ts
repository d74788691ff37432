/**
 * Raw HTTP load for the HTTP benchmark, without the SDK client (which caps near 1.2–1.5 k calls/s
 * on this machine and would hide the server's capacity): Streamable HTTP sessions opened with
 * plain fetch, the stateless 2026-07-28 caller (a `_meta` envelope and the routing headers on
 * every POST, no session), autocannon driving `tools/call` POSTs of either generation, and many
 * sessions opened and closed to watch the gateway's memory.
 */
import autocannon from 'autocannon';
import type { RawToolClient, Workload } from './measure.js';

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

/** The 2026-07-28 revision. */
const MODERN = '2026-07-28';

/** A stateless 2026-07-28 `tools/call` body: its `_meta` envelope claims the revision. */
export function modernCallBody(workload: Workload, id: number): string {
  const _meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'bench-modern', version: '1.0.0' },
  };
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: workload.name, arguments: workload.arguments, _meta } });
}

/** The headers a 2026-07-28 `tools/call` of `workload` carries (SEP-2243 routing headers). */
export function modernHeaders(workload: Workload): Record<string, string> {
  return { ...HEADERS, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': workload.name };
}

/** The result of a JSON body or of the last SSE `data:` event; throws unless it is a successful tool result. */
function successOf(status: number, text: string): void {
  const data = text.startsWith('{') ? text : (text.split('\n').filter((l) => l.startsWith('data:')).at(-1)?.slice(5) ?? '');
  const message = JSON.parse(data || '{}') as { result?: { isError?: boolean } };
  if (status !== 200 || !message.result || message.result.isError) throw new Error(`call failed: HTTP ${status} ${text.slice(0, 300)}`);
}

/** A 2026-07-28 caller over raw HTTP (fetch, keep-alive, as the SDK client's transport uses): one POST per call, no session. */
export function modernClient(url: URL, workload: Workload): RawToolClient {
  let id = 0;
  const headers = modernHeaders(workload);
  return {
    async callWorkload(call) {
      const res = await fetch(url, { method: 'POST', headers, body: modernCallBody(call, ++id) });
      successOf(res.status, await res.text());
    },
    close: async () => undefined,
  };
}

/** Capacity measured by autocannon: requests/s and latency, every request a `tools/call` with its own id. */
export interface Capacity {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
}

/**
 * Drives `connections` keep-alive connections of `tools/call` POSTs for `seconds`: on one
 * 2025-11-25 session, or (`modern`) as stateless 2026-07-28 requests.
 */
export async function capacity(url: URL, workload: Workload, connections: number, seconds: number, modern = false): Promise<Capacity> {
  const sid = modern ? undefined : await openSession(url);
  let id = 1;
  const body = modern ? (n: number) => modernCallBody(workload, n) : (n: number) => JSON.stringify({ jsonrpc: '2.0', id: n, method: 'tools/call', params: workload });
  try {
    const result = await autocannon({
      url: url.href,
      method: 'POST',
      connections,
      duration: seconds,
      headers: sid ? sessionHeaders(sid) : modernHeaders(workload),
      requests: [{ setupRequest: (request) => ({ ...request, body: body(id++) }) }],
    });
    return { perSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
  } finally {
    if (sid) await closeSession(url, sid);
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
