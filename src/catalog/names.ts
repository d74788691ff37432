/**
 * Public names: `SERVER__NAME` (or the server's `prefix`), cut to 64 characters with a stable
 * hash suffix when longer, because many clients reject longer tool names.
 */
import { createHash } from 'node:crypto';

/** The separator between prefix and upstream name. */
export const NAME_SEPARATOR = '__';
/** The longest public name handed to clients. */
export const MAX_PUBLIC_NAME = 64;

/** `prefix__name`, or `name` when the prefix is empty; long names keep a stable hash suffix. */
export function publicName(prefix: string, name: string): string {
  const full = prefix === '' ? name : `${prefix}${NAME_SEPARATOR}${name}`;
  if (full.length <= MAX_PUBLIC_NAME) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_PUBLIC_NAME - hash.length - 1)}_${hash}`;
}
