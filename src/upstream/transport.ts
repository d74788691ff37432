/**
 * Builds the SDK client transport for an upstream whose references are already resolved.
 * stdio children get only the SDK's minimal inherited environment plus what their file sets:
 * nothing else of the gateway's environment (and so none of its credentials) leaks into them.
 */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamTarget } from '../config/types.js';

/** A connected-to-be transport plus what we need to observe its process. */
export interface UpstreamTransport {
  readonly transport: Transport;
  /** stderr of a stdio child (piped so the gateway can log and scrub it). */
  readonly stderr: NodeJS.ReadableStream | null;
  /** Process id of a stdio child once started. */
  pid(): number | null;
}

/** Creates the transport for a resolved target. */
export function createUpstreamTransport(target: UpstreamTarget): UpstreamTransport {
  if (target.kind === 'stdio') {
    const transport = new StdioClientTransport({
      command: target.command,
      args: [...target.args],
      env: { ...target.env },
      cwd: target.cwd,
      stderr: 'pipe',
    });
    corkSends(transport);
    return { transport, stderr: transport.stderr as NodeJS.ReadableStream | null, pid: () => transport.pid };
  }
  const headers = { ...target.headers };
  const url = new URL(target.url);
  if (target.kind === 'http') {
    const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
    return { transport, stderr: null, pid: () => null };
  }
  const transport = new SSEClientTransport(url, {
    requestInit: { headers },
    eventSourceInit: {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
    },
  });
  return { transport, stderr: null, pid: () => null };
}

/**
 * Messages sent to a stdio child in the same tick leave in one writev instead of one write
 * syscall each (under load, the single largest cost of forwarding). The child's stdin is not
 * public in the SDK transport; without it, sends are simply not batched.
 */
function corkSends(transport: StdioClientTransport): void {
  const send = transport.send.bind(transport);
  let corked: NodeJS.WritableStream | undefined;
  const uncork = () => {
    const stream = corked as (NodeJS.WritableStream & { uncork(): void }) | undefined;
    corked = undefined;
    stream?.uncork();
  };
  transport.send = (message: JSONRPCMessage) => {
    if (!corked) {
      const stdin = (transport as unknown as { _process?: { stdin?: NodeJS.WritableStream & { cork(): void } } })._process?.stdin;
      if (stdin && typeof stdin.cork === 'function') {
        stdin.cork();
        corked = stdin;
        process.nextTick(uncork);
      }
    }
    return send(message);
  };
}
