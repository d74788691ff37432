/**
 * Where the audit chain lives on disk. The configured path is the active file; rotation renames
 * it to `PATH.SEQ`, SEQ being the seq of its first record (so names sort into chain order and say
 * where each file starts). Reading order: rotated files by SEQ ascending, then the active file.
 * Also: finding the chain head when the gateway restarts, repairing a torn last line.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readdirSync, readSync, unlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ErrorCodes, GatewayError } from '../errors.js';
import { chainFields } from './chain.js';

/** The file a rotated active file is renamed to. */
export function rotatedName(active: string, firstSeq: number): string {
  return `${active}.${firstSeq}`;
}

function rotatedPattern(active: string): RegExp {
  return new RegExp(`^${basename(active).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)$`);
}

function order(active: string, names: readonly string[]): string[] {
  const pattern = rotatedPattern(active);
  const rotated = names
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((entry) => entry.match !== null)
    .sort((a, b) => Number(a.match![1]) - Number(b.match![1]))
    .map((entry) => join(dirname(active), entry.name));
  return names.includes(basename(active)) ? [...rotated, active] : rotated;
}

/** Every file of the chain in reading order (rotated files first, the active file last). */
export async function chainFiles(active: string): Promise<string[]> {
  const names = await readdir(dirname(active)).catch(() => [] as string[]);
  return order(active, names);
}

/** {@link chainFiles}, synchronously (gateway start-up and rotation only). */
export function chainFilesSync(active: string): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(dirname(active));
  } catch {
    // No directory yet: no files.
  }
  return order(active, names);
}

/** Where a restarted writer continues the chain. */
export interface ChainHead {
  /** Seq of the last complete record (0: a new chain). */
  readonly seq: number;
  /** Hash of its line (GENESIS for a new chain). */
  readonly line?: string;
  /** Seq of the first record in the active file (for naming it when it rotates); 0 when empty. */
  readonly activeFirstSeq: number;
  /** Bytes in the active file. */
  readonly activeBytes: number;
  /** An incomplete last line that was cut off the active file. */
  readonly torn?: Buffer;
}

const CHUNK = 65536;

/** How every record line starts (chain.ts formatLine). */
const RECORD_START = '{"seq":';

/** Byte offset just after the last `\n` before `end` (0 when none). */
function lineStart(fd: number, end: number): number {
  const buffer = Buffer.alloc(CHUNK);
  let pos = end;
  while (pos > 0) {
    const from = Math.max(0, pos - CHUNK);
    const n = readSync(fd, buffer, 0, pos - from, from);
    const i = buffer.subarray(0, n).lastIndexOf(0x0a);
    if (i !== -1) return from + i + 1;
    pos = from;
  }
  return 0;
}

function readRange(fd: number, from: number, to: number): Buffer {
  const buffer = Buffer.alloc(to - from);
  let done = 0;
  while (done < buffer.length) {
    const n = readSync(fd, buffer, done, buffer.length - done, from + done);
    if (n === 0) break;
    done += n;
  }
  return buffer;
}

function firstLine(fd: number, size: number): string {
  for (let pos = 0; pos < size; pos += CHUNK) {
    const end = readRange(fd, pos, Math.min(size, pos + CHUNK)).indexOf(0x0a);
    if (end !== -1) return readRange(fd, 0, pos + end).toString('utf8');
  }
  return readRange(fd, 0, size).toString('utf8');
}

function corrupt(file: string, what: string): GatewayError {
  return new GatewayError(ErrorCodes.AUDIT_CORRUPT, `audit file ${file}: ${what}, so the hash chain cannot be continued`, {
    remedy: `run "mcpgate audit verify --file ${file}" to see what is wrong, then move the file aside (the gateway starts a new chain when the file is absent)`,
  });
}

/**
 * Finds the chain head for a writer starting on `active`: the last complete record of the newest
 * non-empty file. An incomplete last line of the active file (a crash mid-write) is cut off and
 * returned in `torn` so the caller can record it. Throws MCPGATE_AUDIT_CORRUPT when the last line
 * is not a chained record (a damaged file, or one written by an older mcpgate).
 */
export function findHead(active: string): ChainHead {
  const files = chainFilesSync(active);
  let torn: Buffer | undefined;
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i]!;
    const isActive = file === active;
    const fd = openSync(file, isActive ? 'r+' : 'r');
    try {
      const fullSize = fstatSync(fd).size;
      let size = fullSize;
      if (size > 0 && readRange(fd, size - 1, size)[0] !== 0x0a) {
        if (!isActive) throw corrupt(file, 'a rotated file ends in an incomplete line');
        size = lineStart(fd, size);
        // Only a record cut short is repaired: anything else is not ours to cut off.
        const head = readRange(fd, size, Math.min(fullSize, size + RECORD_START.length)).toString('latin1');
        if (!RECORD_START.startsWith(head)) throw corrupt(file, 'it ends in an incomplete line that is not an audit record');
      }
      // Everything is checked before a torn tail is cut off: a file that is not a chain stays as it is.
      const last = size === 0 ? undefined : readRange(fd, lineStart(fd, size - 1), size - 1).toString('utf8');
      const fields = last === undefined ? undefined : chainFields(last);
      if (last !== undefined && !fields) throw corrupt(file, 'the last line is not a chained audit record');
      const activeFirst = isActive && size > 0 ? chainFields(firstLine(fd, size)) : undefined;
      if (isActive && size > 0 && !activeFirst) throw corrupt(file, 'the first line is not a chained audit record');
      if (size < fullSize) {
        torn = readRange(fd, size, fullSize);
        ftruncateSync(fd, size);
      }
      if (last === undefined || !fields) continue;
      return {
        seq: fields.seq,
        line: last,
        activeFirstSeq: activeFirst?.seq ?? 0,
        activeBytes: isActive ? size : 0,
        ...(torn ? { torn } : {}),
      };
    } finally {
      closeSync(fd);
    }
  }
  return { seq: 0, activeFirstSeq: 0, activeBytes: 0, ...(torn ? { torn } : {}) };
}

/** Deletes the oldest rotated files of `active`'s chain beyond the newest `keep`; a file that cannot be deleted is reported and kept. */
export function pruneRotated(active: string, keep: number, onError: (error: Error) => void): void {
  const rotated = chainFilesSync(active).filter((f) => f !== active);
  for (const old of rotated.slice(0, Math.max(0, rotated.length - keep))) {
    try {
      unlinkSync(old);
    } catch (error) {
      onError(error as Error);
    }
  }
}
