/**
 * How tool-call arguments are recorded in the audit log (`audit.arguments`). Whatever the mode,
 * a registered secret value never reaches the log, and recording never throws: a call must not
 * fail because its audit record could not be written the way it was configured.
 */
import { createHash } from 'node:crypto';
import { capArguments } from './argumentCap.js';
import { jsonSafeCopy, type Redactor } from '../secrets/redactor.js';
import { canonicalJson as canonicalText } from '../canonicalJson.js';

/** `full`: as sent (known secrets scrubbed); `redacted`: also secret-looking keys; `hash`: sha256 only; `none`. */
export type ArgumentsMode = 'full' | 'redacted' | 'hash' | 'none';

/** The argument fields of a `mcpgate.tool.decision` record. */
export interface RecordedArguments {
  arguments?: unknown;
  /** Hex sha256 of {@link canonicalJson} of the arguments as sent (`hash` mode). */
  arguments_sha256?: string;
  /** Set when the recorded arguments were cut to fit `maxBytes`. */
  arguments_truncated?: boolean;
  /** Which paths were cut (argumentCap.ts). */
  arguments_cut?: string[];
}

/** Recorded when the arguments cannot be recorded at all (never expected; never thrown). */
const UNRECORDABLE = '[unrecordable arguments]';

/**
 * The argument fields to put in an audit record.
 * @example recordArguments({ path: 'a', token: 'x' }, 'redacted', { maxBytes: 4096, redactor })
 * // { arguments: { path: 'a', token: '[REDACTED]' } }
 */
export function recordArguments(
  args: unknown,
  mode: ArgumentsMode,
  opts: { maxBytes: number; redactor: Redactor },
): RecordedArguments {
  try {
    switch (mode) {
      case 'none':
        return {};
      case 'hash':
        return { arguments_sha256: createHash('sha256').update(canonicalJson(args)).digest('hex') };
      case 'full':
      case 'redacted': {
        // Hot path: most arguments are small and hold nothing to redact; record them as they are.
        if (asIs(args, mode === 'redacted', opts.redactor, opts.maxBytes)) return { arguments: args };
        const recorded = opts.redactor.scrubDeep(args, mode === 'redacted' ? { redactKey: isSecretKey } : {});
        return recorded === undefined ? {} : capArguments(recorded, opts.maxBytes);
      }
      default:
        // An unknown mode records nothing rather than guess how much it may reveal.
        return {};
    }
  } catch {
    return { arguments: UNRECORDABLE };
  }
}

function asIs(args: unknown, keys: boolean, redactor: Redactor, maxBytes: number): boolean {
  try {
    return recordableAsIs(args, keys, redactor, { left: maxBytes / 2 }, 0);
  } catch {
    return false; // e.g. a Proxy whose traps throw: the careful path knows what to do
  }
}

/**
 * True when `value` is a plain JSON tree (as parsed from a request) with no secret-looking key
 * (when `keys`), no known secret value in any string, and clearly under the size cap: then it can
 * be recorded without a copy. Anything unusual answers false and takes the careful path.
 */
function recordableAsIs(value: unknown, keys: boolean, redactor: Redactor, budget: { left: number }, depth: number): boolean {
  if (depth > 32) return false;
  switch (typeof value) {
    case 'string':
      budget.left -= value.length + 2;
      return budget.left >= 0 && (redactor.size === 0 || redactor.scrub(value) === value);
    case 'number':
    case 'boolean':
      budget.left -= 8;
      return budget.left >= 0;
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (const item of value) if (!recordableAsIs(item, keys, redactor, budget, depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        if (!Object.hasOwn(value, key) || key === '__proto__') return false;
        budget.left -= key.length + 4;
        if ((keys && isSecretKey(key)) || (redactor.size > 0 && redactor.scrub(key) !== key)) return false;
        if (!recordableAsIs((value as Record<string, unknown>)[key], keys, redactor, budget, depth + 1)) return false;
      }
      return budget.left >= 0;
    }
    default:
      return false;
  }
}

/**
 * JSON with object keys sorted at every depth (data model of {@link jsonSafeCopy}), so equal
 * arguments give equal text, hence equal hashes, whatever order their keys were sent in. All of
 * the value, never a placeholder for a deep part: a value nested too deep to copy throws
 * (requests that deep are refused at the door, src/jsonDepth.ts), so two different values never
 * share a text, a hash or a session approval.
 * @example canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }) // '{"a":[{"c":2,"d":1}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return canonicalText(jsonSafeCopy(value, { strictDepth: true }));
}

/** Words that mark a key as holding a secret, compared after splitting the key into words. */
const SECRET_WORDS = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'apikey', 'authorization', 'auth',
  'credential', 'credentials', 'cookie', 'cookies', 'jwt', 'bearer', 'privatekey', 'accesskey',
  'secretkey', 'clientsecret', 'sessiontoken', 'accesstoken', 'refreshtoken',
]);
/** Two-word spellings (`api_key`, `privateKey`, `X-Api-Key`) of the joined words above. */
const SECRET_PAIRS = new Set(['apikey', 'apikeys', 'privatekey', 'accesskey', 'secretkey', 'signingkey', 'encryptionkey']);

const keyVerdicts = new Map<string, boolean>();

/**
 * Whether a key looks like it holds a secret: case-insensitive, by words, so `api_key`, `apiKey`,
 * `X-Api-Key`, `access_token`, `client_secret`, `Authorization` and `set-cookie` do, while
 * `max_tokens`, `author` and `keyword` do not.
 */
export function isSecretKey(key: string): boolean {
  const known = keyVerdicts.get(key);
  if (known !== undefined) return known;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const verdict =
    words.some((word) => SECRET_WORDS.has(word)) ||
    words.some((word, i) => i > 0 && SECRET_PAIRS.has(`${words[i - 1]}${word}`));
  // Keys come from agents; bound the memo so it cannot grow without limit.
  if (keyVerdicts.size >= 4096) keyVerdicts.clear();
  keyVerdicts.set(key, verdict);
  return verdict;
}
