/**
 * What an `ask` is about: a tool call an agent made, or a connection an upstream server opens
 * through the egress proxy (src/network). The broker runs both through the same stages
 * (remembered answers, auto-review, a human, timeout); this module holds what differs between
 * them: the key remembered for "this session", the words a person reads, the reviewer's JSON.
 */
import type { ToolEntry } from '../catalog/catalog.js';
import { destinationText } from '../network/address.js';

/** A tool call waiting for approval. */
export interface AskedTool {
  readonly kind: 'tool';
  readonly entry: ToolEntry;
  readonly args: Readonly<Record<string, unknown>> | undefined;
}

/** A connection an upstream server wants to open, waiting for approval. */
export interface AskedDestination {
  readonly kind: 'network';
  readonly server: string;
  /** Canonical host (a name, or an IP address without brackets). */
  readonly host: string;
  readonly port: number;
  /** The tool call in flight on that server when the connection was opened, if exactly one session's was. */
  readonly cause?: { readonly call?: string; readonly tool?: string };
}

/** What is being asked. */
export type Asked = AskedTool | AskedDestination;

/** The upstream server the ask concerns. */
export function askedServer(asked: Asked): string {
  return asked.kind === 'tool' ? asked.entry.upstream.name : asked.server;
}

/** `host:port` of a network ask. */
export function destinationOf(asked: AskedDestination): string {
  return destinationText(asked.host, asked.port);
}

/**
 * What "allow for this session" remembers: the tool (and arguments, by the memory's scope), or
 * the server and destination. The NUL-led name cannot collide with a public tool name.
 */
export function memoryKey(asked: Asked): { readonly name: string; readonly args: unknown } {
  return asked.kind === 'tool' ? { name: asked.entry.publicName, args: asked.args } : { name: `\u0000network\u0000${asked.server}\u0000${destinationOf(asked)}`, args: undefined };
}

/** "`TOOL` (call ID)" of the call in flight that caused a network ask, for people. */
export function causeText(asked: AskedDestination): string | undefined {
  const { tool, call } = asked.cause ?? {};
  if (tool === undefined && call === undefined) return undefined;
  return `${tool ?? 'a request'}${call ? ` (call ${call})` : ''}`;
}
