/**
 * The per-request `_meta` envelope of a modern request (basic/index § _meta): protocol version and
 * client capabilities (required), client info (SHOULD), log level (optional) and mcpgate's own
 * optional session id. Validated before anything else looks at the request; every failure is a
 * -32602 (HTTP 400) that names the field, and the client-supplied values are capped.
 */
import { z } from 'zod';
import { ErrorCodes, ProtocolError } from '../errors.js';
import { MetaKeys, MODERN_VERSIONS } from './revisions.js';

/** Logging levels, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Longest client name or version kept (they land in audit records and approval prompts). */
const INFO_MAX = 200;

const ClientInfoSchema = z.looseObject({ name: z.string().min(1), version: z.string() });
const CapabilitiesSchema = z.record(z.string(), z.unknown());
/** `dev.mcpgate/session`: 16–128 characters of `[A-Za-z0-9_-]` (long enough to be unguessable). */
const SessionSchema = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/);

/** What a modern request says about its client. */
export interface Envelope {
  readonly protocolVersion: string;
  readonly clientCapabilities: Readonly<Record<string, unknown>>;
  readonly clientInfo: { readonly name?: string; readonly version?: string };
  readonly logLevel: LogLevel | undefined;
  /** `dev.mcpgate/session`, when given. */
  readonly session: string | undefined;
}

function invalid(message: string): ProtocolError {
  return new ProtocolError(ErrorCodes.REQUEST_META_INVALID, -32602, `Invalid params: ${message}`, {}, 400);
}

function capped(text: string): string {
  return text.length <= INFO_MAX ? text : `${text.slice(0, INFO_MAX)}… (${text.length - INFO_MAX} more characters)`;
}

/** Reads and validates the envelope of a modern request's params; throws a 400 -32602 {@link ProtocolError}. */
export function readEnvelope(params: unknown): Envelope {
  const meta = typeof params === 'object' && params !== null ? (params as { _meta?: unknown })._meta : undefined;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw invalid('params._meta is missing (every 2026-07-28 request carries it)');
  const m = meta as Record<string, unknown>;
  const version = m[MetaKeys.protocolVersion];
  if (typeof version !== 'string' || version === '') throw invalid(`_meta is missing ${MetaKeys.protocolVersion} (a string)`);
  const capabilities = CapabilitiesSchema.safeParse(m[MetaKeys.clientCapabilities]);
  if (!capabilities.success || Array.isArray(m[MetaKeys.clientCapabilities])) throw invalid(`_meta is missing ${MetaKeys.clientCapabilities} (an object)`);
  let clientInfo: Envelope['clientInfo'] = {};
  if (m[MetaKeys.clientInfo] !== undefined) {
    const info = ClientInfoSchema.safeParse(m[MetaKeys.clientInfo]);
    if (!info.success) throw invalid(`_meta ${MetaKeys.clientInfo} must be {name, version} (strings)`);
    clientInfo = { name: capped(info.data.name), ...(info.data.version ? { version: capped(info.data.version) } : {}) };
  }
  const level = m[MetaKeys.logLevel];
  if (level !== undefined && !LOG_LEVELS.includes(level as LogLevel)) throw invalid(`_meta ${MetaKeys.logLevel} must be one of ${LOG_LEVELS.join(', ')}`);
  const session = m[MetaKeys.session];
  if (session !== undefined && !SessionSchema.safeParse(session).success) throw invalid(`_meta ${MetaKeys.session} must be 16 to 128 characters of A-Z a-z 0-9 _ -`);
  return {
    protocolVersion: version,
    clientCapabilities: capabilities.data,
    clientInfo,
    logLevel: level as LogLevel | undefined,
    session: session as string | undefined,
  };
}

/** Throws 400 -32022 (with the supported versions) when mcpgate does not speak the requested revision. */
export function checkVersion(requested: string): void {
  if (MODERN_VERSIONS.includes(requested)) return;
  throw new ProtocolError(
    ErrorCodes.PROTOCOL_VERSION_UNSUPPORTED,
    -32022,
    `Unsupported protocol version: ${capped(requested)} (mcpgate speaks ${MODERN_VERSIONS.join(', ')} statelessly, and 2025-11-25 after initialize)`,
    { supported: [...MODERN_VERSIONS], requested: capped(requested) },
    400,
  );
}

/** True when a message at `level` passes the threshold the request set (none set: nothing passes). */
export function passesLogLevel(threshold: LogLevel | undefined, level: unknown): boolean {
  if (threshold === undefined) return false;
  const index = LOG_LEVELS.indexOf(level as LogLevel);
  return index === -1 || index >= LOG_LEVELS.indexOf(threshold);
}

/** The client capabilities a request needs that its envelope does not declare, as a -32021 (HTTP 400). */
export function missingCapability(capability: 'sampling' | 'elicitation' | 'roots', what: string): ProtocolError {
  return new ProtocolError(
    ErrorCodes.CLIENT_CAPABILITY_MISSING,
    -32021,
    `Missing required client capability: ${what} needs "${capability}", which this request's ${MetaKeys.clientCapabilities} does not declare`,
    { requiredCapabilities: { [capability]: {} } },
    400,
  );
}

/** A request's `inputResponses` (multi round-trip requests): absent is none; a malformed one (not an object of result objects) is -32602 (basic/patterns/mrtr § Error Handling). */
export function inputResponsesOf(responses: unknown): Record<string, unknown> {
  if (responses === undefined) return {};
  const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(responses)) throw new ProtocolError(ErrorCodes.INVALID_PARAMS, -32602, 'Invalid params: inputResponses must be an object');
  for (const [key, value] of Object.entries(responses as Record<string, unknown>)) {
    if (!isObject(value)) throw new ProtocolError(ErrorCodes.INVALID_PARAMS, -32602, `Invalid params: inputResponses["${key.slice(0, 64)}"] must be a result object`);
  }
  return responses as Record<string, unknown>;
}
