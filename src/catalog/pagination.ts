/**
 * Cursor pagination of the aggregated lists. Cursors are opaque to clients: base64url of the
 * offset. A page boundary that shifts because an upstream's list changed between two pages is
 * tolerated (the client sees list_changed and re-lists).
 */
import { ErrorCodes, wireError } from '../errors.js';

/** One page of a list and the cursor of the next, if any. */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

/** Cuts `items` into the page that `cursor` names. Throws InvalidParams for a cursor we did not issue. */
export function paginate<T>(items: readonly T[], cursor: unknown, pageSize: number): Page<T> {
  let offset = 0;
  if (cursor !== undefined) {
    offset = decodeCursor(cursor);
    if (offset > items.length) throw wireError(ErrorCodes.INVALID_PARAMS, 'invalid cursor: the list is shorter than it was');
  }
  if (offset === 0 && items.length <= pageSize) return { items: items as T[] };
  const end = offset + pageSize;
  const page = items.slice(offset, end);
  return end < items.length ? { items: page, nextCursor: encodeCursor(end) } : { items: page };
}

function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

function decodeCursor(cursor: unknown): number {
  if (typeof cursor === 'string') {
    const match = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
    if (match) return Number(match[1]);
  }
  throw wireError(ErrorCodes.INVALID_PARAMS, 'invalid cursor: pass back the nextCursor of the previous page unchanged');
}
