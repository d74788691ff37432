/**
 * Reads the file to import and tells which client wrote it. JSON is parsed as VS Code parses its
 * own files (`jsonc-parser`: comments and trailing commas allowed), TOML with `smol-toml`; a
 * syntax error names the file, line and column. The format comes from `--format`, else the file's
 * name (`claude_desktop_config.json`, `.mcp.json`, `.claude.json`, `.cursor/mcp.json`,
 * `.vscode/mcp.json`, `*.toml`), else its content.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { parse as parseToml, TomlError } from 'smol-toml';
import { printable } from '../printable.js';
import { ErrorCodes, GatewayError, firstLineOf } from '../errors.js';
import { FORMAT_LABELS, type ImportFormat } from './model.js';

/** A parsed source file. */
export interface SourceDocument {
  /** The path as given. */
  readonly file: string;
  readonly format: ImportFormat;
  /** How the format was chosen, for the report: `--format`, the file name, or its content. */
  readonly detectedBy: 'flag' | 'name' | 'content';
  readonly value: Record<string, unknown>;
  /** `file:line` of a value inside the document (JSON only), else `file`. */
  where(path: readonly (string | number)[]): string;
}

/** Source files larger than this are refused (`~/.claude.json` holds history and can grow large). */
const MAX_BYTES = 64 * 1024 * 1024;

/** Reads, parses and recognises `file`; throws MCPGATE_IMPORT_INVALID naming what is wrong. */
export async function readSource(file: string, format?: ImportFormat): Promise<SourceDocument> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw invalid(`cannot read ${file} (${error.code ?? firstLineOf(error)})`, 'check the path');
  });
  if (!info.isFile()) throw invalid(`${file} is not a file`, 'pass the configuration file itself, e.g. ~/.codex/config.toml');
  if (info.size > MAX_BYTES) throw invalid(`${file} is larger than ${MAX_BYTES / 1024 / 1024} MB`, 'pass a client configuration file');
  const text = await readFile(file, 'utf8');
  const byName = format ?? formatFromName(file);
  const toml = byName === 'codex' || (byName === undefined && extname(file) === '.toml');
  const parsed = toml ? parseTomlText(file, text) : parseJsonText(file, text);
  const detected = format ? 'flag' : byName ? 'name' : 'content';
  const chosen = byName ?? formatFromContent(file, parsed.value, text);
  return { file, format: chosen, detectedBy: detected, value: parsed.value, where: parsed.where };
}

/** The format a file name implies, if any. */
export function formatFromName(file: string): ImportFormat | undefined {
  const name = basename(file);
  const parent = basename(dirname(file));
  if (name === 'claude_desktop_config.json') return 'claude-desktop';
  if (name === '.mcp.json' || name === '.claude.json') return 'claude-code';
  if (name === 'mcp.json' && parent === '.cursor') return 'cursor';
  if (name === 'mcp.json' && parent === '.vscode') return 'vscode';
  if (extname(name) === '.toml') return 'codex';
  return undefined;
}

/**
 * The format of a JSON file whose name says nothing. An `mcpServers` list is shared by Claude
 * Desktop, Claude Code and Cursor, which read `${…}` differently: Cursor's `${env:X}` forms say
 * Cursor, other `${…}` Claude Code (Claude Desktop expands nothing); without any `${` the three
 * read the file alike.
 */
function formatFromContent(file: string, value: Record<string, unknown>, text: string): ImportFormat {
  if (isObject(value.mcp_servers)) return 'codex';
  if (isObject(value.servers) && value.mcpServers === undefined) return 'vscode';
  if (isObject(value.projects)) return 'claude-code';
  if (isObject(value.mcpServers)) {
    if (/\$\{(env:|userHome\}|workspaceFolder)/.test(text)) return 'cursor';
    return text.includes('${') ? 'claude-code' : 'claude-desktop';
  }
  throw invalid(
    `${file} is not an MCP client configuration mcpgate can import: it has no "mcpServers" (Claude Desktop, Claude Code, Cursor), "servers" (VS Code), "projects" (~/.claude.json) or [mcp_servers] (Codex)`,
    `pass one of those files, or name its format with --format ${Object.keys(FORMAT_LABELS).join('|')}`,
  );
}

function parseJsonText(file: string, text: string): { value: Record<string, unknown>; where: SourceDocument['where'] } {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    throw invalid(`${file}:${position(text, first.offset)}: not valid JSON: ${describeJsonError(printParseErrorCode(first.error))}`, 'fix the file (or pass the right one); nothing was imported');
  }
  const value = root ? nodeValue(root) : undefined;
  if (!isObject(value)) throw invalid(`${file}:1:1: expected a JSON object at the top level`, 'pass an MCP client configuration file');
  const where = (path: readonly (string | number)[]) => {
    const node = root && findNodeAtLocation(root, [...path]);
    return node ? `${file}:${position(text, node.offset).split(':')[0]}` : file;
  };
  return { value, where };
}

function parseTomlText(file: string, text: string): { value: Record<string, unknown>; where: SourceDocument['where'] } {
  try {
    return { value: parseToml(text) as Record<string, unknown>, where: () => file };
  } catch (error) {
    if (error instanceof TomlError) {
      const reason = firstLineOf(error).replace(/^Invalid TOML document: /, '');
      throw invalid(`${file}:${error.line}:${error.column}: not valid TOML: ${reason}`, 'fix the file (or pass the right one); nothing was imported');
    }
    throw error;
  }
}

/** A JSON value from a jsonc-parser tree (objects keep the last of duplicate keys, as JSON.parse does). */
function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        if (key && value) Object.defineProperty(out, String(key.value), { value: nodeValue(value), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}

/** `line:column` (1-based) of a character offset. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `${line}:${offset - before.lastIndexOf('\n')}`;
}

function describeJsonError(code: string): string {
  // jsonc-parser names errors in CamelCase (ValueExpected): say it in words.
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** True for a plain object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An MCPGATE_IMPORT_INVALID error; the message may quote the file's names, so no control character reaches a terminal. */
export function invalid(message: string, remedy: string): GatewayError {
  return new GatewayError(ErrorCodes.IMPORT_INVALID, printable(message), { remedy });
}
