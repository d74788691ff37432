/**
 * The approved-rules file (`rules.d/approved.yaml`) read for people: every "always allow" entry
 * with the line it is on, and what is wrong with the file when it is broken (file:line), for
 * `mcpgate tools` and `mcpgate check`. The running gateway reads the same file through
 * `AlwaysRules`; both parse it with the same schema, and a broken file allows nothing in either.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { parseFile, validate } from '../config/parse.js';
import type { ConfigProblem } from '../config/types.js';
import { messageOf } from '../errors.js';
import { ApprovedFileSchema, type ApprovedEntry } from './alwaysRules.js';

/** One entry with where it is written. */
export interface ApprovedEntryAt extends ApprovedEntry {
  /** Config-dir-relative file, e.g. `rules.d/approved.yaml`. */
  readonly file: string;
  /** 1-based line of the entry (its `- tool:` line). */
  readonly line?: number;
  /** Index in `allow`, as the audit log's `rules.d/approved.yaml allow[N]` names it. */
  readonly index: number;
}

/** What the file holds: its entries, or (broken) none and the problems that say why. */
export interface ApprovedFileReport {
  /** Config-dir-relative file. */
  readonly file: string;
  readonly entries: readonly ApprovedEntryAt[];
  /** Errors: while there are any, none of the file's entries apply (fail closed). */
  readonly problems: readonly ConfigProblem[];
}

const NOT_APPLIED = 'not a valid approved-rules file, so none of its entries apply';

/**
 * Reads the approved-rules file; a missing file has no entries and no problems.
 * @example (await readApprovedFile('/cfg/rules.d/approved.yaml', '/cfg')).entries[0]?.line // 4
 */
export async function readApprovedFile(path: string, configDir: string): Promise<ApprovedFileReport> {
  const file = relative(configDir, path) || path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, entries: [], problems: [] };
    return { file, entries: [], problems: [{ file, message: `cannot be read, so none of its entries apply: ${messageOf(error)}`, severity: 'error' }] };
  }
  const problems: ConfigProblem[] = [];
  const parsed = parseFile(file, text, problems);
  const value = parsed ? validate(parsed, ApprovedFileSchema, problems) : undefined;
  if (!parsed || !value) {
    return { file, entries: [], problems: problems.map((problem) => ({ ...problem, message: `${NOT_APPLIED}: ${problem.message}` })) };
  }
  const entries = value.allow.map((entry, index) => {
    const line = parsed.lineOf(['allow', index]);
    return { ...entry, file, index, ...(line === undefined ? {} : { line }) };
  });
  return { file, entries, problems: [] };
}
