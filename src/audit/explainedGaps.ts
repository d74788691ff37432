/**
 * Gaps in the audit chain that the writer explained: it dropped records while writes failed and
 * then appended a `mcpgate.audit.dropped` record (first_seq, last_seq, records, reason,
 * last_hash). verify walks on across such a gap when the claims cover the missing seqs exactly and
 * the record after the gap chains to the last claim's `last_hash`; the claims themselves must then
 * be verified later in the same walk (they follow the gap), else the gap is a break after all.
 * Claims are read, only once a gap is met, in one pass from the gap to the end of the log.
 */
import type { ChainPosition } from './chain.js';
import { hashLine } from './chain.js';
import { seqRange } from './dropped.js';

export const DROPPED_EVENT = 'mcpgate.audit.dropped';
/** Cheap test before parsing a line as a dropped record. */
const DROPPED_MARK = `"event":"${DROPPED_EVENT}"`;
/** Claims kept from one pass (a pass that meets more reads again from the next gap not covered). */
const MAX_CLAIMS = 10_000;
/** Gaps listed in the report (all are counted). */
export const MAX_LISTED_GAPS = 100;
/** Gaps walked across at most: beyond, a gap is a break (its bookkeeping is 16 bytes a gap). */
const MAX_GAPS = 100_000;

/** A gap walked across, as reported. */
export interface ExplainedGap {
  /** The missing seqs. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Seq(s) of the mcpgate.audit.dropped record(s) that account for them, and why. */
  readonly droppedAt: readonly number[];
  readonly reason: string;
}

/** A gap the walk stopped at: seqs `expected`..`seq`-1 are missing; the record of `seq` has `prev`. */
export interface GapAt {
  readonly expected: number;
  readonly seq: number;
  readonly prev: string;
  readonly at: ChainPosition;
}

/** Where the line after a gap starts, and the chain verified up to the gap (to report it as a break after all). */
export interface GapContext {
  readonly file: number;
  readonly offset: number;
  readonly line: number;
  readonly records: number;
  readonly lastSeq: number;
}

interface Claim {
  readonly seq: number;
  readonly first_seq: number;
  readonly last_seq: number;
  readonly records: number;
  readonly reason: string;
  readonly last_hash: string;
  /** Hash of the claim's line: the walk confirms it when it verifies this very line. */
  readonly hash: string;
}

/** A gap walked across whose claims the walk has not verified yet. */
export interface AwaitedGap {
  readonly gap: GapAt;
  readonly context: GapContext;
  /** Gaps walked across before this one. */
  readonly ordinal: number;
  /** The claims not verified yet. */
  claims: readonly Claim[];
  /** Seq of its last dropped record: with a key, a verified checkpoint must sign it or a later record. */
  readonly lastClaim: number;
}

/** Reads the texts of the lines from a line start to the end of the log. */
export type LineReader = (from: GapContext, onText: (text: string) => void) => Promise<void>;

/** The claim a line makes, when it is a well-formed mcpgate.audit.dropped record. */
function claimOf(text: string): Claim | undefined {
  if (!text.includes(DROPPED_MARK)) return undefined;
  let r: Partial<Claim> & { event?: unknown };
  try {
    r = JSON.parse(text) as Partial<Claim> & { event?: unknown };
  } catch {
    return undefined; // not a record: the chain check names it if the walk gets there
  }
  if (typeof r !== 'object' || r === null || r.event !== DROPPED_EVENT) return undefined;
  const { seq, first_seq, last_seq, records, last_hash } = r;
  if (![seq, first_seq, last_seq, records].every((n) => Number.isSafeInteger(n) && (n as number) >= 1)) return undefined;
  if (typeof last_hash !== 'string' || !/^[0-9a-f]{64}$/.test(last_hash)) return undefined;
  if ((last_seq as number) < (first_seq as number) || records !== (last_seq as number) - (first_seq as number) + 1) return undefined;
  return { seq: seq as number, first_seq: first_seq as number, last_seq: last_seq as number, records, reason: String(r.reason), last_hash, hash: hashLine(text) };
}

/** The explained gaps of one verify walk. */
export class ExplainedGaps {
  /** Gaps walked across. */
  count = 0;
  readonly listed: ExplainedGap[] = [];
  /** Claims by last_seq, read from the first gap (or a later one) to the end. */
  private claims: Map<number, Claim[]> | undefined;
  private truncated = false;
  /** Gaps walked across whose claims are not verified yet, in order. */
  private awaiting: AwaitedGap[] = [];

  /**
   * @param signed verify has a key: a gap stays awaited until a verified checkpoint signs its last
   * dropped record or a later one (else anyone could delete records and append a chained
   * "explanation" after the last checkpoint without touching anything signed)
   */
  constructor(
    private readonly read: LineReader,
    private readonly signed = false,
  ) {}

  /**
   * Whether the walk may go on across `gap`: the log's claims cover its seqs exactly and the
   * record after it chains to the last claim's last_hash. The claims are then awaited.
   */
  async explain(gap: GapAt, context: GapContext): Promise<boolean> {
    if (this.count >= MAX_GAPS) return false;
    if (!this.claims || (this.truncated && !this.cover(gap))) await this.scan(context);
    const claims = this.cover(gap);
    if (!claims) return false;
    this.awaiting.push({ gap, context, ordinal: this.count, claims, lastClaim: Math.max(...claims.map((c) => c.seq)) });
    if (this.listed.length < MAX_LISTED_GAPS) {
      this.listed.push({ firstSeq: gap.expected, lastSeq: gap.seq - 1, droppedAt: claims.map((c) => c.seq), reason: claims.map((c) => c.reason).join('; ') });
    }
    this.count++;
    return true;
  }

  /** The walk verified the dropped record `seq` whose line hashes to `hash`. */
  confirm(seq: number, hash: string): void {
    if (this.awaiting.length === 0) return;
    this.awaiting = this.awaiting.filter((a) => {
      const rest = a.claims.filter((c) => !(c.seq === seq && c.hash === hash));
      if (rest.length === a.claims.length) return true;
      if (rest.length === 0 && !this.signed) return false;
      a.claims = rest;
      return true;
    });
  }

  /** A verified checkpoint signs the record `seq` (as walked): gaps whose dropped records are all verified and at or before it are settled. */
  signedUpTo(seq: number): void {
    if (this.awaiting.length === 0) return;
    this.awaiting = this.awaiting.filter((a) => a.claims.length > 0 || a.lastClaim > seq);
  }

  /** The first gap walked across whose claims the walk did not verify, or (with a key) no verified checkpoint signs: it is a break after all. */
  get unconfirmed(): AwaitedGap | undefined {
    return this.awaiting[0];
  }

  /** The first gap whose claims the walk did not verify (signatures aside: a failed checkpoint is the break then). */
  get unverified(): AwaitedGap | undefined {
    return this.awaiting.find((a) => a.claims.length > 0);
  }

  /** The claims that explain `gap`, in seq order, or undefined. */
  private cover(gap: GapAt): Claim[] | undefined {
    const used: Claim[] = [];
    let end = gap.seq - 1;
    // Only the last claim's link can be checked (the record after the gap); earlier ones must abut it.
    let hash: string | undefined = gap.prev;
    while (end >= gap.expected) {
      const claim = this.claims?.get(end)?.find((c) => c.seq >= gap.seq && c.first_seq >= gap.expected && (hash === undefined || c.last_hash === hash));
      if (!claim) return undefined;
      used.push(claim);
      end = claim.first_seq - 1;
      hash = undefined;
    }
    return used.reverse();
  }

  private async scan(from: GapContext): Promise<void> {
    const claims = new Map<number, Claim[]>();
    let kept = 0;
    this.truncated = false;
    await this.read(from, (text) => {
      const claim = claimOf(text);
      if (!claim) return;
      if (kept >= MAX_CLAIMS) {
        this.truncated = true;
        return;
      }
      kept++;
      const same = claims.get(claim.last_seq);
      if (same) same.push(claim);
      else claims.set(claim.last_seq, [claim]);
    });
    this.claims = claims;
  }
}

/** `seqs 3..17 (mcpgate.audit.dropped at seq 40: why)`. */
export function describeGap(gap: ExplainedGap): string {
  const at = gap.droppedAt.length === 1 ? `seq ${gap.droppedAt[0]}` : `seqs ${gap.droppedAt.join(', ')}`;
  return `${seqRange(gap.firstSeq, gap.lastSeq)} (mcpgate.audit.dropped at ${at}: ${gap.reason})`;
}
