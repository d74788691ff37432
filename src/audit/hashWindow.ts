/**
 * The hashes and positions of the most recent records of a chain walk, in fixed-size typed
 * arrays: what checkpoint checks (a checkpoint signs a recent record) and break naming (a seq met
 * again) need to look back at, without keeping the whole log. Older entries are overwritten.
 */
import type { ChainPosition } from './chain.js';

/** One remembered line. */
export interface WindowEntry {
  /** SHA-256 hex of the line. */
  readonly hash: string;
  readonly at: ChainPosition;
}

/** Records remembered by default: 65536 × 48 bytes = 3 MiB, outside the JS heap. */
export const WINDOW_RECORDS = 65_536;

/** A ring of the last `size` lines by index (0-based, among all lines of the chain's files). */
export class HashWindow {
  private readonly hashes: Buffer;
  private readonly files: Uint32Array;
  private readonly lines: Float64Array;
  /** The lowest index put, and one past the highest. */
  private begin = 0;
  private end = 0;

  constructor(
    private readonly names: readonly string[],
    private readonly size = WINDOW_RECORDS,
  ) {
    this.hashes = Buffer.alloc(size * 32);
    this.files = new Uint32Array(size);
    this.lines = new Float64Array(size);
  }

  /** How many lines it holds at most. */
  get capacity(): number {
    return this.size;
  }

  /** Remembers the line at `index` (indexes are put in increasing order). */
  put(index: number, hash: string, file: number, line: number): void {
    if (this.end === 0) this.begin = index;
    const slot = index % this.size;
    this.hashes.write(hash, slot * 32, 32, 'hex');
    this.files[slot] = file;
    this.lines[slot] = line;
    this.end = index + 1;
  }

  /** The line at `index`, or undefined when it was never put or has been overwritten. */
  get(index: number): WindowEntry | undefined {
    if (!(index >= this.begin && index < this.end && index >= this.end - this.size)) return undefined;
    const slot = index % this.size;
    return {
      hash: this.hashes.toString('hex', slot * 32, slot * 32 + 32),
      at: { file: this.names[this.files[slot] as number] as string, line: this.lines[slot] as number },
    };
  }
}
