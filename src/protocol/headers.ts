/**
 * HTTP request metadata of a modern request (transports/streamable-http § Request Metadata,
 * SEP-2243): `MCP-Protocol-Version` must equal the envelope's version, `Mcp-Method` the body's
 * method, `Mcp-Name` the body's name/uri/taskId, and an `Mcp-Param-{Name}` header the argument a
 * tool's `inputSchema` annotates with `x-mcp-header`. A mismatch is 400 -32020. Pure: a function of
 * the headers, the parsed body and the tool's header annotations, table-tested.
 */
import { ErrorCodes, ProtocolError } from '../errors.js';

/** Reads one request header by lower-case name (Node's `IncomingMessage.headers` shape). */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** One `x-mcp-header` annotation of a tool's input schema. */
export interface ParamHeader {
  /** The argument (top-level property) it mirrors. */
  readonly property: string;
  /** The header name suffix: `Mcp-Param-{header}`. */
  readonly header: string;
  /** The property's JSON type, for comparing (integers numerically, booleans as true/false). */
  readonly type: string | undefined;
}

function mismatch(message: string): ProtocolError {
  return new ProtocolError(ErrorCodes.HEADER_MISMATCH, -32020, `Header mismatch: ${message}`, {}, 400);
}

/** A header's value with optional whitespace trimmed (RFC 9110 § 5.5); the first of repeated headers. */
function header(headers: HeaderBag, name: string): string | undefined {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? undefined : value.replace(/^[ \t]+|[ \t]+$/g, '');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** VCHAR, SP and HTAB: what a header value may carry. */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * A header value as the client meant it: `=?base64?…?=` (markers case-sensitive) is Base64 of UTF-8;
 * anything else is literal. Invalid Base64 or characters outside VCHAR/SP/HTAB are a mismatch.
 */
export function decodeHeaderValue(value: string, name: string): string {
  if (!FIELD_VALUE.test(value)) throw mismatch(`${name} holds characters a header value may not carry`);
  if (!(value.startsWith('=?base64?') && value.endsWith('?=') && value.length >= 11)) return value;
  const encoded = value.slice(9, -2);
  if (!BASE64.test(encoded)) throw mismatch(`${name} is not valid Base64 between =?base64? and ?=`);
  return Buffer.from(encoded, 'base64').toString('utf8');
}

/** The body field `Mcp-Name` mirrors, for the methods that have one. */
export function nameSource(method: string, params: Record<string, unknown>): { field: string; value: unknown } | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return { field: 'params.name', value: params.name };
  if (method === 'resources/read') return { field: 'params.uri', value: params.uri };
  if (method === 'tasks/get' || method === 'tasks/update' || method === 'tasks/cancel') return { field: 'params.taskId', value: params.taskId };
  return undefined;
}

/**
 * Checks `MCP-Protocol-Version` against the envelope's version: missing or different is -32020.
 * (Runs after the envelope is read: a request without `_meta` is a -32602 first.)
 */
export function checkVersionHeader(headers: HeaderBag, envelopeVersion: string): void {
  const value = header(headers, 'mcp-protocol-version');
  if (value === undefined || value === '') throw mismatch('the MCP-Protocol-Version header is missing');
  if (value !== envelopeVersion) throw mismatch(`MCP-Protocol-Version header '${value.slice(0, 64)}' does not match _meta protocolVersion '${envelopeVersion.slice(0, 64)}'`);
}

/** Checks `Mcp-Method` and `Mcp-Name` against the body (values are case-sensitive; names are not). */
export function checkRoutingHeaders(headers: HeaderBag, method: string, params: Record<string, unknown>): void {
  const headerMethod = header(headers, 'mcp-method');
  if (headerMethod === undefined) throw mismatch('the Mcp-Method header is missing');
  if (decodeHeaderValue(headerMethod, 'Mcp-Method') !== method) throw mismatch(`Mcp-Method header '${headerMethod.slice(0, 64)}' does not match body method '${method.slice(0, 64)}'`);
  const source = nameSource(method, params);
  if (!source || typeof source.value !== 'string') return;
  const headerName = header(headers, 'mcp-name');
  if (headerName === undefined) throw mismatch(`the Mcp-Name header is missing (the body has ${source.field})`);
  if (decodeHeaderValue(headerName, 'Mcp-Name') !== source.value) {
    throw mismatch(`Mcp-Name header value '${headerName.slice(0, 64)}' does not match body value '${source.value.slice(0, 64)}'`);
  }
}

/** The text a header carries for an argument value (integers as numbers, booleans as true/false). */
function sameValue(headerValue: string, argument: unknown, type: string | undefined): boolean {
  if (typeof argument === 'string') return headerValue === argument;
  if (typeof argument === 'boolean') return headerValue === String(argument);
  if (typeof argument === 'number') return headerValue.trim() !== '' && Number(headerValue) === argument;
  return type === undefined && headerValue === JSON.stringify(argument);
}

/**
 * Checks the `Mcp-Param-*` headers of a `tools/call` against the tool's `x-mcp-header` annotations:
 * an annotated argument with a value needs its header, equal after decoding; a header for an absent
 * or null argument is a mismatch. Headers no annotation names are ignored (an intermediary forwards
 * what it does not recognise).
 */
export function checkParamHeaders(headers: HeaderBag, annotations: readonly ParamHeader[], args: Readonly<Record<string, unknown>>): void {
  for (const annotation of annotations) {
    const name = `Mcp-Param-${annotation.header}`;
    const raw = header(headers, name.toLowerCase());
    const argument = args[annotation.property];
    if (argument === undefined || argument === null) {
      if (raw !== undefined) throw mismatch(`${name} is present but argument '${annotation.property}' is absent`);
      continue;
    }
    if (raw === undefined) throw mismatch(`the ${name} header is missing (argument '${annotation.property}' has a value)`);
    if (!sameValue(decodeHeaderValue(raw, name), argument, annotation.type)) throw mismatch(`${name} does not match argument '${annotation.property}'`);
  }
}

/** Header names are tokens: what `x-mcp-header` may name (SEP-2243; a client drops a tool naming anything else). */
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * The `x-mcp-header` annotations of a tool's input schema (top-level properties only), or
 * undefined when one is invalid (not a token, or two properties naming one header, case-insensitively):
 * such a tool cannot be called correctly and is left out.
 */
export function paramHeadersOf(inputSchema: unknown): readonly ParamHeader[] | undefined {
  const properties = (inputSchema as { properties?: unknown } | undefined)?.properties;
  if (typeof properties !== 'object' || properties === null) return [];
  const out: ParamHeader[] = [];
  const seen = new Set<string>();
  for (const [property, schema] of Object.entries(properties as Record<string, unknown>)) {
    const annotation = (schema as { 'x-mcp-header'?: unknown } | null)?.['x-mcp-header'];
    if (annotation === undefined) continue;
    if (typeof annotation !== 'string' || !TOKEN.test(annotation) || seen.has(annotation.toLowerCase())) return undefined;
    const type = (schema as { type?: unknown }).type;
    // string, integer, boolean only: a number (float) has no exact header text (SEP-2243)
    if (type !== undefined && !['string', 'integer', 'boolean'].includes(type as string)) return undefined;
    seen.add(annotation.toLowerCase());
    out.push({ property, header: annotation, type: type as string | undefined });
  }
  return out;
}
