/**
 * What every format parser produces: one upstream server as mcpgate will write it, its values
 * already in mcpgate's reference syntax (`${env:…}`, `${secret:…}`, `$${` for a literal `${`)
 * but literal secrets still in place (the planner moves them to the keychain).
 */

/** The formats `mcpgate import` reads (`--format` values). */
export const IMPORT_FORMATS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'codex'] as const;

/** One of {@link IMPORT_FORMATS}. */
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** Product names, for messages and file headers. */
export const FORMAT_LABELS: Readonly<Record<ImportFormat, string>> = {
  'claude-desktop': 'Claude Desktop',
  'claude-code': 'Claude Code',
  cursor: 'Cursor',
  vscode: 'VS Code',
  codex: 'Codex',
};

/** A server read from a source file, mapped to mcpgate's fields. */
export interface SourceServer {
  /** Its name in the source file (not yet sanitised). */
  readonly sourceName: string;
  /** Where in the source it was defined when the file has several scopes (`project /home/me/app`). */
  readonly origin?: string;
  readonly transport: StdioTransport | RemoteTransport;
  readonly enabled: boolean;
  readonly timeoutMs?: number;
  readonly startupTimeoutMs?: number;
  /** Tools the source exposed exclusively (Codex `enabled_tools`): every other tool is denied. */
  readonly onlyTools?: readonly string[];
  /** Tools the source hid (Codex `disabled_tools`). */
  readonly denyTools: readonly string[];
  /** Secrets the file references but whose values the source does not hold (VS Code inputs). */
  readonly needsSecrets: readonly NeededSecret[];
  /** Facts worth telling the user: dropped fields, approvals not carried over, defaults dropped. */
  readonly notes: readonly string[];
  /** Why the server is written with `enabled: false` (something in it has no mcpgate equivalent). */
  readonly disabledBecause: readonly string[];
}

/** A stdio upstream. */
export interface StdioTransport {
  readonly kind: 'stdio';
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** A Streamable HTTP (`url`) or legacy SSE (`sse`) upstream. */
export interface RemoteTransport {
  readonly kind: 'url' | 'sse';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A `${secret:NAME}` the user still has to set. */
export interface NeededSecret {
  readonly name: string;
  readonly why: string;
}

/** A server under construction by a parser: notes and problems collected on the way. */
export interface ServerDraft {
  readonly notes: string[];
  readonly disabledBecause: string[];
  readonly needsSecrets: NeededSecret[];
}

/** An empty {@link ServerDraft}. */
export function newDraft(): ServerDraft {
  return { notes: [], disabledBecause: [], needsSecrets: [] };
}
