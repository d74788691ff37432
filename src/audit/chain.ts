/**
 * The audit hash chain, pure: how a record line is built and hashed, and how a sequence of lines
 * is checked. Every line is `{"seq":N,"prev":"<hex>","time":"…","event":"…",…}`; `prev` is the
 * SHA-256 (lowercase hex) of the previous record's line as UTF-8 bytes, without its newline; the
 * first record of a chain has seq 1 and `prev` = {@link GENESIS}. No I/O here (see verify.ts).
 */
import { hash } from 'node:crypto';

/** `prev` of the first record of a chain: 64 zeros. */
export const GENESIS = '0'.repeat(64);

/** SHA-256 hex of one record line (without its trailing newline). */
export function hashLine(line: string): string {
  // One-shot crypto.hash: about half the cost of createHash().update().digest() per record.
  return hash('sha256', line, 'hex');
}

/** SHA-256 hex of one record line's UTF-8 bytes (without the trailing newline): `hashLine` of its text. */
export function hashBytes(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex');
}

/** The line of a record: chain fields first, then `time`, then the event's own fields. */
export function formatLine(seq: number, prev: string, time: string, eventMembers: string, chainMember = ''): string {
  // eventMembers is JSON.stringify(event) without its `{` (eventJson.ts): our fields go in front.
  return `{"seq":${seq},"prev":"${prev}",${chainMember}"time":"${time}",${eventMembers}`;
}

/** The `"chain":K,` member records of chain K carry (none for chain 1: chains.ts). */
export function chainMember(chain: number): string {
  return chain === 1 ? '' : `"chain":${chain},`;
}

/** A line read back from a file, with where it came from. */
export interface ChainLine {
  readonly file: string;
  /** 1-based line number in its file. */
  readonly line: number;
  readonly text: string;
}

/** Why a chain is broken. */
export type BreakKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'torn' | 'invalid' | 'signature';

/** The first place a chain breaks. */
export interface ChainBreak {
  readonly seq: number;
  readonly kind: BreakKind;
  readonly file: string;
  readonly line: number;
  readonly detail: string;
}

/** What checking a chain found. */
export interface ChainResult {
  readonly records: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Hash of each record's line by seq (for checkpoint checks). */
  readonly hashes: ReadonlyMap<number, string>;
  readonly break?: ChainBreak;
}

interface Parsed {
  readonly seq: number;
  readonly prev: string;
  /** The chain the record claims (1 when it names none). */
  readonly chain: number;
  /** The record's `event` (verify picks out checkpoints by it without parsing the line again). */
  readonly event: unknown;
}

/** The chain fields of a line, or undefined when it is not a chained record. */
export function chainFields(text: string): Parsed | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const record = value as { seq?: unknown; prev?: unknown; chain?: unknown; event?: unknown };
  if (typeof value !== 'object' || value === null || !Number.isSafeInteger(record.seq) || (record.seq as number) < 1) return undefined;
  if (typeof record.prev !== 'string' || !/^[0-9a-f]{64}$/.test(record.prev)) return undefined;
  const chain = record.chain === undefined ? 1 : record.chain;
  if (!Number.isSafeInteger(chain) || (chain as number) < 1) return undefined;
  return { seq: record.seq as number, prev: record.prev, chain: chain as number, event: record.event };
}

/** Where a line is: its file and 1-based line number. */
export interface ChainPosition {
  readonly file: string;
  readonly line: number;
}

/** How far a chain verified, and where it first breaks. */
export interface ChainOutcome {
  readonly records: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly break?: ChainBreak;
}

/**
 * What a walk that stopped at an anomaly still needs to know to name it: where else `seq` occurs.
 * Its occurrences after the anomaly are fed to {@link ChainWalker.observe}; `earlier` is the index
 * (0-based, among all lines) of its one occurrence in the verified part, when it has one.
 */
export interface ChainLookup {
  readonly seq: number;
  readonly earlier?: number;
}

/** Positions listed in an `inserted` detail; the rest are counted (a line repeated a million times). */
const MAX_LISTED = 1000;

const where = (at: ChainPosition): string => `${at.file}:${at.line}`;

type Anomaly =
  /** The line at `at` has the expected seq but does not chain: inserted if `seq` occurs twice, else the previous record was edited. */
  | { readonly kind: 'relinked'; readonly seq: number; readonly at: ChainPosition }
  /** Seqs are missing before the line at `at` (whose prev is `prev`): reordered if `expected` occurs later, else deleted. */
  | { readonly kind: 'gap'; readonly seq: number; readonly expected: number; readonly prev: string; readonly at: ChainPosition }
  /** The line at `at` repeats an older seq: inserted if it occurs twice, else reordered. */
  | { readonly kind: 'backwards'; readonly seq: number; readonly at: ChainPosition };

/**
 * The chain check as a walk over the lines in order, one at a time, keeping only the previous
 * record's seq and hash: memory does not grow with the log. At the first anomaly the walk stops;
 * naming it (edited, deleted, inserted, reordered) can depend on where else one seq occurs, so
 * the walker then says which ({@link lookup}) and is fed the remaining lines ({@link observe}).
 */
export class ChainWalker {
  /** Lines verified so far (the index of the next line). */
  records = 0;
  firstSeq = 0;
  /** Seq and hash of the last verified record. */
  lastSeq = 0;
  lastHash = GENESIS;
  /** The `event` of the last verified record. */
  lastEvent: unknown;
  /** Set when the walk stopped at an anomaly whose name depends on other occurrences of a seq. */
  lookup: ChainLookup | undefined;
  private lastAt: ChainPosition | undefined;
  private anomaly: Anomaly | undefined;
  private final: ChainOutcome | undefined;
  private found: ChainPosition[] = [];
  private unlisted = 0;
  /** Seqs missing in the gaps bridged so far. */
  private skipped = 0;
  /** Per gap bridged, in order: the seq after it and the seqs skipped up to it (pairs, flat). */
  private readonly bridged: number[] = [];

  /** True until the walk stops (at an anomaly or a torn last line). */
  get walking(): boolean {
    return this.anomaly === undefined && this.final === undefined;
  }

  /** @param chain the chain whose files are walked: a record claiming another belongs elsewhere. */
  constructor(private readonly chain = 1) {}

  /** Checks the next line; returns its hash when it extends the chain, undefined when the walk stops here. */
  push(line: ChainLine): string | undefined {
    const fields = chainFields(line.text);
    const expected = this.lastSeq + 1;
    const at = { file: line.file, line: line.line };
    if (!fields) return this.stop({ seq: expected, kind: 'invalid', ...at, detail: `${where(at)} is not a chained audit record (edited or inserted)` });
    if (fields.chain !== this.chain) {
      return this.stop({ seq: expected, kind: 'invalid', ...at, detail: `${where(at)} is a record of chain ${fields.chain}, in a file of chain ${this.chain} (moved or renamed)` });
    }
    if (this.records === 0) {
      this.firstSeq = fields.seq;
      if (fields.seq === 1 && fields.prev !== GENESIS) {
        this.final = { records: 0, firstSeq: 1, lastSeq: 0, break: { seq: 1, kind: 'edited', ...at, detail: `seq 1 must chain to the genesis value, its prev is ${fields.prev.slice(0, 12)}…` } };
        return undefined;
      }
    } else if (fields.seq === expected) {
      if (fields.prev !== this.lastHash) return this.ask({ kind: 'relinked', seq: fields.seq, at }, { seq: fields.seq }, [at]);
    } else if (fields.seq > expected) {
      return this.ask({ kind: 'gap', seq: fields.seq, expected, prev: fields.prev, at }, { seq: expected }, []);
    } else {
      // Seqs firstSeq..lastSeq were each seen once, in order: an older seq was seen at a known index.
      const index = this.indexOf(fields.seq);
      const earlier = index === undefined ? {} : { earlier: index };
      return this.ask({ kind: 'backwards', seq: fields.seq, at }, { seq: fields.seq, ...earlier }, [at]);
    }
    const hash = hashLine(line.text);
    this.records++;
    this.lastSeq = fields.seq;
    this.lastHash = hash;
    this.lastEvent = fields.event;
    this.lastAt = at;
    return hash;
  }

  /** The gap the walk stopped at (seqs `expected`..`seq`-1 missing before a record whose prev is `prev`), if that is where it stopped. */
  get gap(): { readonly expected: number; readonly seq: number; readonly prev: string; readonly at: ChainPosition } | undefined {
    const a = this.anomaly;
    return a?.kind === 'gap' && this.final === undefined ? a : undefined;
  }

  /**
   * Walks on across the gap the walk stopped at ({@link gap}), whose link the caller has checked
   * (the log explains the missing seqs and the record after them chains to the last one): the
   * line the walk stopped at becomes the next verified record. Returns its hash.
   */
  bridge(line: ChainLine): string {
    const a = this.anomaly;
    if (a?.kind !== 'gap') throw new Error('bridge: the walk did not stop at a gap');
    this.anomaly = undefined;
    this.lookup = undefined;
    this.found = [];
    this.skipped += a.seq - a.expected;
    this.bridged.push(a.seq, this.skipped);
    const hash = hashLine(line.text);
    this.records++;
    this.lastSeq = a.seq;
    this.lastHash = hash;
    this.lastEvent = chainFields(line.text)?.event;
    this.lastAt = { file: line.file, line: line.line };
    return hash;
  }

  /** The index (0-based, among the verified lines) of verified seq `seq`; undefined when it is not one (before the chain, or in a gap bridged). */
  indexOf(seq: number): number | undefined {
    if (seq < this.firstSeq || seq > this.lastSeq) return undefined;
    // The last bridged gap whose first seq after it is at or below `seq` (few: a binary search).
    const b = this.bridged;
    let lo = 0;
    let hi = b.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((b[mid * 2] as number) <= seq) lo = mid + 1;
      else hi = mid;
    }
    if (lo < b.length / 2 && (b[lo * 2] as number) - ((b[lo * 2 + 1] as number) - (lo === 0 ? 0 : (b[lo * 2 - 1] as number))) <= seq) return undefined;
    const skipped = lo === 0 ? 0 : (b[lo * 2 - 1] as number);
    return seq - this.firstSeq - skipped;
  }

  /** Ends the walk at an incomplete last line (no newline). */
  torn(line: ChainLine): void {
    if (!this.walking) return;
    this.final = {
      records: this.records,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      break: {
        seq: this.lastSeq + 1,
        kind: 'torn',
        file: line.file,
        line: line.line,
        detail: `the last line (${line.file}:${line.line}, ${Buffer.byteLength(line.text)} bytes) is incomplete: the writer stopped mid-record; the ${this.records} records before it verify (the gateway repairs this on its next start)`,
      },
    };
  }

  /** Feeds a line after the anomaly (while {@link lookup} is set); returns false once nothing more is needed. */
  observe(line: ChainLine): boolean {
    const lookup = this.lookup;
    if (!lookup) return false;
    if (chainFields(line.text)?.seq !== lookup.seq) return true;
    if (this.found.length < MAX_LISTED) this.found.push({ file: line.file, line: line.line });
    else this.unlisted++;
    // A gap only asks whether the missing seq comes later: its first occurrence answers that.
    return this.anomaly?.kind !== 'gap';
  }

  /** The result: intact so far, or the first break. `earlier` is the line at `lookup.earlier`, when asked. */
  outcome(earlier?: ChainPosition): ChainOutcome {
    if (this.final) return this.final;
    const a = this.anomaly;
    const verified = { records: this.records, firstSeq: this.firstSeq, lastSeq: this.lastSeq };
    if (!a) return verified;
    const all = a.kind === 'backwards' && earlier ? [earlier, ...this.found] : this.found;
    const count = all.length + this.unlisted;
    const list = `${all.map(where).join(', ')}${this.unlisted > 0 ? `, and ${this.unlisted} more` : ''}`;
    const at = a.at;
    if (a.kind === 'relinked') {
      if (count > 1) return { ...verified, break: { seq: a.seq, kind: 'inserted', ...at, detail: `more than one record claims seq ${a.seq} (${list})` } };
      const prevAt = this.lastAt as ChainPosition;
      return {
        records: this.records - 1,
        firstSeq: this.firstSeq,
        lastSeq: this.lastSeq - 1,
        break: { seq: this.lastSeq, kind: 'edited', ...prevAt, detail: `seq ${this.lastSeq} (${where(prevAt)}) was changed: its hash no longer matches the prev of seq ${a.seq}` },
      };
    }
    if (a.kind === 'gap') {
      const later = this.found[0];
      if (later) return { ...verified, break: { seq: a.expected, kind: 'reordered', ...at, detail: `seq ${a.expected} is out of order: found at ${where(later)}, after seq ${a.seq} at ${where(at)}` } };
      const missing = a.seq - a.expected === 1 ? `seq ${a.expected} is` : `seqs ${a.expected}..${a.seq - 1} are`;
      return { ...verified, break: { seq: a.expected, kind: 'deleted', ...at, detail: `${missing} missing: seq ${this.lastSeq} is followed by seq ${a.seq} at ${where(at)}` } };
    }
    if (count > 1) return { ...verified, break: { seq: a.seq, kind: 'inserted', ...at, detail: `more than one record claims seq ${a.seq} (${list})` } };
    return { ...verified, break: { seq: a.seq, kind: 'reordered', ...at, detail: `seq ${a.seq} at ${where(at)} comes after seq ${this.lastSeq}` } };
  }

  private stop(broken: ChainBreak): undefined {
    this.final = { records: this.records, firstSeq: this.firstSeq, lastSeq: this.lastSeq, break: broken };
    return undefined;
  }

  private ask(anomaly: Anomaly, lookup: ChainLookup, found: ChainPosition[]): undefined {
    this.anomaly = anomaly;
    this.lookup = lookup;
    this.found = found;
    return undefined;
  }
}

/**
 * Checks complete lines in order. `torn` is an incomplete last line (no newline), reported after
 * everything before it verified. A chain may start after seq 1 (older files rotated away); its
 * first `prev` then cannot be checked. (In memory, for lines at hand; verify.ts streams files.)
 */
export function checkChain(lines: readonly ChainLine[], torn?: ChainLine): ChainResult {
  const walker = new ChainWalker();
  const hashes = new Map<number, string>();
  let i = 0;
  while (i < lines.length && walker.walking) {
    const hash = walker.push(lines[i++] as ChainLine);
    if (hash !== undefined) hashes.set(walker.lastSeq, hash);
  }
  const lookup = walker.lookup;
  if (lookup) while (i < lines.length && walker.observe(lines[i++] as ChainLine));
  else if (torn) walker.torn(torn);
  const earlier = lookup?.earlier === undefined ? undefined : lines[lookup.earlier];
  return { ...walker.outcome(earlier), hashes };
}
