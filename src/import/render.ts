/**
 * The text of one imported `servers.d/NAME.yaml`: the `$schema` line the bundled files carry, a
 * comment header saying where the server came from and what to review, then the fields. Text from
 * the source file reaches comments only through `printable` (no newline can end a comment early
 * and inject a field).
 */
import { stringify } from 'yaml';
import { printable } from '../printable.js';
import type { SourceServer } from './model.js';

/** Where the server came from, for the header. */
export interface Provenance {
  /** `Claude Code`, `Codex`… */
  readonly format: string;
  /** Absolute path of the source file. */
  readonly file: string;
  /** Scopes inside the file it was found in (`user scope`, `project /home/me/app`). */
  readonly origins: readonly string[];
}

/** The server's fields as mcpgate's servers.d schema spells them. */
export function serverFields(server: SourceServer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { transport } = server;
  if (transport.kind === 'stdio') {
    out.command = transport.command;
    if (transport.args.length) out.args = [...transport.args];
    if (Object.keys(transport.env).length) out.env = { ...transport.env };
    if (transport.cwd !== undefined) out.cwd = transport.cwd;
  } else {
    out[transport.kind] = transport.url;
    if (Object.keys(transport.headers).length) out.headers = { ...transport.headers };
  }
  if (!server.enabled || server.disabledBecause.length) out.enabled = false;
  if (server.timeoutMs !== undefined) out.timeout = duration(server.timeoutMs);
  if (server.startupTimeoutMs !== undefined) out.startupTimeout = duration(server.startupTimeoutMs);
  out.tools = server.onlyTools
    ? { default: 'deny', ask: [...server.onlyTools], ...(server.denyTools.length ? { deny: [...server.denyTools] } : {}) }
    : { default: 'ask', ...(server.denyTools.length ? { deny: [...server.denyTools] } : {}) };
  return out;
}

/** The file text: header comments, then the fields. */
export function renderServerFile(server: SourceServer, provenance: Provenance, schemaRef: string): string {
  const where = provenance.origins.length ? ` (${provenance.origins.join('; ')})` : '';
  const lines = [
    `# yaml-language-server: $schema=${schemaRef}`,
    `# Imported by \`mcpgate import\` from ${provenance.format} ${provenance.file}${where}, server ${JSON.stringify(server.sourceName)}.`,
    server.onlyTools
      ? '# Only the tools the source offered are offered, each asking for approval: allow the ones you trust under tools.allow.'
      : '# Every tool asks for approval (tools.default: ask): allow the ones you trust under tools.allow.',
    ...server.disabledBecause.map((why) => `# Disabled: ${why}; fix it, then set enabled: true.`),
    ...server.notes.map((note) => `# Note: ${note}`),
  ];
  const header = lines.map((line) => printable(line)).join('\n');
  return `${header}\n${stringify(serverFields(server), { lineWidth: 0 })}`;
}

/** `30s`, `1500ms`. */
function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
