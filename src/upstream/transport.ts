/**
 * Builds the client transport for an upstream whose references are already resolved.
 * stdio children get only the SDK's minimal inherited environment plus what their file sets:
 * nothing else of the gateway's environment (and so none of its credentials) leaks into them.
 */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { UpstreamProtocol, UpstreamTarget } from '../config/types.js';
import { ErrorCodes, GatewayError } from '../errors.js';
import type { ParamHeader } from '../protocol/headers.js';
import { MODERN_VERSION } from '../protocol/revisions.js';
import type { ProbeVerdict } from './modern.js';
import { modernFetch, probeHttp, probeStdio, PROBE_TIMEOUT_MS, startOnce, STDIO_PROBE_TIMEOUT_MS } from './modernConnection.js';
import { StdioUpstreamTransport, type StdioFraming } from './stdioTransport.js';
import { cappedFetch } from './cappedFetch.js';

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

/**
 * Creates the transport for a resolved target (`framing` applies to a stdio child's output).
 * `modern`: the target speaks 2026-07-28; an HTTP one gets the SEP-2243 headers on every POST,
 * the `x-mcp-header` annotations of each tool coming from this lookup.
 */
export function createUpstreamTransport(target: UpstreamTarget, framing: StdioFraming, modern?: (tool: string) => readonly ParamHeader[] | undefined): UpstreamTransport {
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
  const capped = cappedFetch(framing.maxMessageBytes, framing.server);
  if (target.kind === 'http') {
    const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers }, fetch: modern ? modernFetch(modern, capped) : capped });
    return { transport, stderr: null, pid: () => null, exit: () => undefined };
  }
  const transport = new SSEClientTransport(url, {
    requestInit: { headers },
    fetch: capped,
    eventSourceInit: {
      fetch: (input, init) => capped(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
    },
  });
  return { transport, stderr: null, pid: () => null, exit: () => undefined };
}


/** What a start decided: the revision (with what discovery said) and the transport that speaks it. */
export interface Negotiated {
  readonly io: UpstreamTransport;
  readonly verdict: ProbeVerdict;
}

/**
 * Picks the revision for one start of an upstream and creates its transport: `protocol: auto`
 * probes with `server/discover` (HTTP: one POST before the transport exists; stdio: on the real
 * process, which then carries on with `initialize` if it is a 2025 server) unless `skipProbe`; an
 * SSE upstream is always 2025. A server pinned to 2026-07-28 that does not speak it fails the start.
 */
export async function negotiate(
  target: UpstreamTarget,
  framing: StdioFraming,
  options: {
    readonly protocol: UpstreamProtocol;
    readonly skipProbe: boolean;
    readonly file: string;
    readonly startupTimeoutMs: number;
    readonly annotationsOf: (tool: string) => readonly ParamHeader[] | undefined;
  },
  watch: (io: UpstreamTransport) => void,
): Promise<Negotiated> {
  const probe = options.protocol !== '2025-11-25' && target.kind !== 'sse' && !(options.skipProbe && options.protocol === 'auto');
  let verdict: ProbeVerdict = { kind: 'legacy', reason: probe ? 'not probed' : `protocol: ${options.protocol}` };
  // a server pinned to 2026-07-28 has no fallback to hurry for: it gets the whole startupTimeout
  const pinned = options.protocol === MODERN_VERSION;
  if (probe && target.kind === 'http') {
    const timeoutMs = pinned ? options.startupTimeoutMs : Math.min(PROBE_TIMEOUT_MS, options.startupTimeoutMs);
    verdict = await probeHttp(new URL(target.url), target.headers ?? {}, timeoutMs, cappedFetch(framing.maxMessageBytes, framing.server));
  }
  const io = createUpstreamTransport(target, framing, verdict.kind === 'modern' ? options.annotationsOf : undefined);
  watch(io);
  try {
    if (probe && target.kind === 'stdio') {
      await startOnce(io.transport);
      verdict = await probeStdio(io.transport, pinned ? options.startupTimeoutMs : Math.min(STDIO_PROBE_TIMEOUT_MS, options.startupTimeoutMs));
    }
    if (options.protocol === MODERN_VERSION && verdict.kind !== 'modern') {
      const why = verdict.kind === 'legacy' ? verdict.reason : 'no answer';
      throw new GatewayError(ErrorCodes.UPSTREAM_START_FAILED, `the server does not speak ${MODERN_VERSION} (${why})`, { remedy: `set \`protocol: auto\` (or 2025-11-25) in ${options.file}` });
    }
  } catch (error) {
    await io.transport.close().catch(() => undefined);
    throw error;
  }
  return { io, verdict };
}
