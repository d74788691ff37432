/**
 * The Streamable HTTP side of modern (2026-07-28) requests: which session-less POSTs are modern
 * (the `_meta` claim, or an `MCP-Protocol-Version` header naming a modern revision: such a POST
 * without `_meta` is a modern request missing it, docs/protocol.md §2), and how one is answered
 * (one JSON body, or SSE once a notification must leave first; nothing stored, nothing resumable).
 */
import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, ProtocolError } from '../errors.js';
import { hasModernClaim, isModernHeaderVersion } from '../protocol/revisions.js';
import { errorResponse, serveModern, type ModernHost } from './modern.js';
import type { ModernOrigin } from './modernCaller.js';
import { HttpModernStream } from './modernStream.js';

/** True when a session-less POST body belongs to the modern path. */
export function isModernPost(body: unknown, req: IncomingMessage): boolean {
  if (hasModernClaim(body)) return true;
  const header = req.headers['mcp-protocol-version'];
  return isModernHeaderVersion(Array.isArray(header) ? header[0] : header) && !Array.isArray(body);
}

/** Answers one modern POST (its body already parsed). Never throws. */
export async function serveModernPost(host: ModernHost, body: unknown, req: IncomingMessage, res: ServerResponse, origin: ModernOrigin): Promise<void> {
  const message = (typeof body === 'object' && body !== null ? body : {}) as { id?: unknown; method?: unknown };
  const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : null;
  if (typeof message.method !== 'string' || id === null) {
    // A modern notification or response needs no answer: there is no session to deliver it to.
    if (typeof message.method === 'string' || 'result' in message || 'error' in message) res.writeHead(202).end();
    else {
      const { response } = errorResponse(null, new ProtocolError(ErrorCodes.REQUEST_META_INVALID, -32600, 'Invalid Request: not a JSON-RPC 2.0 request, notification or response', {}, 400));
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(response));
    }
    return;
  }
  const stream = new HttpModernStream(res);
  if (!hasModernClaim(body)) {
    const { response, status } = errorResponse(id, new ProtocolError(ErrorCodes.REQUEST_META_INVALID, -32602, 'Invalid params: params._meta is missing (every 2026-07-28 request carries it)', {}, 400));
    stream.finish(response, status);
    return;
  }
  await serveModern(host, body as JSONRPCRequest, origin, stream, req.headers);
}
