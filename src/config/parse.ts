/**
 * The first two steps of reading any configuration-like file (config dir, requirements, approved
 * rules, imports): parse YAML (JSON is YAML) keeping line positions, and validate against a zod
 * schema, every problem naming file, line and field. Plus the freeze every loader ends with.
 */
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { ZodError, ZodType } from 'zod';
import { nearest } from '../nearest.js';
import { fieldsAt } from './schemaFields.js';
import type { ConfigProblem } from './types.js';

/** A field's path in a file: `['tools', 'deny', 1]`. */
export type Path = readonly (string | number)[];

/** A parsed file that can say on which line a field is. */
export interface ParsedFile {
  readonly file: string;
  readonly value: unknown;
  lineOf(path: Path): number | undefined;
}

/** Parses YAML (JSON is YAML) keeping positions; syntax errors become problems. */
export function parseFile(file: string, text: string, problems: ConfigProblem[]): ParsedFile | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const line = error.linePos?.[0]?.line ?? lineCounter.linePos(error.pos[0]).line;
      problems.push({ file, line, message: `syntax error: ${firstLine(error.message)}`, severity: 'error' });
    }
    return undefined;
  }
  const value = doc.toJS() ?? {};
  return { file, value, lineOf: (path) => lineOf(doc, lineCounter, path) };
}

function lineOf(doc: Document, lineCounter: LineCounter, path: Path): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lineCounter.linePos(range[0]).line;
  }
  return undefined;
}

/** The line of a key inside a map (for unknown keys). */
function lineOfKey(parsed: ParsedFile, path: Path, key: string): number | undefined {
  return parsed.lineOf([...path, key]) ?? parsed.lineOf(path);
}

/** Validates a parsed file against a schema; zod issues become `file:line: field: message` problems. */
export function validate<T>(parsed: ParsedFile, schema: ZodType<T>, problems: ConfigProblem[]): T | undefined {
  const result = schema.safeParse(parsed.value);
  if (result.success) return result.data;
  for (const issue of (result.error as ZodError).issues) {
    const path = issue.path as (string | number)[];
    if (issue.code === 'unrecognized_keys') {
      const known = fieldsAt(schema, path);
      for (const key of issue.keys) {
        const guess = nearest(key, known);
        problems.push({
          file: parsed.file,
          line: lineOfKey(parsed, path, key),
          field: fieldName([...path, key]),
          message: guess ? `unknown field; did you mean "${guess}"? (docs/config.md lists the fields this file accepts)` : 'unknown field (see docs/config.md for the fields this file accepts)',
          severity: 'error',
        });
      }
      continue;
    }
    problems.push({ file: parsed.file, line: parsed.lineOf(path), field: fieldName(path) || undefined, message: issue.message, severity: 'error' });
  }
  return undefined;
}

/** `['tools', 'deny', 1, 'args']` → `tools.deny[1].args` */
export function fieldName(path: Path): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? message;
}

/** Freezes a value and everything it holds (configuration is immutable once loaded). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}


/** The audit section with an absolute file and durations in milliseconds. */
