/**
 * What a failed upstream request becomes for the client: a cancel, a timeout, a crash mid-request,
 * a server a reload stopped while the request ran each get a GatewayError that says which server, which request and what to do; an error the
 * upstream answered with passes through. Pure.
 */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { ErrorCodes, GatewayError, messageOf } from '../errors.js';
import type { UpstreamState } from '../telemetry/events.js';
import { ConnectionClosedError } from './forwarder.js';

/** The request that failed, as the message needs it. */
export interface FailedRequest {
  readonly server: string;
  /** The server's servers.d file (named in the timeout remedy). */
  readonly file: string;
  readonly method: string;
  readonly params: Record<string, unknown> | undefined;
  readonly timeoutMs: number;
  /** The client cancelled the request. */
  readonly cancelled: boolean;
  /** The connection the request went out on is gone (the server exited or restarted). */
  readonly crashed: boolean;
  /** A reload removed or replaced the server (src/reload): how long it was given to finish its calls. */
  readonly retiredGraceMs?: number | undefined;
  /** The tail of the server's stderr for the message; `own`: of the connection the request used. */
  stderr(own: boolean): string;
}

/**
 * The error to throw for `error`.
 * @example requestError(timeout, { server: 'gh', method: 'tools/call', … }) // MCPGATE_UPSTREAM_TIMEOUT
 */
export function requestError(error: unknown, failed: FailedRequest): unknown {
  const { server, method, params, timeoutMs } = failed;
  const what = method === 'tools/call' && typeof params?.name === 'string' ? `${method} "${params.name}"` : method;
  if (failed.cancelled) {
    return new GatewayError(ErrorCodes.UPSTREAM_TIMEOUT, `request cancelled by the client: ${what} on upstream "${server}"`, { cause: error });
  }
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
    return new GatewayError(
      ErrorCodes.UPSTREAM_TIMEOUT,
      `upstream "${server}" did not answer ${what} within ${timeoutMs} ms (timeout)${failed.stderr(false)}; the request was cancelled`,
      { remedy: `raise \`timeout\` in ${failed.file} if the tool is legitimately slow` },
    );
  }
  if (failed.retiredGraceMs !== undefined && (error instanceof ConnectionClosedError || failed.crashed)) {
    return new GatewayError(
      ErrorCodes.UPSTREAM_REMOVED,
      `upstream "${server}" was removed or replaced by a configuration reload and ${what} did not finish within ${failed.retiredGraceMs} ms of it; the request was cancelled`,
      { remedy: 'call the tool again (a replaced server answers under the same name); `timeout` in the server file bounds how long a reload waits for calls in flight', cause: error },
    );
  }
  if (error instanceof ConnectionClosedError) {
    return new GatewayError(ErrorCodes.UPSTREAM_CRASHED, `upstream "${server}" exited while ${what} was in flight${failed.stderr(true)}; it is being restarted`, {
      remedy: `check the server's stderr in the gateway log; it restarts automatically`,
      cause: error,
    });
  }
  if (failed.crashed && !(error instanceof McpError)) {
    return new GatewayError(ErrorCodes.UPSTREAM_CRASHED, `upstream "${server}" went away while ${what} was in flight${failed.stderr(true)}`, { cause: error });
  }
  return error;
}

/** The error of a request to an upstream that is not ready, or that a reload removed or replaced (`retired`). */
export function unavailableError(server: string, state: UpstreamState, lastError: string | undefined, retired: boolean): GatewayError {
  if (retired) {
    return new GatewayError(ErrorCodes.UPSTREAM_REMOVED, `upstream "${server}" was removed or replaced by a configuration reload`, {
      remedy: 'list the tools again (tools/list): a replaced server answers under its name again once it is ready',
    });
  }
  const detail = lastError ? `: ${lastError}` : '';
  return new GatewayError(ErrorCodes.UPSTREAM_UNAVAILABLE, `upstream "${server}" is not available (state ${state}${detail})`, {
    remedy: 'see `mcpgate.upstream.state` events in the audit log; the gateway retries with backoff',
  });
}

/** Why a start failed, in words (not yet redacted); `stderr` is the tail of the server's stderr. */
export function startErrorMessage(error: unknown, config: ServerConfig, stderr: string): string {
  const raw = messageOf(error);
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) return `did not finish initialising within ${config.startupTimeoutMs} ms${stderr}`;
  if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) return `exited during start-up${stderr}`;
  if (/ENOENT/.test(raw) && config.target.kind === 'stdio') return `command not found: ${config.target.command} (\`mcpgate check\` shows the PATH it was looked up in)`;
  return `${raw}${stderr}`;
}
