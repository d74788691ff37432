/**
 * What a failed upstream request becomes for the client: a cancel, a timeout, a crash mid-request
 * each get a GatewayError that says which server, which request and what to do; an error the
 * upstream answered with passes through. Pure.
 */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCodes, GatewayError } from '../errors.js';
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
