/**
 * The local audit log: one JSON line per CONTRACT event, hash-chained (docs/audit.md). Events are
 * stamped when they happen, queued, and serialised after the current event-loop turn as one batch
 * (one write), so a tool call never waits for the audit writer: its response leaves first. Each
 * line carries `seq` and `prev` (SHA-256 of the previous line): the chain continues across
 * restarts (from the file's last complete line) and rotated files. With `fsync: always` each
 * record is instead written and fdatasync'ed synchronously when it is emitted (write-ahead: the
 * decision is on disk before the call is forwarded, the result before the response is sent).
 * `close()` writes everything and closes the file.
 *
 * Each gateway process owns a chain of its own (chainLock.ts): the configured file when no other
 * live process writes it, else `STEM.chain-K.EXT` beside it. Two gateways on one configuration
 * never interleave their records in one chain.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventSink, GatewayEvent } from '../telemetry/events.js';
import { Appender } from './appender.js';
import { chainMember, formatLine, GENESIS, hashBytes, hashLine } from './chain.js';
import { claimChain, HEARTBEAT_MS, type ChainClaim } from './chainLock.js';
import type { CheckpointSigner } from './checkpoint.js';
import { eventMembers, type AuditSelfEvent } from './eventJson.js';
import { ErrorCodes, GatewayError } from '../errors.js';
import { findHead } from './files.js';

/** A batch buffer this small comes from Buffer's shared pool (a larger one is an ArrayBuffer of its own). */
const SMALL_CHUNK = 2048;

/** How the audit file is written (gateway.yaml `audit.*`). */
export interface AuditLogOptions {
  readonly fsync?: 'always' | 'batch';
  readonly fsyncIntervalMs?: number;
  readonly rotate?: { readonly maxBytes: number; readonly keep?: number };
  readonly checkpoint?: CheckpointSigner;
  /** Reports write failures (default: a line on stderr). */
  readonly onError?: (error: Error) => void;
  /** Most bytes of records kept for a retry while writes fail (default 64 MiB). */
  readonly maxPendingBytes?: number;
}

/** Appends events to the audit file as chained JSON lines: `{"seq":1,"prev":"…","time":"…","event":"mcpgate.…",…}`. */
export class AuditLog implements EventSink {
  /** The configured `audit.file`. */
  readonly base: string;
  /** The active file of the chain this process writes. */
  readonly file: string;
  /** Its chain number (1: `base` itself). */
  readonly chain: number;
  private readonly claim: ChainClaim;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly chainMember: string;
  private readonly appender: Appender;
  private readonly maxBytes: number;
  private readonly signer: CheckpointSigner | undefined;
  private readonly checkpointTimer: NodeJS.Timeout | undefined;
  private readonly sync: boolean;
  private closed = false;
  private queue: Array<GatewayEvent | AuditSelfEvent> = [];
  private times: number[] = [];
  private scheduled = false;
  /** Bytes to allocate for the next batch's lines. */
  private chunkHint = SMALL_CHUNK;
  private lastTime = 0;
  private lastIso = '';
  private seq: number;
  private prev: string;
  private fileBytes: number;
  /** Seq of the active file's first record (its name once rotated). */
  private fileFirstSeq: number;
  private sinceCheckpoint = 0;
  private signing: Promise<void> | undefined;
  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    const times = this.times;
    this.queue = [];
    this.times = [];
    // Each line is encoded to UTF-8 once, into one buffer per batch: its hash is taken from
    // those bytes and the same bytes are written (no second string-to-bytes conversion).
    let out = Buffer.allocUnsafe(this.chunkHint);
    let used = 0;
    let chunkStart = 0;
    for (let i = 0; i < batch.length; i++) {
      const time = times[i] as number;
      // Many records share a millisecond: format each distinct time once.
      if (time !== this.lastTime) {
        this.lastTime = time;
        this.lastIso = new Date(time).toISOString();
      }
      const event = batch[i] as GatewayEvent | AuditSelfEvent;
      const line = formatLine(++this.seq, this.prev, this.lastIso, eventMembers(event), this.chainMember);
      const room = line.length * 3 + 1; // UTF-8 needs at most 3 bytes per UTF-16 unit
      if (used + room > out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, used + room));
        out.copy(bigger, chunkStart, chunkStart, used);
        out = bigger;
      }
      const start = used;
      used += out.write(line, used, 'utf8');
      this.prev = hashBytes(out.subarray(start, used));
      out[used++] = 0x0a;
      if (event.event !== 'mcpgate.audit.checkpoint') this.sinceCheckpoint++;
      if (this.maxBytes > 0) {
        const bytes = used - start;
        if (this.fileBytes > 0 && this.fileBytes + bytes > this.maxBytes) {
          if (start > chunkStart) this.appender.write(out.subarray(chunkStart, start));
          chunkStart = start;
          this.appender.rotate(this.fileFirstSeq);
          this.fileBytes = 0;
        }
        if (this.fileBytes === 0) this.fileFirstSeq = this.seq;
        this.fileBytes += bytes;
      }
    }
    if (used > chunkStart) this.appender.write(out.subarray(chunkStart, used));
    // The next batch starts with room for one like this one (bounded below and above).
    this.chunkHint = Math.min(Math.max(used, SMALL_CHUNK), 1 << 20);
    if (this.signer && this.sinceCheckpoint >= this.signer.every) this.checkpoint();
  };

  constructor(base: string, options: AuditLogOptions = {}) {
    this.base = base;
    // The chain is claimed before anything reads or repairs its files: only its owner may.
    this.claim = opening(base, () => {
      mkdirSync(dirname(base), { recursive: true });
      return claimChain(base);
    });
    const file = this.claim.file;
    this.file = file;
    this.chain = this.claim.chain;
    this.chainMember = chainMember(this.chain);
    const onError = options.onError ?? ((error: Error) => process.stderr.write(`mcpgate: audit log ${file}: ${error.message}\n`));
    let head: ReturnType<typeof findHead>;
    try {
      head = opening(file, () => findHead(file));
      this.appender = opening(file, () => new Appender(file, {
        fsync: options.fsync ?? 'batch',
        fsyncIntervalMs: options.fsyncIntervalMs ?? 1000,
        onError,
        // Not from within a drain (fsync: always writes there): the record is appended just after.
        onDropped: (dropped) => queueMicrotask(() => this.emit({ event: 'mcpgate.audit.dropped', ...dropped })),
        ...(options.rotate?.keep === undefined ? {} : { keep: options.rotate.keep }),
        ...(options.maxPendingBytes === undefined ? {} : { maxPendingBytes: options.maxPendingBytes }),
      }));
    } catch (error) {
      this.claim.release();
      throw error;
    }
    this.seq = head.seq;
    this.prev = head.line === undefined ? GENESIS : hashLine(head.line);
    this.fileBytes = head.activeBytes;
    this.fileFirstSeq = head.activeFirstSeq;
    this.maxBytes = options.rotate?.maxBytes ?? 0;
    this.sync = options.fsync === 'always';
    this.heartbeat = setInterval(() => {
      try {
        if (!this.claim.heartbeat()) onError(new Error(`another process took over the lock of audit chain ${this.chain} (${file}.lock): two gateways may now write this chain`));
      } catch (error) {
        onError(error as Error);
      }
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    this.signer = options.checkpoint;
    if (this.signer) {
      this.checkpointTimer = setInterval(() => this.checkpoint(), this.signer.intervalMs);
      this.checkpointTimer.unref();
    }
    if (head.torn) {
      // A crash cut the last record short: keep its bytes on record, then continue the chain.
      this.emit({
        event: 'mcpgate.audit.recovery',
        torn_bytes: head.torn.length,
        torn_sha256: createHash('sha256').update(head.torn).digest('hex'),
        torn_base64: head.torn.subarray(0, 65536).toString('base64'),
      });
    }
  }

  /**
   * `fsync: always` only: the last record could not be written and synced (full disk, I/O error),
   * so the gateway must not act on it (the tool-call pipeline then refuses the call: fail closed).
   */
  get writeAheadFailed(): boolean {
    return this.sync && this.appender.lastSyncWriteFailed;
  }

  /** Queues an event (written after this event-loop turn, or at once with `fsync: always`). */
  emit(event: GatewayEvent | AuditSelfEvent): void {
    if (this.closed) return;
    this.queue.push(event);
    this.times.push(Date.now());
    if (this.sync) {
      this.drain();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Writes queued records (they reach the kernel when the writes in flight before them are done). */
  flush(): void {
    if (this.closed) return;
    this.drain();
  }

  /** Signs a final checkpoint (if configured), writes everything, fdatasyncs and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    if (this.signer) {
      this.drain();
      await this.signing;
      // The last checkpoint covers everything, including a checkpoint record just signed.
      this.drain();
      this.checkpoint();
      await this.signing;
    }
    this.drain();
    // One last try for records waiting after failed writes; if it succeeds after records were
    // dropped, the mcpgate.audit.dropped record explaining the gap is written too.
    await this.appender.settle();
    this.drain();
    this.closed = true;
    await this.appender.close();
    clearInterval(this.heartbeat);
    this.claim.release();
  }

  /** Signs the current chain head (asynchronously) and appends the checkpoint record. */
  private checkpoint(): void {
    const signer = this.signer;
    if (!signer || this.signing || this.sinceCheckpoint === 0) return;
    const seq = this.seq;
    const hash = this.prev;
    this.sinceCheckpoint = 0;
    this.signing = signer
      .sign(seq, hash)
      .then(
        (jws) => this.emit({ event: 'mcpgate.audit.checkpoint', checkpoint_seq: seq, checkpoint_hash: hash, alg: signer.alg, jws }),
        (error: unknown) => {
          process.stderr.write(`mcpgate: audit checkpoint not signed: ${(error as Error).message}\n`);
        },
      )
      .finally(() => (this.signing = undefined));
  }
}

/**
 * Runs a step of opening the audit log; a file system that refuses it (read-only, permissions, no
 * such directory) becomes MCPGATE_AUDIT_UNAVAILABLE with the fix, not a bare errno message.
 */
function opening<T>(file: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    const why = code === 'EROFS' ? 'is on a read-only file system' : code === 'ENOENT' || code === 'ENOTDIR' ? 'cannot be created there' : 'is not writable by this user';
    throw new GatewayError(ErrorCodes.AUDIT_UNAVAILABLE, `cannot open the audit log ${file}: it ${why} (${(error as Error).message})`, {
      remedy: `set audit.file in gateway.yaml to a writable path (or MCPGATE_STATE_DIR to a writable directory; in the container image: the /var/log/mcpgate volume)`,
      cause: error,
    });
  }
}
