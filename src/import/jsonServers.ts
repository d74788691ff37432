/**
 * The JSON formats: `mcpServers` (Claude Desktop, Claude Code `.mcp.json` and `~/.claude.json`,
 * Cursor) and VS Code's `servers` with `inputs`. They share one entry shape: `command`/`args`/
 * `env` for stdio, `type: http|sse` + `url` + `headers` for remote servers, and per-client extras
 * that are mapped, noted as dropped, or make the server import disabled.
 */
import { homedir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { z } from 'zod';
import { fieldName } from '../config/parse.js';
import { newDraft, type ImportFormat, type ServerDraft, type SourceServer } from './model.js';
import { invalid, isObject, type SourceDocument } from './sourceFile.js';
import { mapVariables, type VariableContext, type VariableSyntax } from './variables.js';

const EnvValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** One server entry as the JSON clients write it; unknown keys are kept (and noted). */
const EntrySchema = z.looseObject({
  type: z.string().optional(),
  command: z.string().min(1).optional(),
  args: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
  env: z.record(z.string(), EnvValue).optional(),
  envFile: z.string().optional(),
  cwd: z.string().optional(),
  url: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  disabled: z.boolean().optional(),
  enabled: z.boolean().optional(),
  description: z.string().optional(),
});
type Entry = z.infer<typeof EntrySchema>;

const SYNTAX: Record<Exclude<ImportFormat, 'codex'>, VariableSyntax> = {
  'claude-desktop': 'none',
  'claude-code': 'claude-code',
  cursor: 'cursor',
  vscode: 'vscode',
};

/** Fields a client documents that mcpgate has no use for: said once, not treated as unknown. */
const DROPPED: Record<string, string> = {
  oauth: 'OAuth client settings are not imported: give the server a credential in headers (e.g. Authorization: Bearer ${secret:NAME})',
  auth: 'OAuth client settings are not imported: give the server a credential in headers (e.g. Authorization: Bearer ${secret:NAME})',
  dev: 'VS Code development mode (dev) is not imported',
  sandboxEnabled: "VS Code's sandbox settings are not imported",
  sandbox: "VS Code's sandbox settings are not imported",
  gallery: '',
  version: '',
  alwaysLoad: '',
};

/** The servers of a JSON source file (every format but Codex). */
export function jsonServers(doc: SourceDocument, options: { project?: string } = {}): SourceServer[] {
  const format = doc.format as Exclude<ImportFormat, 'codex'>;
  const context: VariableContext = {
    syntax: SYNTAX[format],
    ...workspaceOf(doc.file),
    ...(format === 'vscode' ? { inputs: inputsOf(doc) } : {}),
  };
  if (format === 'vscode') return serversIn(doc, ['servers'], context, {});
  if (format === 'claude-code' && isObject(doc.value.projects)) return claudeUserServers(doc, context, options.project);
  return serversIn(doc, ['mcpServers'], context, {});
}

/**
 * `~/.claude.json`: user-scope servers (top-level `mcpServers`) and each project's local ones
 * (`projects.PATH.mcpServers`); a project's `disabledMcpServers` (set from Claude Code's /mcp
 * panel) disables its entries. `project` keeps the user scope and that one project.
 */
function claudeUserServers(doc: SourceDocument, context: VariableContext, project: string | undefined): SourceServer[] {
  const projects = doc.value.projects as Record<string, unknown>;
  const names = Object.keys(projects).sort();
  const chosen = project === undefined ? names : names.filter((name) => resolve(name) === resolve(project));
  if (project !== undefined && chosen.length === 0) {
    const withServers = names.filter((name) => isObject(projects[name]) && isObject((projects[name] as Record<string, unknown>).mcpServers));
    throw invalid(
      `${doc.file} has no project ${project}`,
      withServers.length ? `projects with MCP servers there: ${withServers.join(', ')}` : 'it lists no project with MCP servers; leave out --project to import the user-scope servers',
    );
  }
  const disabledIn = (name: string): Set<string> => {
    const list = (projects[name] as Record<string, unknown> | undefined)?.disabledMcpServers;
    return new Set(Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : []);
  };
  const userDisabled = project === undefined ? new Set<string>() : disabledIn(chosen[0] as string);
  const out = serversIn(doc, ['mcpServers'], context, { origin: 'user scope', disabled: userDisabled });
  for (const name of chosen) {
    if (!isObject(projects[name])) continue;
    out.push(...serversIn(doc, ['projects', name, 'mcpServers'], context, { origin: `project ${name}`, disabled: disabledIn(name) }));
  }
  return out;
}

function serversIn(doc: SourceDocument, path: string[], context: VariableContext, scope: { origin?: string; disabled?: Set<string> }): SourceServer[] {
  let value: unknown = doc.value;
  for (const key of path) value = isObject(value) ? value[key] : undefined;
  if (value === undefined) return [];
  if (!isObject(value)) throw invalid(`${doc.where(path)}: ${fieldName(path)} must be an object mapping server names to servers`, 'fix the file; nothing was imported');
  return Object.entries(value).map(([name, raw]) => {
    const parsed = EntrySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const at = [...path, name, ...((issue?.path ?? []) as (string | number)[])];
      throw invalid(`${doc.where(at)}: ${fieldName(at)}: ${issue?.message ?? 'invalid server entry'}`, 'fix the entry (the client would reject it too); nothing was imported');
    }
    return entryServer(doc, [...path, name], parsed.data, context, scope.origin, scope.disabled?.has(name) === true);
  });
}

function entryServer(doc: SourceDocument, path: string[], entry: Entry, context: VariableContext, origin: string | undefined, disabledThere: boolean): SourceServer {
  const name = path[path.length - 1] as string;
  const draft = newDraft();
  const map = (value: string, field: string) => mapVariables(value, field, context, draft);
  const fail = (message: string) => invalid(`${doc.where(path)}: ${fieldName(path)}: ${message}`, 'fix the entry (the client would reject it too); nothing was imported');
  const type = entry.type?.toLowerCase();
  noteExtras(entry, draft);
  let transport: SourceServer['transport'];
  if (type === 'stdio' || (type === undefined && entry.command !== undefined && entry.url === undefined)) {
    if (entry.command === undefined) throw fail('type "stdio" needs a command');
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(entry.env ?? {})) {
      if (value === null) draft.notes.push(`env.${key}: null (unset the variable) has no equivalent and is left out`);
      else env[key] = map(String(value), `env.${key}`);
    }
    if (entry.envFile !== undefined) {
      draft.disabledBecause.push(`envFile ${entry.envFile}: mcpgate reads no env files: copy the variables the server needs into env (credentials as \${secret:NAME})`);
    }
    transport = {
      kind: 'stdio',
      command: map(entry.command, 'command'),
      args: (entry.args ?? []).map((arg, index) => map(String(arg), `args[${index}]`)),
      env,
      ...(entry.cwd === undefined ? {} : { cwd: map(entry.cwd, 'cwd') }),
    };
  } else if (type === 'http' || type === 'streamable-http' || type === 'streamablehttp' || type === 'sse' || (type === undefined && entry.url !== undefined && entry.command === undefined)) {
    if (entry.url === undefined) throw fail(`type "${entry.type}" needs a url`);
    const url = map(entry.url, 'url');
    let kind: 'url' | 'sse' = type === 'sse' ? 'sse' : 'url';
    if (type === undefined && /\/sse\/?$/.test(pathOf(entry.url))) {
      kind = 'sse';
      draft.notes.push('no type given and the url ends in /sse: imported as a legacy SSE server (sse:); change it to url: if it speaks Streamable HTTP');
    }
    if (/^(unix|pipe):/i.test(entry.url)) draft.disabledBecause.push(`url ${entry.url}: mcpgate reaches remote servers over HTTP(S) only, not sockets or pipes`);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(entry.headers ?? {})) headers[key] = map(value, `headers.${key}`);
    transport = { kind, url, headers };
  } else if (type !== undefined) {
    throw fail(`unknown type "${entry.type}" (expected stdio, http or sse)`);
  } else {
    throw fail(entry.command !== undefined ? 'has both command and url: say which with type' : 'has neither command (stdio) nor url (remote)');
  }
  if (disabledThere) draft.notes.push(`disabled in ${origin ?? 'the source'} (disabledMcpServers)`);
  return {
    sourceName: name,
    ...(origin === undefined ? {} : { origin }),
    transport,
    enabled: entry.disabled !== true && entry.enabled !== false && !disabledThere,
    denyTools: [],
    ...draft,
  };
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.replace(/[?#].*$/s, '');
  }
}

/** Notes for the fields of an entry that are not imported. */
function noteExtras(entry: Entry, draft: ServerDraft): void {
  if ('headersHelper' in entry) {
    draft.disabledBecause.push('headersHelper runs a command for the headers; mcpgate sends fixed headers: put them under headers (credentials as ${secret:NAME})');
  }
  const known = new Set([...Object.keys(EntrySchema.shape), 'headersHelper']);
  for (const key of Object.keys(entry)) {
    if (known.has(key)) continue;
    const why = DROPPED[key];
    if (why === undefined) draft.notes.push(`field "${key}" is not something mcpgate knows: left out`);
    else if (why !== '' && !draft.notes.includes(why)) draft.notes.push(why);
  }
}

/** The folder `${workspaceFolder}` means: the project holding `.cursor/` or `.vscode/` (not the home dir). */
function workspaceOf(file: string): { workspaceFolder?: string } {
  const folder = dirname(resolve(file));
  if (!['.cursor', '.vscode'].includes(basename(folder))) return {};
  const project = dirname(folder);
  // ~/.cursor/mcp.json is the user's global file: ${workspaceFolder} there is whatever project is open.
  return project === homedir() ? {} : { workspaceFolder: project };
}

/** VS Code `inputs` by id. */
function inputsOf(doc: SourceDocument): Map<string, { description?: string }> {
  const inputs = new Map<string, { description?: string }>();
  const list = doc.value.inputs;
  if (list === undefined) return inputs;
  if (!Array.isArray(list)) throw invalid(`${doc.where(['inputs'])}: inputs must be an array`, 'fix the file; nothing was imported');
  for (const input of list) {
    if (isObject(input) && typeof input.id === 'string') {
      inputs.set(input.id, typeof input.description === 'string' ? { description: input.description } : {});
    }
  }
  return inputs;
}
