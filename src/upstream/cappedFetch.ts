/**
 * `maxMessageBytes` for HTTP and SSE upstreams: the fetch behind their transports counts the bytes
 * of each message as the body streams in — the whole body of a JSON answer, each event of an
 * event stream (bytes since the last blank line) — and stops the body once one passes the limit,
 * so a hostile server cannot make the gateway buffer an unbounded message (the stdio framing does
 * the same per line: src/upstream/stdioTransport.ts). The body's source is cancelled with it.
 * When the stream answers one POSTed request (Streamable HTTP), that request gets an error
 * response in the message's place, so its call fails now rather than at its timeout; a message on
 * a shared stream (a GET stream, legacy SSE) names no request: it is dropped and its call times out.
 */
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCodes, GatewayRpcCodes } from '../errors.js';

const LF = 10;
const CR = 13;
const encoder = new TextEncoder();

/** A fetch whose response bodies stop once a message passes `maxBytes`. */
export function cappedFetch(maxBytes: number, server: string, base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    if (!response.body || response.status === 204 || response.status === 304) return response;
    const events = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    const message = `upstream "${server}" sent a message of more than ${maxBytes} bytes, its maxMessageBytes; the message was dropped (raise \`maxMessageBytes\` in its servers.d file if such results are expected)`;
    let size = 0;
    /** Bytes of the current line other than CR (event streams: a line with none ends an event). */
    let lineBytes = 0;
    const stop = (controller: TransformStreamDefaultController<Uint8Array>): void => {
      const id = events ? requestId(init) : undefined;
      if (id === undefined) return controller.error(new Error(message));
      // End the partial event (the client drops it as unparseable), then answer the request in its place.
      const error = { jsonrpc: '2.0', id, error: { code: GatewayRpcCodes.upstreamMessageRejected, message, data: { code: ErrorCodes.UPSTREAM_MESSAGE_REJECTED } } };
      controller.enqueue(encoder.encode(`\n\nevent: message\ndata: ${JSON.stringify(error)}\n\n`));
      controller.terminate();
    };
    const limit = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (!events) {
          size += chunk.byteLength;
        } else {
          let from = 0;
          for (let at = chunk.indexOf(LF, from); at !== -1; at = chunk.indexOf(LF, from)) {
            const line = at - from - (at > from && chunk[at - 1] === CR ? 1 : 0);
            lineBytes += line;
            size += at + 1 - from;
            if (size > maxBytes) return stop(controller); // before an event end in this chunk resets it
            if (lineBytes === 0) size = 0; // a blank line: the event ended
            lineBytes = 0;
            from = at + 1;
          }
          const rest = chunk.byteLength - from;
          size += rest;
          lineBytes += rest - (rest > 0 && chunk[chunk.byteLength - 1] === CR ? 1 : 0);
        }
        if (size > maxBytes) stop(controller);
        else controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(limit), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** The id of the one JSON-RPC request a POST carried (read only when a message was too large). */
function requestId(init: RequestInit | undefined): string | number | undefined {
  if (init?.method !== 'POST' || typeof init.body !== 'string') return undefined;
  try {
    const sent = JSON.parse(init.body) as { id?: unknown; method?: unknown };
    return typeof sent.method === 'string' && (typeof sent.id === 'string' || typeof sent.id === 'number') ? sent.id : undefined;
  } catch {
    return undefined;
  }
}
