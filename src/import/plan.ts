/**
 * The pure core of `mcpgate import`: source servers → the files to write and the secrets to
 * store. Names are sanitised to `[a-z0-9][a-z0-9_-]*` (collisions get `-2`, `-3`… in source
 * order; identical definitions found in several scopes are written once), literal credentials
 * are replaced by `${secret:SERVER/FIELD}` (one secret per distinct value), and every file is
 * validated with the servers.d schema before anything is written.
 */
import { parseFile, validate } from '../config/parse.js';
import { findReferences } from '../config/references.js';
import { ServerFileSchema } from '../config/schema.js';
import type { ConfigProblem } from '../config/types.js';
import { messageOf } from '../errors.js';
import { displayUrl } from '../secrets/displayUrl.js';
import { Secret } from '../secrets/secretValue.js';
import type { NeededSecret, SourceServer } from './model.js';
import { renderServerFile, type Provenance } from './render.js';
import { secretsInArgs, secretsInUrl, secretsInValue, type SecretSpan } from './secretDetect.js';
import { invalid } from './sourceFile.js';

/** A credential found in the source, to be stored in the keychain. */
export interface PlannedSecret {
  readonly name: string;
  readonly value: Secret;
  /** The field it was found in, e.g. `env.GITHUB_TOKEN`. */
  readonly where: string;
  readonly server: string;
}

/** One servers.d file to write. */
export interface PlannedServer {
  readonly name: string;
  /** Config-dir-relative path, `servers.d/NAME.yaml`. */
  readonly file: string;
  readonly sourceName: string;
  readonly origins: readonly string[];
  /** `stdio: npx -y …`, `url: https://…` (references as written, never values). */
  readonly target: string;
  readonly enabled: boolean;
  readonly text: string;
  /** Secrets first found in this server. */
  readonly secrets: readonly PlannedSecret[];
  /** Secrets this server shares with an earlier one (same value). */
  readonly reused: readonly { readonly name: string; readonly where: string }[];
  readonly needsSecrets: readonly NeededSecret[];
  readonly notes: readonly string[];
  readonly disabledBecause: readonly string[];
}

/** Everything an import would do. */
export interface ImportPlan {
  readonly servers: readonly PlannedServer[];
  readonly secrets: readonly PlannedSecret[];
}

/** What the planner needs besides the servers. */
export interface PlanOptions {
  readonly format: string;
  /** Absolute path of the source file. */
  readonly file: string;
  /** The `$schema` reference for the header, relative to servers.d. */
  readonly schemaRef: string;
}

/** Plans the import of `sources`; throws MCPGATE_IMPORT_INVALID if a file would not validate. */
export function planImport(sources: readonly SourceServer[], options: PlanOptions): ImportPlan {
  const taken = new Set<string>();
  const secretsByValue: PlannedSecret[] = [];
  const servers = mergeIdentical(sources).map(({ server, origins }) => {
    const base = sanitiseName(server.sourceName);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    taken.add(name);
    const notes = [...new Set(server.notes)];
    if (name !== server.sourceName) notes.unshift(`named ${name}: ${JSON.stringify(server.sourceName)} ${name === base ? 'is not a valid server name' : `was taken by an earlier server (as ${base})`}`);
    const disabledBecause = [...new Set(server.disabledBecause)];
    const extracted = extractSecrets({ ...server, notes, disabledBecause }, name, secretsByValue);
    const provenance: Provenance = { format: options.format, file: options.file, origins };
    const text = renderServerFile(extracted.server, provenance, options.schemaRef);
    const file = `servers.d/${name}.yaml`;
    checkRendered(file, text);
    return {
      name,
      file,
      sourceName: server.sourceName,
      origins,
      target: targetOf(extracted.server),
      enabled: server.enabled && disabledBecause.length === 0,
      text,
      secrets: extracted.secrets,
      reused: extracted.reused,
      needsSecrets: server.needsSecrets,
      notes,
      disabledBecause,
    };
  });
  return { servers, secrets: secretsByValue };
}

/**
 * A valid server name for `source`: lower case, runs of other characters as `-`, at most 48
 * characters. @example sanitiseName('GitHub Tools') // 'github-tools'
 */
export function sanitiseName(source: string): string {
  const name = source
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return name === '' ? 'server' : name;
}

/** Servers with the same name and the same definition in several scopes are written once. */
function mergeIdentical(sources: readonly SourceServer[]): { server: SourceServer; origins: string[] }[] {
  const merged: { server: SourceServer; origins: string[]; key: string }[] = [];
  for (const server of sources) {
    const { origin, notes, ...definition } = server;
    const key = JSON.stringify(definition);
    const same = merged.find((entry) => entry.key === key);
    if (same) {
      if (origin !== undefined) same.origins.push(origin);
      continue;
    }
    merged.push({ server, origins: origin === undefined ? [] : [origin], key });
  }
  return merged;
}

function extractSecrets(
  server: SourceServer,
  name: string,
  planned: PlannedSecret[],
): { server: SourceServer; secrets: PlannedSecret[]; reused: { name: string; where: string }[] } {
  const secrets: PlannedSecret[] = [];
  const reused: { name: string; where: string }[] = [];
  const replace = (value: string, spans: readonly SecretSpan[], where: string): string => {
    let out = value;
    // Right to left, so earlier offsets stay valid.
    for (const span of [...spans].sort((a, b) => b.start - a.start)) {
      const literal = value.slice(span.start, span.end);
      let secret = planned.find((s) => s.value.equals(literal));
      if (secret) {
        reused.push({ name: secret.name, where });
      } else {
        secret = { name: uniqueSecretName(`${name}/${span.label}`, planned), value: new Secret(literal), where, server: name };
        planned.push(secret);
        secrets.push(secret);
      }
      out = `${out.slice(0, span.start)}\${secret:${secret.name}}${out.slice(span.end)}`;
    }
    return out;
  };
  const inRecord = (record: Readonly<Record<string, string>>, field: string) =>
    Object.fromEntries(Object.entries(record).map(([key, value]) => [key, replace(value, secretsInValue(key, value), `${field}.${key}`)]));
  const { transport } = server;
  if (transport.kind === 'stdio') {
    const argSpans = secretsInArgs(transport.args);
    const args = transport.args.map((arg, index) => replace(arg, argSpans.get(index) ?? [], `args[${index}]`));
    return { server: { ...server, transport: { ...transport, args, env: inRecord(transport.env, 'env') } }, secrets, reused };
  }
  const url = replace(transport.url, secretsInUrl(transport.url), 'url');
  return { server: { ...server, transport: { ...transport, url, headers: inRecord(transport.headers, 'headers') } }, secrets, reused };
}

/** `SERVER/LABEL` as a valid secret name, not yet used by another value. */
function uniqueSecretName(wanted: string, planned: readonly PlannedSecret[]): string {
  const base = wanted.replace(/[^A-Za-z0-9._@/-]/g, '-').slice(0, 120);
  let name = base;
  for (let n = 2; planned.some((s) => s.name === name); n++) name = `${base}-${n}`;
  return name;
}

/** The file must load as mcpgate will load it: a failure here is a bug or an input mcpgate cannot express. */
function checkRendered(file: string, text: string): void {
  const problems: ConfigProblem[] = [];
  const parsed = parseFile(file, text, problems);
  const value = parsed ? validate(parsed, ServerFileSchema, problems) : undefined;
  if (value) {
    for (const field of [...value.args, ...Object.values(value.env), ...Object.values(value.headers), value.url ?? '', value.sse ?? '']) {
      try {
        findReferences(field);
      } catch (error) {
        problems.push({ file, message: messageOf(error), severity: 'error' });
      }
    }
  }
  if (problems.length) {
    const first = problems[0] as ConfigProblem;
    throw invalid(`the imported ${file} would not be valid: ${first.field ? `${first.field}: ` : ''}${first.message}`, 'fix that entry in the source file (or write this server by hand); nothing was imported');
  }
}

function targetOf(server: SourceServer): string {
  const { transport } = server;
  if (transport.kind !== 'stdio') return `${transport.kind}: ${displayUrl(transport.url)}`;
  const line = [transport.command, ...transport.args].join(' ');
  return `stdio: ${line.length > 80 ? `${line.slice(0, 79)}…` : line}`;
}
