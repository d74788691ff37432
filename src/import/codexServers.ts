/**
 * Codex: `[mcp_servers.NAME]` tables of `~/.codex/config.toml` (or a project's
 * `.codex/config.toml`), read with the field set of Codex's own `RawMcpServerConfig`. Codex
 * expands no variables: values are literal, and its indirections (`env_vars`,
 * `bearer_token_env_var`, `env_http_headers`) become `${env:…}` references.
 */
import { z } from 'zod';
import { fieldName } from '../config/parse.js';
import { newDraft, type SourceServer } from './model.js';
import { invalid, isObject, type SourceDocument } from './sourceFile.js';
import { escapeLiteral } from './variables.js';

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');
const Seconds = z.number().nonnegative().finite();

/** One `[mcp_servers.NAME]` table; unknown keys are kept (and noted). */
const CodexEntrySchema = z.looseObject({
  command: z.string().min(1).optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  env_vars: z.array(z.union([EnvName, z.looseObject({ name: EnvName, source: z.string().optional() })])).optional(),
  cwd: z.string().optional(),
  url: z.string().min(1).optional(),
  bearer_token: z.string().optional(),
  bearer_token_env_var: EnvName.optional(),
  http_headers: z.record(z.string(), z.string()).optional(),
  env_http_headers: z.record(z.string(), EnvName).optional(),
  startup_timeout_sec: Seconds.optional(),
  startup_timeout_ms: z.number().int().nonnegative().optional(),
  tool_timeout_sec: Seconds.optional(),
  enabled: z.boolean().optional(),
  required: z.boolean().optional(),
  supports_parallel_tool_calls: z.boolean().optional(),
  default_tools_approval_mode: z.string().optional(),
  enabled_tools: z.array(z.string()).optional(),
  disabled_tools: z.array(z.string()).optional(),
  tools: z.record(z.string(), z.looseObject({ approval_mode: z.string().optional() })).optional(),
  scopes: z.array(z.string()).optional(),
  oauth: z.unknown().optional(),
  oauth_resource: z.string().optional(),
  experimental_environment: z.string().optional(),
  name: z.string().optional(),
});
type CodexEntry = z.infer<typeof CodexEntrySchema>;

/** The `[mcp_servers.*]` servers of a Codex config.toml. */
export function codexServers(doc: SourceDocument): SourceServer[] {
  const tables = doc.value.mcp_servers;
  if (tables === undefined) return [];
  if (!isObject(tables)) throw invalid(`${doc.file}: mcp_servers must be a table of [mcp_servers.NAME] tables`, 'fix the file; nothing was imported');
  return Object.entries(tables).map(([name, raw]) => {
    const parsed = CodexEntrySchema.safeParse(raw);
    const at = (path: readonly (string | number)[]) => `${doc.file}: [mcp_servers.${tomlKey(name)}]${path.length ? ` ${fieldName(path)}` : ''}`;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalid(`${at((issue?.path ?? []) as (string | number)[])}: ${issue?.message ?? 'invalid server table'}`, 'fix the table (Codex rejects it too); nothing was imported');
    }
    return codexServer(name, parsed.data, (message) => invalid(`${at([])}: ${message}`, 'fix the table (Codex rejects it too); nothing was imported'));
  });
}

function codexServer(name: string, entry: CodexEntry, fail: (message: string) => Error): SourceServer {
  const draft = newDraft();
  let transport: SourceServer['transport'];
  if (entry.command !== undefined) {
    for (const field of ['url', 'bearer_token', 'bearer_token_env_var', 'http_headers', 'env_http_headers'] as const) {
      if (entry[field] !== undefined) throw fail(`${field} is not supported for a stdio server (command)`);
    }
    const env: Record<string, string> = {};
    for (const variable of entry.env_vars ?? []) {
      const forwarded = typeof variable === 'string' ? variable : variable.name;
      env[forwarded] = `\${env:${forwarded}}`;
    }
    // An explicit value wins over a forwarded variable of the same name.
    for (const [key, value] of Object.entries(entry.env ?? {})) env[key] = escapeLiteral(value);
    transport = {
      kind: 'stdio',
      command: escapeLiteral(entry.command),
      args: (entry.args ?? []).map(escapeLiteral),
      env,
      ...(entry.cwd === undefined ? {} : { cwd: escapeLiteral(entry.cwd) }),
    };
    if (entry.cwd !== undefined && !entry.cwd.startsWith('/')) draft.notes.push(`cwd "${entry.cwd}" is relative: mcpgate resolves it against the config dir`);
  } else if (entry.url !== undefined) {
    for (const field of ['args', 'env', 'env_vars', 'cwd'] as const) {
      if (entry[field] !== undefined) throw fail(`${field} is not supported for a streamable HTTP server (url)`);
    }
    // Codex's order: fixed headers, then headers from variables, then the bearer token (case-insensitive).
    const headers: Record<string, string> = {};
    const put = (key: string, value: string) => {
      for (const existing of Object.keys(headers)) if (existing.toLowerCase() === key.toLowerCase()) delete headers[existing];
      headers[key] = value;
    };
    for (const [key, value] of Object.entries(entry.http_headers ?? {})) put(key, escapeLiteral(value));
    for (const [key, variable] of Object.entries(entry.env_http_headers ?? {})) put(key, `\${env:${variable}}`);
    if (entry.bearer_token !== undefined) put('Authorization', `Bearer ${escapeLiteral(entry.bearer_token)}`);
    if (entry.bearer_token_env_var !== undefined) put('Authorization', `Bearer \${env:${entry.bearer_token_env_var}}`);
    transport = { kind: 'url', url: escapeLiteral(entry.url), headers };
  } else {
    throw fail('has neither command (stdio) nor url (streamable HTTP)');
  }
  noteCodexExtras(entry, draft.notes);
  const startupMs = entry.startup_timeout_sec !== undefined ? entry.startup_timeout_sec * 1000 : entry.startup_timeout_ms;
  return {
    sourceName: name,
    transport,
    enabled: entry.enabled !== false,
    ...(entry.tool_timeout_sec === undefined ? {} : { timeoutMs: Math.round(entry.tool_timeout_sec * 1000) }),
    ...(startupMs === undefined ? {} : { startupTimeoutMs: Math.round(startupMs) }),
    ...(entry.enabled_tools === undefined ? {} : { onlyTools: entry.enabled_tools }),
    denyTools: entry.disabled_tools ?? [],
    ...draft,
  };
}

/** What Codex settings mean for the imported policy, and which fields are dropped. */
function noteCodexExtras(entry: CodexEntry, notes: string[]): void {
  // Approvals are never carried over as allows: the imported policy asks, and the user loosens it.
  const approved = Object.entries(entry.tools ?? {})
    .filter(([, tool]) => tool.approval_mode === 'approve')
    .map(([tool]) => tool);
  if (entry.default_tools_approval_mode === 'approve') notes.push('Codex ran every tool of this server without asking (default_tools_approval_mode = "approve"); mcpgate asks until you allow tools under tools.allow');
  else if (approved.length) notes.push(`Codex ran ${approved.join(', ')} without asking; mcpgate asks until you allow them under tools.allow`);
  if (entry.enabled_tools !== undefined) notes.push('enabled_tools: only these tools are offered (tools.default: deny, the listed ones ask)');
  if (entry.required) notes.push('required = true has no equivalent: mcpgate serves the other servers while this one is down');
  if (entry.scopes !== undefined || entry.oauth !== undefined || entry.oauth_resource !== undefined) {
    notes.push('OAuth settings are not imported: give the server a credential in headers (e.g. Authorization: Bearer ${secret:NAME})');
  }
  if (entry.experimental_environment !== undefined) notes.push('experimental_environment is not imported');
  for (const variable of entry.env_vars ?? []) {
    if (typeof variable !== 'string' && variable.source === 'remote') notes.push(`env_vars ${variable.name} (source "remote") is read from the gateway's environment`);
  }
  const known = new Set(Object.keys(CodexEntrySchema.shape));
  for (const key of Object.keys(entry)) if (!known.has(key)) notes.push(`field "${key}" is not something mcpgate knows: left out`);
}

/** A TOML key as written in a table header (quoted unless bare). */
function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}
