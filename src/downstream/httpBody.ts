/**
 * Reading a Streamable HTTP request's body (bounded, as the SDK transport bounds it) and the
 * JSON-RPC error replies the listener sends before any session or transport is involved.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body read (the SDK transport's default limit). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A request body, or why there is none. */
export type Body = { readonly tooLarge: true } | { readonly tooLarge: false; readonly text: string };

/** Reads a request body as UTF-8 text, refusing more than `MAX_BODY_BYTES`. */
export async function readBody(req: IncomingMessage): Promise<Body> {
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return { tooLarge: true };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { tooLarge: true };
    chunks.push(chunk as Buffer);
  }
  return { tooLarge: false, text: chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8') };
}

/** What {@link readJson} returns when there is no usable body (the error is already sent). */
export const NO_BODY = Symbol('no body');

/** The request's JSON body; NO_BODY when it was too large or not JSON (the error is already sent). */
export async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const body = await readBody(req);
  if (body.tooLarge) {
    sendError(res, 413, -32000, `Payload Too Large: Request body must not exceed ${MAX_BODY_BYTES} bytes`);
    return NO_BODY;
  }
  try {
    return JSON.parse(body.text);
  } catch {
    sendError(res, 400, -32700, 'Parse error: Invalid JSON');
    return NO_BODY;
  }
}

/** Sends a JSON-RPC error with no id and the given HTTP status. */
export function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
