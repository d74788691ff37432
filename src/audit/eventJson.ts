/**
 * The JSON members of an audit event, i.e. `JSON.stringify(event)` without its leading `{`, so
 * the chain fields can be put in front (chain.ts `formatLine`). The two records every tool call
 * writes (`mcpgate.tool.decision` and `mcpgate.tool.result`) are built from their known fields,
 * in the order of their types in telemetry/events.ts: the same bytes JSON.stringify gives for an
 * event built in that order, at about a third of its cost (most of their strings — server, tool,
 * rule, reason, session — repeat from call to call, and their quoted forms are cached). Every
 * other event goes through JSON.stringify.
 */
import type { GatewayEvent, ToolDecisionEvent, ToolResultEvent } from '../telemetry/events.js';

/** Records the audit log writes about itself. */
export type AuditSelfEvent =
  | { readonly event: 'mcpgate.audit.checkpoint'; readonly checkpoint_seq: number; readonly checkpoint_hash: string; readonly alg: string; readonly jws: string }
  | { readonly event: 'mcpgate.audit.recovery'; readonly torn_bytes: number; readonly torn_sha256: string; readonly torn_base64: string }
  | { readonly event: 'mcpgate.audit.dropped'; readonly first_seq: number; readonly last_seq: number; readonly records: number; readonly reason: string; readonly last_hash: string };

/** Quoted forms of strings that repeat (names, rules, reasons, session ids); bounded. */
const quoted = new Map<string, string>();
const QUOTED_MAX = 4096;

/** `JSON.stringify(text)` for a string that is likely to come again. */
function quote(text: string): string {
  let json = quoted.get(text);
  if (json === undefined) {
    json = JSON.stringify(text);
    if (quoted.size >= QUOTED_MAX) quoted.clear();
    quoted.set(text, json);
  }
  return json;
}

/** A number as JSON writes it (non-finite numbers are null). */
function number(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

function decisionMembers(e: ToolDecisionEvent): string {
  let json = `"event":"mcpgate.tool.decision","session":${quote(e.session)},"call":${JSON.stringify(e.call)},"server":${quote(e.server)},"tool":${quote(e.tool)},"public_name":${quote(e.public_name)},"decision":${quote(e.decision)},"decided_by":${quote(e.decided_by)}`;
  if (e.rule !== undefined) json += `,"rule":${quote(e.rule)}`;
  json += `,"reason":${quote(e.reason)}`;
  if (e.scope !== undefined) json += `,"scope":${quote(e.scope)}`;
  json += `,"approval_wait_ms":${number(e.approval_wait_ms)}`;
  if (e.approval_channel !== undefined) json += `,"approval_channel":${quote(e.approval_channel)}`;
  if (e.arguments !== undefined) {
    const args = JSON.stringify(e.arguments) as string | undefined;
    if (args !== undefined) json += `,"arguments":${args}`;
  }
  if (e.arguments_sha256 !== undefined) json += `,"arguments_sha256":${JSON.stringify(e.arguments_sha256)}`;
  if (e.arguments_truncated !== undefined) json += `,"arguments_truncated":${e.arguments_truncated ? 'true' : 'false'}`;
  if (e.arguments_cut !== undefined) json += `,"arguments_cut":${JSON.stringify(e.arguments_cut)}`;
  if (e.subject !== undefined) json += `,"subject":${quote(e.subject)}`;
  if (e.unconfined) json += ',"unconfined":true';
  if (e.protocol_version !== undefined) json += `,"protocol_version":${quote(e.protocol_version)}`;
  return `${json}}`;
}

function resultMembers(e: ToolResultEvent): string {
  let json = `"event":"mcpgate.tool.result","session":${quote(e.session)},"call":${JSON.stringify(e.call)},"server":${quote(e.server)},"tool":${quote(e.tool)},"public_name":${quote(e.public_name)},"duration_ms":${number(e.duration_ms)},"outcome":${quote(e.outcome)},"result_size":${number(e.result_size)}`;
  if (e.error !== undefined) json += `,"error":${JSON.stringify(e.error)}`;
  if (e.subject !== undefined) json += `,"subject":${quote(e.subject)}`;
  if (e.protocol_version !== undefined) json += `,"protocol_version":${quote(e.protocol_version)}`;
  if (e.upstream_protocol_version !== undefined) json += `,"upstream_protocol_version":${quote(e.upstream_protocol_version)}`;
  return `${json}}`;
}

/**
 * `JSON.stringify(event).slice(1)`: the event's members and closing brace.
 * @example eventMembers({ event: 'mcpgate.upstream.state', server: 'a', state: 'ready' })
 * // '"event":"mcpgate.upstream.state","server":"a","state":"ready"}'
 */
export function eventMembers(event: GatewayEvent | AuditSelfEvent): string {
  switch (event.event) {
    case 'mcpgate.tool.decision':
      return decisionMembers(event);
    case 'mcpgate.tool.result':
      return resultMembers(event);
    default:
      return JSON.stringify(event).slice(1);
  }
}
