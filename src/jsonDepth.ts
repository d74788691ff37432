/**
 * How deeply nested a JSON message may be. Deeper input is refused where it enters (a client's
 * request, an upstream's message) with a clear error, so every walk of a message further on
 * (secret scrubbing, audit copies, canonical hashing, the SDK's schemas, JSON.stringify on the
 * way out) sees all of it and stays far from the stack limit: nothing past this depth is ever
 * cut to a placeholder, hashed as one, or lost on the way to the client.
 */

/** Levels of arrays and objects a message may nest (the message object itself is level 1). */
export const MAX_JSON_DEPTH = 512;

/**
 * True when `value` nests arrays and objects more than `limit` levels deep. Stops at the first
 * branch that does; visits containers only (a long string costs nothing).
 * @example depthExceeds({ a: [1] }, 1) // true: the array is level 2
 */
export function depthExceeds(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return limit <= 0 || childrenExceed(value, limit);
}

/** Whether a child of `value` (itself within `limit`) nests past it; primitives cost no call (hot path). */
function childrenExceed(value: object, limit: number): boolean {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && (limit <= 1 || childrenExceed(item, limit - 1))) return true;
    }
    return false;
  }
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && (limit <= 1 || childrenExceed(item, limit - 1))) return true;
  }
  return false;
}
