/**
 * Test support: a raw 2026-07-28 (modern) client. Every request carries the `_meta` envelope and,
 * over HTTP, the headers the revision requires (MCP-Protocol-Version, Mcp-Method, Mcp-Name); a test
 * can override or drop any of them to exercise the gateway's validation.
 */

/** The modern revision. */
export const MODERN = '2026-07-28';

/** The envelope of a modern request (`capabilities`, `extra` merged in). */
export function envelope(capabilities: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    'io.modelcontextprotocol/clientInfo': { name: 'modern-test', version: '1.0.0' },
    ...extra,
  };
}

/** A modern JSON-RPC request body. */
export function modernRequest(id: number | string, method: string, params: Record<string, unknown> = {}, capabilities: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: envelope(capabilities, meta) } };
}

/** The headers a modern POST carries for `body` (`Mcp-Name` from name/uri/taskId when the method has one). */
export function modernHeaders(body: Record<string, unknown>): Record<string, string> {
  const params = (body.params ?? {}) as Record<string, unknown>;
  const method = String(body.method);
  const name = method === 'resources/read' ? params.uri : method === 'tools/call' || method === 'prompts/get' ? params.name : ['tasks/get', 'tasks/update', 'tasks/cancel'].includes(method) ? params.taskId : undefined;
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': String(body.method),
    ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
  };
}

/** What a modern POST answered: the HTTP status, content type, and the JSON-RPC messages (one, or the SSE events). */
export interface ModernReply {
  readonly status: number;
  readonly contentType: string;
  /** Every JSON-RPC message of the response, in order (the last one is the response). */
  readonly messages: Array<Record<string, unknown>>;
  /** The response (the last message). */
  readonly response: Record<string, unknown> & { result?: Record<string, unknown>; error?: { code: number; message: string; data?: Record<string, unknown> } };
}

/** Parses a JSON body or an SSE stream of `data:` events. */
export function parseReply(status: number, contentType: string, text: string): ModernReply {
  const messages = contentType.includes('text/event-stream')
    ? text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => JSON.parse(line.slice(5).trim()) as Record<string, unknown>)
    : text
      ? [JSON.parse(text) as Record<string, unknown>]
      : [];
  return { status, contentType, messages, response: (messages.at(-1) ?? {}) as ModernReply['response'] };
}

/** POSTs a modern request (headers from {@link modernHeaders}, `headers` overriding; a null value drops one). */
export async function modernPost(url: URL, body: Record<string, unknown>, headers: Record<string, string | null> = {}): Promise<ModernReply> {
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...modernHeaders(body), ...headers })) if (value !== null) merged[key] = value;
  const res = await fetch(url, { method: 'POST', headers: merged, body: JSON.stringify(body) });
  return parseReply(res.status, res.headers.get('content-type') ?? '', await res.text());
}

/** A modern call: `modernPost` of `modernRequest`. */
export function modernCall(url: URL, id: number | string, method: string, params: Record<string, unknown> = {}, capabilities: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Promise<ModernReply> {
  return modernPost(url, modernRequest(id, method, params, capabilities, meta));
}
