/**
 * Builds the client transport for an upstream whose references are already resolved.
 * stdio children get only the SDK's minimal inherited environment plus what their file sets:
 * nothing else of the gateway's environment (and so none of its credentials) leaks into them.
 */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { UpstreamTarget } from '../config/types.js';
import { StdioUpstreamTransport, type StdioFraming } from './stdioTransport.js';

/** A connected-to-be transport plus what we need to observe its process. */
export interface UpstreamTransport {
  readonly transport: Transport;
  /** stderr of a stdio child (piped so the gateway can log and scrub it). */
  readonly stderr: NodeJS.ReadableStream | null;
  /** Process id of a stdio child once started. */
  pid(): number | null;
  /** How a stdio child ended, once it has. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/** Creates the transport for a resolved target (`framing` applies to a stdio child's output). */
export function createUpstreamTransport(target: UpstreamTarget, framing: StdioFraming): UpstreamTransport {
  if (target.kind === 'stdio') {
    const transport = new StdioUpstreamTransport(target, framing);
    return {
      transport,
      stderr: transport.stderr,
      pid: () => transport.pid,
      exit: () => transport.exit,
    };
  }
  const headers = { ...target.headers };
  const url = new URL(target.url);
  if (target.kind === 'http') {
    const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
    return { transport, stderr: null, pid: () => null, exit: () => undefined };
  }
  const transport = new SSEClientTransport(url, {
    requestInit: { headers },
    eventSourceInit: {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
    },
  });
  return { transport, stderr: null, pid: () => null, exit: () => undefined };
}

