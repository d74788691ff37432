/**
 * `mcpgate audit verify`, streamed: the files of the chain are read in order a line at a time;
 * each line is checked against the previous record's seq and hash (chain.ts ChainWalker) and,
 * given a key, each signed checkpoint against the record it signs. Memory does not grow with the
 * log: the hashes of the last WINDOW_RECORDS records are kept (a checkpoint signs a recent
 * record), an older one is read again from the files. A break is named from the lines after it
 * (where else its seq occurs), read on in the same pass. A gap the writer explained (it dropped
 * records while writes failed, and its mcpgate.audit.dropped record links across: explainedGaps.ts)
 * is walked across and reported as such; the rest of the chain is verified as usual.
 */
import type { KeyObject } from 'node:crypto';
import { basename } from 'node:path';
import { ErrorCodes, GatewayError } from '../errors.js';
import { ChainWalker, chainFields, hashLine, type ChainBreak, type ChainLine, type ChainPosition } from './chain.js';
import { CHECKPOINT_EVENT, checkpointOf, CheckpointTally } from './checkpointTally.js';
import { seqRange } from './dropped.js';
import { describeGap, DROPPED_EVENT, type ExplainedGap, ExplainedGaps } from './explainedGaps.js';
import { chainOfName } from './chains.js';
import { chainFiles } from './files.js';
import { HashWindow, WINDOW_RECORDS } from './hashWindow.js';
import { forEachLine, type LineAnswer } from './lines.js';
import { plural } from './writeErrors.js';

/** What verification found. */
export interface VerifyReport {
  readonly files: readonly string[];
  readonly records: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly checkpoints: number;
  /** Checkpoints whose signature was checked (0 without a key). */
  readonly checkpointsVerified: number;
  readonly break?: ChainBreak;
  /** For a `deleted` break: the mcpgate.audit.dropped record(s) in the log that account for the missing seqs. */
  readonly explained?: string;
  /** Gaps the walk went on across (explained by verified mcpgate.audit.dropped records that link across them): how many, the first MAX_LISTED_GAPS. */
  readonly gaps?: { readonly count: number; readonly listed: readonly ExplainedGap[] };
}

/** The chain's files: their paths and the names reports use; `window`: recent records kept; `chain`: its number. */
interface Chain {
  readonly paths: readonly string[];
  readonly names: readonly string[];
  readonly window: number;
  readonly chain: number;
}

/** How verify reads. */
export interface VerifyOptions {
  /** Recent records whose hashes are kept for checkpoint checks (older ones are read again); tests make it small. */
  readonly window?: number;
  /** The chain whose active file is given (default: from its name, chains.ts). */
  readonly chain?: number;
}

/** Where a line starts: the index of its file, its byte offset and its line number there. */
interface LineStart {
  readonly file: number;
  readonly offset: number;
  readonly line: number;
}

/**
 * Calls `onLine` for every line of the chain's files in order (from `start`, else the first),
 * with the index of its file and its byte offset; `torn` marks an incomplete last line of the
 * newest file (anywhere else it is damage inside the chain, and an ordinary line). `onLine`
 * answers as for forEachLine: `false` stops.
 */
async function eachLine(chain: Chain, onLine: (line: ChainLine, file: number, torn: boolean, offset: number) => LineAnswer, start?: LineStart): Promise<void> {
  const last = chain.paths.length - 1;
  for (let index = start?.file ?? 0; index <= last; index++) {
    const name = chain.names[index] as string;
    const resume = index === start?.file;
    let number = resume ? start.line - 1 : 0;
    // A line too long to be a record keeps its place (it is not a record) but not its bytes.
    const more = await forEachLine(
      chain.paths[index] as string,
      (text, complete, offset) => onLine({ file: name, line: ++number, text: text ?? '' }, index, !complete && index === last, offset),
      undefined,
      resume ? start.offset : 0,
    );
    if (!more) return;
  }
}

/** Reads the lines at indexes `from` onwards (a window's worth) again, with their hashes. */
async function readWindow(chain: Chain, from: number): Promise<HashWindow> {
  const window = new HashWindow(chain.names, chain.window);
  let index = 0;
  await eachLine(chain, (line, file) => {
    if (index >= from) window.put(index, hashLine(line.text), file, line.line);
    return ++index < from + window.capacity;
  });
  return window;
}

/** The verified records' hashes by seq: recent ones from the walk's window, older ones read again. */
class ChainHashes {
  private reread: HashWindow | undefined;

  constructor(
    private readonly chain: Chain,
    private readonly walker: ChainWalker,
    readonly window: HashWindow,
  ) {}

  /** The line at `index` (0-based among all lines), from the window or read again. */
  async at(index: number): Promise<{ hash: string; at: ChainPosition } | undefined> {
    const cached = this.window.get(index) ?? this.reread?.get(index);
    if (cached) return cached;
    this.reread = await readWindow(this.chain, index);
    return this.reread.get(index);
  }

  /** Hash of the verified record `seq`; undefined when the chain walked so far does not hold it. */
  async get(seq: number): Promise<string | undefined> {
    const w = this.walker;
    const index = w.records === 0 ? undefined : w.indexOf(seq);
    return index === undefined ? undefined : (await this.at(index))?.hash;
  }
}

/** Verifies the chain whose active file is `active`; `key` also checks signed checkpoints. */
export async function verifyAudit(active: string, key?: KeyObject, options: VerifyOptions = {}): Promise<VerifyReport> {
  const paths = await chainFiles(active);
  if (paths.length === 0) throw new GatewayError(ErrorCodes.AUDIT_NOT_FOUND, `no audit log at ${active}`, { remedy: 'give the audit file with --file PATH, or the config dir whose gateway.yaml names it with --config DIR' });
  const chain: Chain = { paths, names: paths.map((f) => basename(f)), window: options.window ?? WINDOW_RECORDS, chain: options.chain ?? chainOfName(active).chain };
  const report = await verifyChain(chain, key);
  // A gap the writer itself recorded (it dropped records while writes failed) is still a gap, but explained.
  const explained = report.break?.kind === 'deleted' ? await explainGap(chain, report.break) : undefined;
  return explained ? { ...report, explained } : report;
}

/**
 * The writer's own account of a gap: the mcpgate.audit.dropped records (anywhere in the log)
 * whose seq ranges together cover every missing seq (read in one more pass, only for a gap).
 */
async function explainGap(chain: Chain, gap: ChainBreak): Promise<string | undefined> {
  let next: number | undefined;
  let nextPrev: string | undefined;
  const runs: Array<{ seq: number; first_seq: number; last_seq: number; reason: string; last_hash?: unknown }> = [];
  await eachLine(chain, (line) => {
    if (line.file === gap.file && line.line === gap.line) ({ seq: next, prev: nextPrev } = chainFields(line.text) ?? {});
    if (!line.text.includes('"event":"mcpgate.audit.dropped"')) return true;
    try {
      const r = JSON.parse(line.text) as { seq: number; event: unknown; first_seq: number; last_seq: number; reason: string };
      if (r.event === 'mcpgate.audit.dropped' && Number.isSafeInteger(r.first_seq) && Number.isSafeInteger(r.last_seq) && runs.length < 10_000) runs.push(r);
    } catch {
      // not a record: the chain check names it
    }
    return true;
  });
  if (next === undefined) return undefined;
  const end = next;
  const covering = runs.filter((r) => r.last_seq >= gap.seq && r.first_seq < end);
  for (let seq = gap.seq; seq < end; ) {
    const run = covering.find((r) => r.first_seq <= seq && r.last_seq >= seq);
    if (!run) return undefined;
    seq = run.last_seq + 1;
  }
  const text = covering.map((r) => `the writer recorded dropping ${seqRange(r.first_seq, r.last_seq)} (mcpgate.audit.dropped at seq ${r.seq}: ${r.reason})`).join('; ');
  // Why verify did not go on across it (docs/audit.md): the link, or where the record is.
  const last = covering.find((r) => r.last_seq === end - 1);
  const link =
    last?.last_hash === undefined
      ? `; it has no last_hash (an older writer): the link across the gap cannot be checked`
      : last.last_hash !== nextPrev
        ? `; but its last_hash is not the prev of seq ${end}: the link across the gap does not check`
        : '';
  return text + link;
}

/** Walks the chain and its checkpoints (see the module comment). */
async function verifyChain(chain: Chain, key: KeyObject | undefined): Promise<VerifyReport> {
  const walker = new ChainWalker(chain.chain);
  const hashes = new ChainHashes(chain, walker, new HashWindow(chain.names, chain.window));
  const tally = new CheckpointTally(key);
  // Gaps the writer explained: their claims are read (from the first gap on) only when one is met.
  const gaps = new ExplainedGaps((from, onText) => eachLine(chain, (line) => onText(line.text), from), key !== undefined);

  const verified = (line: ChainLine, file: number, hash: string): LineAnswer => {
    hashes.window.put(walker.records - 1, hash, file, line.line);
    const event = walker.lastEvent;
    if (event === DROPPED_EVENT) gaps.confirm(walker.lastSeq, hash);
    if (event !== CHECKPOINT_EVENT) return undefined;
    const checkpoint = checkpointOf(line.text);
    if (checkpoint && checkpoint !== 'stop') return tally.add(checkpoint, line, hashes, walker.lastSeq, (seq) => gaps.signedUpTo(seq));
    return undefined;
  };

  // One pass: walk the chain; after an anomaly, read on only as far as naming it needs.
  let stoppedAt: LineStart = { file: 0, offset: 0, line: 1 };
  await eachLine(chain, (line, file, torn, offset) => {
    if (torn) return walker.torn(line);
    if (!walker.walking) return walker.observe(line);
    const hash = walker.push(line);
    if (hash !== undefined) return verified(line, file, hash);
    stoppedAt = { file, offset, line: line.line };
    const gap = walker.gap;
    if (!gap) return walker.lookup !== undefined;
    // A gap: walk on across it when the log explains it and the link checks (else name it as before).
    return gaps.explain(gap, { file, offset, line: line.line, records: walker.records, lastSeq: walker.lastSeq }).then((explained) => (explained ? verified(line, file, walker.bridge(line)) : true));
  });
  const earlier = walker.lookup?.earlier;
  let outcome = walker.outcome(earlier === undefined ? undefined : (await hashes.at(earlier))?.at);
  // A gap walked across whose mcpgate.audit.dropped record(s) the walk did not verify is a break after all.
  // With a key, a gap no verified checkpoint covers is one too, unless a checkpoint failed (that is the break then).
  const unconfirmed = tally.failure ? gaps.unverified : gaps.unconfirmed;
  if (unconfirmed) {
    const { gap, context } = unconfirmed;
    const missing = gap.seq - gap.expected === 1 ? `seq ${gap.expected} is` : `seqs ${gap.expected}..${gap.seq - 1} are`;
    const claims = unconfirmed.claims.map((c) => c.seq).join(', ');
    const why = claims === '' ? `at seq ${unconfirmed.lastClaim} that would explain it is not covered by a signed checkpoint (with --key, one must sign it or a later record)` : `at seq ${claims} that would explain it is not in the verified chain`;
    outcome = {
      records: context.records,
      firstSeq: outcome.firstSeq,
      lastSeq: context.lastSeq,
      break: {
        seq: gap.expected,
        kind: 'deleted',
        ...gap.at,
        detail: `${missing} missing: seq ${context.lastSeq} is followed by seq ${gap.seq} at ${gap.at.file}:${gap.at.line}; the mcpgate.audit.dropped record ${why}`,
      },
    };
    stoppedAt = { file: context.file, offset: context.offset, line: context.line };
  }
  const before = outcome.break ? outcome.break.seq : Number.POSITIVE_INFINITY;
  const listed = gaps.listed.filter((g) => g.lastSeq < before);
  const gapCount = unconfirmed ? unconfirmed.ordinal : gaps.count;
  const report = (checkpoints: number, verified: number, broken?: ChainBreak): VerifyReport => ({
    files: chain.names,
    records: outcome.records,
    firstSeq: outcome.firstSeq,
    lastSeq: outcome.lastSeq,
    checkpoints,
    checkpointsVerified: verified,
    ...(broken ? { break: broken } : {}),
    ...(gapCount > 0 ? { gaps: { count: gapCount, listed } } : {}),
  });

  // Checkpoints count up to the chain's break: those at or after its seq are not trusted.
  const failure = tally.firstFailure(before, walker.lastSeq);
  if (failure) return report(failure.checkpoints, failure.verified, failure.break);
  if (!outcome.break) return report(tally.checkpoints, tally.verified);
  // The break names a seq at or below a checkpoint already counted: count again up to it.
  if (tally.lastSeq >= before) {
    const checkpoints = await countCheckpoints(chain, before);
    return report(checkpoints, key ? checkpoints : 0, outcome.break);
  }
  // Nothing follows a torn last line.
  if (outcome.break.kind === 'torn') return report(tally.checkpoints, tally.verified, outcome.break);
  // Lines after the break may still hold checkpoints of earlier seqs (copies): check them as well.
  return checkAfterBreak(chain, stoppedAt, before, tally, hashes, report, outcome.break);
}

/** Checkpoints with a seq below `before`, counted from the start up to the first that is not. */
async function countCheckpoints(chain: Chain, before: number): Promise<number> {
  let count = 0;
  await eachLine(chain, (line) => {
    const checkpoint = checkpointOf(line.text);
    if (checkpoint === undefined) return true;
    if (checkpoint === 'stop' || !(checkpoint.seq < before)) return false;
    count++;
    return true;
  });
  return count;
}

/** Goes on checking checkpoints from the line the walk stopped at, up to one that is not below `before`. */
async function checkAfterBreak(
  chain: Chain,
  from: LineStart,
  before: number,
  tally: CheckpointTally,
  hashes: ChainHashes,
  report: (checkpoints: number, verified: number, broken?: ChainBreak) => VerifyReport,
  broken: ChainBreak,
): Promise<VerifyReport> {
  // The walk is over: every seq it reached is known.
  const reached = Number.POSITIVE_INFINITY;
  await eachLine(chain, (line, _file, torn) => {
    if (torn) return true;
    const checkpoint = checkpointOf(line.text);
    if (checkpoint === undefined) return true;
    if (checkpoint === 'stop' || !(checkpoint.seq < before)) return false;
    return tally.add(checkpoint, line, hashes, reached).then(() => tally.failure === undefined);
  }, from);
  return tally.failure ? report(tally.failure.checkpoints, tally.failure.verified, tally.failure.break) : report(tally.checkpoints, tally.verified, broken);
}

/** One-line summary for the CLI. */
export function describeVerify(report: VerifyReport): string {
  const range = report.records === 0 ? 'no records' : `${report.records} records, seq ${report.firstSeq}..${report.lastSeq}`;
  const start = report.firstSeq > 1 ? `; the chain starts at seq ${report.firstSeq} (older files were rotated away)` : '';
  const signed =
    report.checkpoints === 0 ? '' : report.checkpointsVerified === report.checkpoints ? `; ${report.checkpoints} signed checkpoint(s) verified` : `; ${report.checkpoints} checkpoint(s) not checked (no --key)`;
  const gaps = report.gaps ? describeGaps(report.gaps) : '';
  if (!report.break && report.gaps) {
    return `intact except ${plural(report.gaps.count, 'explained gap')}: the chain verifies to the end across seqs the writer dropped (${range}, files: ${report.files.join(', ')}${start}${signed})${gaps}`;
  }
  if (!report.break) return `intact (${range}, files: ${report.files.join(', ')}${start}${signed})`;
  const b = report.break;
  const why = report.explained ? `\nthe gap is explained in the log: ${report.explained}` : '';
  const across = report.gaps ? `, across ${plural(report.gaps.count, 'explained gap')}` : '';
  return `broken at seq ${b.seq}: ${b.kind}: ${b.detail}${why}\n${range} verified before it${across} (files: ${report.files.join(', ')})${gaps}`;
}

/** One line per explained gap listed (and how many more). */
function describeGaps(gaps: NonNullable<VerifyReport['gaps']>): string {
  const lines = gaps.listed.map((g) => `\n  gap: ${describeGap(g)}; seq ${g.lastSeq + 1} chains to its last_hash`);
  const more = gaps.count - gaps.listed.length;
  return lines.join('') + (more > 0 ? `\n  … and ${plural(more, 'more explained gap')}` : '');
}
