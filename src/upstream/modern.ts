/**
 * mcpgate as the client of a 2026-07-28 ("modern") upstream: the per-request `_meta` envelope,
 * the `server/discover` probe that picks the revision, and the HTTP request metadata (SEP-2243).
 *
 * Upstream-facing API (for the downstream/pipeline side):
 * - `Upstream.protocolVersion` says what a started upstream speaks (`2025-11-25` | `2026-07-28`).
 * - A modern upstream's `input_required` results are fulfilled by `src/upstream/inputRounds.ts`
 *   through the call's owner (`CallOwner.caller`), unless `ForwardOptions.inputRequired` is
 *   `'return'`: then the raw InputRequiredResult comes back to the caller of `Upstream.request`
 *   (a 2026 caller passing it through), and the retry arrives as an ordinary request whose params
 *   carry `inputResponses` and `requestState`.
 * Pure functions here; the transports and the probe's I/O are in `modernConnection.ts`.
 */
import { MetaKeys, MODERN_VERSION } from '../protocol/revisions.js';
import { nameSource, type ParamHeader } from '../protocol/headers.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';

/** The revision a started upstream speaks. */
export type SpokenProtocol = '2025-11-25' | typeof MODERN_VERSION;

/**
 * What mcpgate declares to every upstream (a 2025 one in `initialize`, a modern one on every
 * request): it can always answer elicitation, sampling and roots input requests (from the client,
 * or itself where it owns the answer: docs/protocol.md "Upstream side").
 */
export const UPSTREAM_CLIENT_CAPABILITIES = { elicitation: { form: {}, url: {} }, sampling: {}, roots: {} } as const;

/** How mcpgate names itself to every upstream (2025 `initialize`, 2026 envelope). */
export const GATEWAY_CLIENT_INFO = { name: GATEWAY_NAME, version: GATEWAY_VERSION } as const;

/** The `_meta` envelope of every request to a modern upstream. */
export const UPSTREAM_ENVELOPE: Readonly<Record<string, unknown>> = {
  [MetaKeys.protocolVersion]: MODERN_VERSION,
  [MetaKeys.clientInfo]: GATEWAY_CLIENT_INFO,
  [MetaKeys.clientCapabilities]: UPSTREAM_CLIENT_CAPABILITIES,
};

/**
 * What records say of the upstream leg (`upstream_protocol_version`): `2026-07-28` when the server
 * was spoken to statelessly; absent for 2025-11-25, which every record before it implied.
 */
export function modernLeg(version: string | undefined): typeof MODERN_VERSION | undefined {
  return version === MODERN_VERSION ? MODERN_VERSION : undefined;
}

/** The `server/discover` request of the probe. */
export function discoverRequest(id: string): { jsonrpc: '2.0'; id: string; method: string; params: Record<string, unknown> } {
  return { jsonrpc: '2.0', id, method: 'server/discover', params: { _meta: UPSTREAM_ENVELOPE } };
}

/** What the probe learnt. */
export type ProbeVerdict =
  | { readonly kind: 'modern'; readonly capabilities: Record<string, unknown>; readonly instructions?: string }
  | { readonly kind: 'retry' }
  | { readonly kind: 'legacy'; readonly reason: string };

/**
 * Reads the answer to `server/discover`: a result listing 2026-07-28 → modern; a -32022 whose
 * `data.supported` lists it → ask again (the server rejected the first try, e.g. a version
 * negotiation test); anything else (-32601, another error, a 2025-only list) → legacy. The
 * fallback is never keyed to one error code (basic/versioning § Backward Compatibility).
 */
export function readDiscover(message: { result?: unknown; error?: { code?: unknown; data?: unknown } }): ProbeVerdict {
  if (message.error) {
    const supported = (message.error.data as { supported?: unknown } | undefined)?.supported;
    if (message.error.code === -32022 && Array.isArray(supported) && supported.includes(MODERN_VERSION)) return { kind: 'retry' };
    return { kind: 'legacy', reason: `server/discover answered error ${String(message.error.code)}` };
  }
  const result = message.result as { supportedVersions?: unknown; capabilities?: unknown; instructions?: unknown } | undefined;
  if (!result || !Array.isArray(result.supportedVersions) || !result.supportedVersions.includes(MODERN_VERSION)) {
    return { kind: 'legacy', reason: 'server/discover does not list 2026-07-28' };
  }
  const capabilities = typeof result.capabilities === 'object' && result.capabilities !== null && !Array.isArray(result.capabilities) ? (result.capabilities as Record<string, unknown>) : {};
  return { kind: 'modern', capabilities, ...(typeof result.instructions === 'string' ? { instructions: result.instructions } : {}) };
}

/**
 * Adds the envelope to a request's params (keeping the request's own `_meta`, e.g. a progress
 * token). A request passed through for a 2026 caller says what that caller declared instead of
 * mcpgate's capabilities (src/pipeline/upstreamRounds.ts sets it): the upstream must ask the
 * caller only what it can answer, and create tasks only for a caller that declared the extension.
 */
export function withEnvelope(params: Record<string, unknown> | undefined): Record<string, unknown> {
  const own = params?._meta as Record<string, unknown> | undefined;
  const declared = own?.[MetaKeys.clientCapabilities];
  return { ...params, _meta: { ...own, ...UPSTREAM_ENVELOPE, ...(declared === undefined ? {} : { [MetaKeys.clientCapabilities]: declared }) } };
}

/** Visible ASCII and inner spaces travel as they are; anything else (or edge whitespace) as `=?base64?…?=` (SEP-2243 § Value Encoding). */
export function encodeHeaderValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value) || value === '';
  return plain ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** The text of an `Mcp-Param-*` header for an argument, or undefined when it is left out (null, absent, not a primitive). */
function paramValue(argument: unknown): string | undefined {
  if (typeof argument === 'string') return encodeHeaderValue(argument);
  if (typeof argument === 'boolean') return argument ? 'true' : 'false';
  if (typeof argument === 'number' && Number.isFinite(argument)) return String(argument);
  return undefined;
}

/**
 * The SEP-2243 headers of one POST to a modern upstream: `MCP-Protocol-Version`, `Mcp-Method`,
 * `Mcp-Name` (tools/call, prompts/get: the name; resources/read: the uri) and `Mcp-Param-{Name}`
 * for each argument the tool's `x-mcp-header` annotations name.
 */
export function requestHeaders(message: unknown, annotationsOf: (tool: string) => readonly ParamHeader[] | undefined): Record<string, string> {
  const { method, params } = (message ?? {}) as { method?: unknown; params?: Record<string, unknown> };
  const headers: Record<string, string> = { 'mcp-protocol-version': MODERN_VERSION };
  if (typeof method !== 'string') return headers;
  headers['mcp-method'] = method;
  const source = nameSource(method, params ?? {});
  if (source && typeof source.value === 'string') headers['mcp-name'] = encodeHeaderValue(source.value);
  if (method === 'tools/call' && typeof params?.name === 'string') {
    const args = (params.arguments ?? {}) as Record<string, unknown>;
    for (const annotation of annotationsOf(params.name) ?? []) {
      const value = paramValue(args[annotation.property]);
      if (value !== undefined) headers[`mcp-param-${annotation.header.toLowerCase()}`] = value;
    }
  }
  return headers;
}
