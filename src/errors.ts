/**
 * Typed errors with stable codes. Every code is listed with its remedy in docs/errors.md.
 * Wire errors (JSON-RPC) are built from these in `toJsonRpcError`; local code never throws strings.
 */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

/** Stable error codes; scripts and docs depend on these names. */
export const ErrorCodes = {
  CONFIG_INVALID: 'MCPGATE_CONFIG_INVALID',
  CONFIG_NOT_FOUND: 'MCPGATE_CONFIG_NOT_FOUND',
  REFERENCE_UNRESOLVED: 'MCPGATE_REFERENCE_UNRESOLVED',
  UPSTREAM_START_FAILED: 'MCPGATE_UPSTREAM_START_FAILED',
  UPSTREAM_UNAVAILABLE: 'MCPGATE_UPSTREAM_UNAVAILABLE',
  UPSTREAM_CRASHED: 'MCPGATE_UPSTREAM_CRASHED',
  UPSTREAM_REMOVED: 'MCPGATE_UPSTREAM_REMOVED',
  ISOLATION_LIMIT: 'MCPGATE_ISOLATION_LIMIT',
  UPSTREAM_TIMEOUT: 'MCPGATE_UPSTREAM_TIMEOUT',
  UPSTREAM_MESSAGE_REJECTED: 'MCPGATE_UPSTREAM_MESSAGE_REJECTED',
  REQUEST_REJECTED: 'MCPGATE_REQUEST_REJECTED',
  UNKNOWN_TOOL: 'MCPGATE_UNKNOWN_TOOL',
  UNKNOWN_PROMPT: 'MCPGATE_UNKNOWN_PROMPT',
  UNKNOWN_RESOURCE: 'MCPGATE_UNKNOWN_RESOURCE',
  POLICY_DENIED: 'MCPGATE_POLICY_DENIED',
  NAME_COLLISION: 'MCPGATE_NAME_COLLISION',
  CLIENT_REQUEST_UNROUTABLE: 'MCPGATE_CLIENT_REQUEST_UNROUTABLE',
  CLIENT_CAPABILITY_MISSING: 'MCPGATE_CLIENT_CAPABILITY_MISSING',
  INVALID_PARAMS: 'MCPGATE_INVALID_PARAMS',
  METHOD_NOT_FOUND: 'MCPGATE_METHOD_NOT_FOUND',
  SESSION_REQUIRED: 'MCPGATE_SESSION_REQUIRED',
  CALL_CANCELLED: 'MCPGATE_CALL_CANCELLED',
  UPSTREAM_ELICITATION_REFUSED: 'MCPGATE_UPSTREAM_ELICITATION_REFUSED',
  CLIENT_DISCONNECTED: 'MCPGATE_CLIENT_DISCONNECTED',
  USAGE: 'MCPGATE_USAGE',
  LISTEN_FAILED: 'MCPGATE_LISTEN_FAILED',
  ADMIN_UNAVAILABLE: 'MCPGATE_ADMIN_UNAVAILABLE',
  APPROVAL_NOT_FOUND: 'MCPGATE_APPROVAL_NOT_FOUND',
  SECRET_NOT_FOUND: 'MCPGATE_SECRET_NOT_FOUND',
  SECRET_VALUE_INVALID: 'MCPGATE_SECRET_VALUE_INVALID',
  SECRET_STORE_UNAVAILABLE: 'MCPGATE_SECRET_STORE_UNAVAILABLE',
  SECRET_STORE_LOCKED: 'MCPGATE_SECRET_STORE_LOCKED',
  LISTEN_INSECURE: 'MCPGATE_LISTEN_INSECURE',
  AUTH_CONFIG_INVALID: 'MCPGATE_AUTH_CONFIG_INVALID',
  UNAUTHENTICATED: 'MCPGATE_UNAUTHENTICATED',
  REQUIREMENTS_INVALID: 'MCPGATE_REQUIREMENTS_INVALID',
  PIN_NOT_PENDING: 'MCPGATE_PIN_NOT_PENDING',
  PIN_FILE_INVALID: 'MCPGATE_PIN_FILE_INVALID',
  AUDIT_CORRUPT: 'MCPGATE_AUDIT_CORRUPT',
  AUDIT_UNAVAILABLE: 'MCPGATE_AUDIT_UNAVAILABLE',
  AUDIT_NOT_FOUND: 'MCPGATE_AUDIT_NOT_FOUND',
  AUDIT_KEY_INVALID: 'MCPGATE_AUDIT_KEY_INVALID',
  IMPORT_INVALID: 'MCPGATE_IMPORT_INVALID',
  IMPORT_CONFLICT: 'MCPGATE_IMPORT_CONFLICT',
  IMPORT_WRITE_FAILED: 'MCPGATE_IMPORT_WRITE_FAILED',
  NETWORK_DENIED: 'MCPGATE_NETWORK_DENIED',
  SANDBOX_UNAVAILABLE: 'MCPGATE_SANDBOX_UNAVAILABLE',
  SANDBOX_INVALID: 'MCPGATE_SANDBOX_INVALID',
  REQUEST_META_INVALID: 'MCPGATE_REQUEST_META_INVALID',
  HEADER_MISMATCH: 'MCPGATE_HEADER_MISMATCH',
  PROTOCOL_VERSION_UNSUPPORTED: 'MCPGATE_PROTOCOL_VERSION_UNSUPPORTED',
  REQUEST_STATE_INVALID: 'MCPGATE_REQUEST_STATE_INVALID',
  CALL_HELD_ELSEWHERE: 'MCPGATE_CALL_HELD_ELSEWHERE',
} as const;

/** One of the stable codes above. */
export type ErrorCodeName = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error mcpgate raises on purpose: a stable code plus a remedy sentence. */
export class GatewayError extends Error {
  readonly code: ErrorCodeName;
  readonly remedy: string | undefined;

  constructor(code: ErrorCodeName, message: string, options: { remedy?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.remedy = options.remedy;
  }
}

/**
 * An error whose JSON-RPC code and data the protocol fixes (the 2026-07-28 revision's -32020,
 * -32021, -32022, a -32602 with `data.uri`, …), and the HTTP status it travels with on the
 * modern path (400 for envelope, header, version and capability errors; 404 for an unknown method).
 */
export class ProtocolError extends GatewayError {
  constructor(
    code: ErrorCodeName,
    readonly rpcCode: number,
    message: string,
    readonly data: Readonly<Record<string, unknown>> = {},
    readonly httpStatus = 200,
  ) {
    super(code, message);
    this.name = 'ProtocolError';
  }
}

/** A user mistake on the command line (exit code 2). */
export class UsageError extends GatewayError {
  constructor(message: string) {
    super(ErrorCodes.USAGE, message);
    this.name = 'UsageError';
  }
}

/** Custom JSON-RPC error codes in the implementation-defined server range. */
export const GatewayRpcCodes = {
  upstreamUnavailable: -32010,
  upstreamCrashed: -32011,
  /** An upstream's message was too large or too deeply nested to be used (`MCPGATE_UPSTREAM_MESSAGE_REJECTED`). */
  upstreamMessageRejected: -32012,
  upstreamTimeout: ErrorCode.RequestTimeout,
} as const;

/**
 * A JSON-RPC error for the client. Unlike the SDK's McpError its message carries no
 * "MCP error N:" prefix, which the client's SDK adds again on its side.
 */
export class WireError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'WireError';
    this.code = code;
    this.data = data;
  }
}

/** The message of anything thrown (an Error's message, else its string form). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first line of {@link messageOf}: for one-line messages built around a library's multi-line error. */
export function firstLineOf(error: unknown): string {
  return messageOf(error).split('\n')[0] ?? '';
}

/** The JSON-RPC code each gateway-originated wire error goes out with (docs/errors.md); any other code: -32603. */
const RPC_CODE_OF: Readonly<Partial<Record<ErrorCodeName, number>>> = {
  [ErrorCodes.UPSTREAM_CRASHED]: GatewayRpcCodes.upstreamCrashed,
  [ErrorCodes.UPSTREAM_TIMEOUT]: GatewayRpcCodes.upstreamTimeout,
  [ErrorCodes.UPSTREAM_UNAVAILABLE]: GatewayRpcCodes.upstreamUnavailable,
  [ErrorCodes.UPSTREAM_REMOVED]: GatewayRpcCodes.upstreamUnavailable,
  [ErrorCodes.ISOLATION_LIMIT]: GatewayRpcCodes.upstreamUnavailable,
  [ErrorCodes.UPSTREAM_MESSAGE_REJECTED]: GatewayRpcCodes.upstreamMessageRejected,
  [ErrorCodes.CLIENT_CAPABILITY_MISSING]: ErrorCode.InvalidRequest,
  [ErrorCodes.CLIENT_REQUEST_UNROUTABLE]: ErrorCode.InvalidRequest,
  [ErrorCodes.REQUEST_REJECTED]: ErrorCode.InvalidRequest,
  [ErrorCodes.POLICY_DENIED]: ErrorCode.InvalidRequest,
  [ErrorCodes.SESSION_REQUIRED]: ErrorCode.InvalidRequest,
  [ErrorCodes.UNKNOWN_TOOL]: ErrorCode.InvalidParams,
  [ErrorCodes.UNKNOWN_PROMPT]: ErrorCode.InvalidParams,
  [ErrorCodes.UNKNOWN_RESOURCE]: ErrorCode.InvalidParams,
  [ErrorCodes.INVALID_PARAMS]: ErrorCode.InvalidParams,
  [ErrorCodes.UPSTREAM_ELICITATION_REFUSED]: ErrorCode.InvalidParams,
  [ErrorCodes.METHOD_NOT_FOUND]: ErrorCode.MethodNotFound,
  [ErrorCodes.CALL_CANCELLED]: ErrorCode.RequestTimeout,
};

/**
 * The wire error of a gateway-originated failure: its JSON-RPC code from the table above, its
 * stable code in `data.code`.
 * @example wireError(ErrorCodes.UNKNOWN_TOOL, 'Unknown tool: x') // -32602, data { code: 'MCPGATE_UNKNOWN_TOOL' }
 */
export function wireError(code: ErrorCodeName, message: string): WireError {
  return new WireError(RPC_CODE_OF[code] ?? ErrorCode.InternalError, message, { code });
}

/** Maps any error to the JSON-RPC error the downstream client receives; never leaks a stack. */
export function toWireError(error: unknown): WireError {
  if (error instanceof WireError) return error;
  if (error instanceof ProtocolError) return new WireError(error.rpcCode, error.message, { ...error.data, code: error.code });
  if (error instanceof McpError) return new WireError(error.code, error.message.replace(/^MCP error -?\d+: /, ''), error.data);
  if (error instanceof GatewayError) return wireError(error.code, error.message);
  const message = messageOf(error);
  return new WireError(ErrorCode.InternalError, message);
}
