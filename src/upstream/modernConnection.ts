/**
 * The I/O of speaking 2026-07-28 to an upstream: the bounded `server/discover` probe (in place, on
 * the real stdio process or with one POST), and the fetch that gives every POST to a modern HTTP
 * upstream its SEP-2243 headers. Pure pieces are in `modern.ts`.
 */
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ParamHeader } from '../protocol/headers.js';
import { discoverRequest, readDiscover, requestHeaders, type ProbeVerdict } from './modern.js';

/**
 * How long the probe may take before mcpgate falls back to `initialize`: a 2025 server that
 * ignores an unknown request costs at most this at start (`protocol: 2025-11-25` skips the probe).
 * HTTP: the server is already up, 2 s. stdio: the clock starts at spawn, and the process may take
 * seconds to read its first line (an interpreter, npx), so 5 s (at most `startupTimeout`).
 */
export const PROBE_TIMEOUT_MS = 2000;
/** The stdio probe's bound (see {@link PROBE_TIMEOUT_MS}). */
export const STDIO_PROBE_TIMEOUT_MS = 5000;
/** A server may reject the first discover (-32022 naming 2026-07-28); it is asked once more. */
const PROBE_ATTEMPTS = 2;
const PROBE_ID = 'mcpgate-probe';

/**
 * The probe's process went away while it waited: the next start skips the probe (some servers exit
 * on an unknown first request). A connection-closed error, so the start reports it as any exit
 * during start-up (with the server's last stderr lines).
 */
export class ProbeClosedError extends McpError {
  constructor() {
    super(ErrorCode.ConnectionClosed, 'Connection closed (the server exited when asked server/discover)');
  }
}

/**
 * Starts a transport once, for the probe: the SDK client's `connect` calls `start()` again on
 * fallback, which must not spawn a second process.
 */
export async function startOnce(transport: Transport): Promise<void> {
  await transport.start();
  transport.start = async () => undefined;
}

/** Probes a started stdio transport with `server/discover`; the transport's handlers are left unset. */
export async function probeStdio(transport: Transport, timeoutMs = STDIO_PROBE_TIMEOUT_MS): Promise<ProbeVerdict> {
  const deadline = Date.now() + timeoutMs;
  try {
    for (let attempt = 1; attempt <= PROBE_ATTEMPTS; attempt++) {
      const id = `${PROBE_ID}-${attempt}`;
      const answer = await new Promise<JSONRPCMessage | undefined>((resolve, reject) => {
        const timer = setTimeout(() => resolve(undefined), Math.max(1, deadline - Date.now()));
        transport.onmessage = (message) => {
          if ((message as { id?: unknown }).id !== id) return; // a legacy server's log line or request: not the answer
          clearTimeout(timer);
          resolve(message);
        };
        transport.onclose = () => {
          clearTimeout(timer);
          reject(new ProbeClosedError());
        };
        transport.send(discoverRequest(id) as JSONRPCMessage).catch(reject);
      });
      if (!answer) return { kind: 'legacy', reason: `no answer to server/discover within ${timeoutMs} ms` };
      const verdict = readDiscover(answer as never);
      if (verdict.kind !== 'retry') return verdict;
    }
    return { kind: 'legacy', reason: 'server/discover rejected the version twice' };
  } finally {
    transport.onmessage = undefined;
    transport.onclose = undefined;
  }
}

/** Probes an HTTP upstream with one POST of `server/discover` (JSON or SSE answer); any other answer is legacy. */
export async function probeHttp(url: URL, headers: Readonly<Record<string, string>>, timeoutMs = PROBE_TIMEOUT_MS, fetchLike: FetchLike = fetch): Promise<ProbeVerdict> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    for (let attempt = 1; attempt <= PROBE_ATTEMPTS; attempt++) {
      const request = discoverRequest(`${PROBE_ID}-${attempt}`);
      const response = await fetchLike(url, {
        method: 'POST',
        headers: { ...headers, ...requestHeaders(request, () => undefined), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(request),
        signal,
      });
      const message = await readAnswer(response, request.id);
      if (!message) return { kind: 'legacy', reason: `server/discover answered HTTP ${response.status}` };
      const verdict = readDiscover(message);
      if (verdict.kind !== 'retry') return verdict;
    }
    return { kind: 'legacy', reason: 'server/discover rejected the version twice' };
  } catch (error) {
    return { kind: 'legacy', reason: `server/discover failed: ${signal.aborted ? `no answer within ${timeoutMs} ms` : String((error as Error).message ?? error)}` };
  }
}

type Answer = { id?: unknown; result?: unknown; error?: { code?: unknown; data?: unknown } };

/** The JSON-RPC answer with `id` in a response (JSON body, or the first matching SSE event); undefined if none. */
async function readAnswer(response: Response, id: string): Promise<Answer | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('application/json')) {
    const body = (await response.json().catch(() => undefined)) as Answer | undefined;
    return body && typeof body === 'object' && (body.id === id || (body.error && body.id == null)) ? body : undefined;
  }
  if (!type.includes('text/event-stream') || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return undefined;
      buffer += value;
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) !== -1) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        const data = event
          .split(/\r?\n/)
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (!data) continue;
        const message = JSON.parse(data) as Answer;
        if (message.id === id) return message;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * The fetch of a modern HTTP upstream's transport: adds the SEP-2243 headers to every POST, sends
 * no session id (2026-07-28 has none), and turns a 4xx whose body is a JSON-RPC error into that
 * error for the request it answers (modern servers answer header and version errors with 400), so
 * the call fails with the upstream's code and message rather than an HTTP status.
 */
export function modernFetch(annotationsOf: (tool: string) => readonly ParamHeader[] | undefined, base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const headers = new Headers(init?.headers);
    headers.delete('mcp-session-id');
    if (init?.method !== 'POST' || typeof init.body !== 'string') return base(url, { ...init, headers });
    let message: { id?: unknown } | undefined;
    try {
      message = JSON.parse(init.body) as { id?: unknown };
    } catch {
      message = undefined;
    }
    for (const [name, value] of Object.entries(requestHeaders(message, annotationsOf))) headers.set(name, value);
    const response = await base(url, { ...init, headers });
    if (response.status < 400 || response.status >= 500 || message?.id === undefined || !(response.headers.get('content-type') ?? '').includes('application/json')) return response;
    const text = await response.text();
    const body = (() => {
      try {
        return JSON.parse(text) as { jsonrpc?: unknown; error?: unknown; id?: unknown };
      } catch {
        return undefined;
      }
    })();
    if (!body || typeof body !== 'object' || body.jsonrpc !== '2.0' || typeof body.error !== 'object') {
      return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
    }
    return new Response(JSON.stringify({ ...body, id: message.id }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}
