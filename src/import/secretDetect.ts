/**
 * Which literal parts of an imported server are credentials (they go to the keychain, the file
 * gets `${secret:NAME}`). The heuristic, documented in docs/cli.md:
 * - the value of a secret-looking key (`isSecretKey`: token, secret, password, api key,
 *   authorization, bearer, cookie, credential… by words; also run together, as in `PGPASSWORD`
 *   or `MYSECRET`) in `env`, `headers`, a `KEY=VALUE` or
 *   `--flag=VALUE` argument, or the argument after `--token`-like flags, unless the value is
 *   plainly not one (empty, a boolean, a short number, a path);
 * - a value shaped like a credential wherever it is: GitHub/GitLab/Slack/Stripe/AWS/Google/npm/
 *   Linear/Notion token prefixes, `sk-…` API keys, JWTs, PEM private keys;
 * - in `env` and `headers` only, a long high-entropy string (32+ characters of one token, letters
 *   and digits, ≥ 3.5 bits per character, not a UUID);
 * - in URLs: the password of `scheme://user:password@host` and secret-looking query parameters.
 * `Authorization: Bearer X` keeps its scheme: only X is a secret. Values holding a `${` (already a
 * reference) are left alone.
 */
import { isSecretKey } from '../audit/redact.js';

/** A secret inside a value: the characters [start, end) and a label for its keychain name. */
export interface SecretSpan {
  readonly start: number;
  readonly end: number;
  readonly label: string;
}

const CREDENTIAL_SHAPES: readonly RegExp[] = [
  /^gh[pousr]_[A-Za-z0-9]{30,}$/,
  /^github_pat_[A-Za-z0-9_]{30,}$/,
  /^glpat-[A-Za-z0-9_-]{20,}$/,
  /^xox[abposr]-[A-Za-z0-9-]{10,}$/,
  /^xapp-[A-Za-z0-9-]{10,}$/,
  /^sk-[A-Za-z0-9_-]{20,}$/,
  /^[sr]k_(live|test)_[A-Za-z0-9]{10,}$/,
  /^AKIA[0-9A-Z]{16}$/,
  /^AIza[0-9A-Za-z_-]{35}$/,
  /^npm_[A-Za-z0-9]{36}$/,
  /^lin_(api|oauth)_[A-Za-z0-9]{20,}$/,
  /^(ntn|secret)_[A-Za-z0-9]{30,}$/,
  /^eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];

/** True when a value has the shape of a known kind of credential. */
export function looksLikeCredential(value: string): boolean {
  return CREDENTIAL_SHAPES.some((shape) => shape.test(value));
}

/** True for a long random-looking token (see the module comment). */
export function highEntropy(value: string): boolean {
  if (value.length < 32 || !/^[A-Za-z0-9+/=_.~-]+$/.test(value) || /^[/.]/.test(value)) return false;
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return false;
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) bits -= (count / value.length) * Math.log2(count / value.length);
  return bits >= 3.5;
}

/** Words that mark a key even when run together with others (`PGPASSWORD`); `token` is not one (`MAXTOKENS`). */
const RUN_TOGETHER = /passw(or)?d|passphrase|secret|credential|apikey|accesskey|privatekey/;

/** True when a key looks like it holds a secret. */
export function secretLookingKey(key: string): boolean {
  return isSecretKey(key) || RUN_TOGETHER.test(key.toLowerCase().replace(/[^a-z]/g, ''));
}

/** A value that a secret-looking key may hold without it being a secret. */
function benign(value: string): boolean {
  return /^\s*$/.test(value) || /^(true|false|yes|no|on|off|none|null)$/i.test(value) || /^\d{1,9}$/.test(value) || /^(~|\.{1,2})?\//.test(value);
}

const URL_SHAPE = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s]*@)?([^?#\s]*)(\?[^#\s]*)?(#\S*)?$/i;
const SCHEME_CREDENTIAL = /^((?:Bearer|Basic|Token|Bot|ApiKey|Api-Key|Digest)\s+)(\S+)$/i;

/** The secrets in an `env` variable's or a header's literal value. */
export function secretsInValue(key: string, value: string): SecretSpan[] {
  if (value.includes('${')) return [];
  const whole = [{ start: 0, end: value.length, label: key }];
  if (URL_SHAPE.test(value)) return secretsInUrl(value, 0, key);
  const scheme = SCHEME_CREDENTIAL.exec(value);
  if (scheme && (secretLookingKey(key) || looksLikeCredential(scheme[2] as string) || highEntropy(scheme[2] as string))) {
    return [{ start: (scheme[1] as string).length, end: value.length, label: key }];
  }
  if (looksLikeCredential(value) || highEntropy(value)) return whole;
  return secretLookingKey(key) && !benign(value) ? whole : [];
}

/** The secrets in a URL (or the part of a longer value starting at `offset`). */
export function secretsInUrl(url: string, offset = 0, label = 'url'): SecretSpan[] {
  if (url.includes('${')) return [];
  const match = URL_SHAPE.exec(url);
  if (!match) return [];
  const spans: SecretSpan[] = [];
  const [, scheme = '', userinfo = '', rest = '', query = ''] = match;
  const colon = userinfo.indexOf(':');
  if (colon !== -1 && userinfo.length - 1 > colon + 1) {
    const start = offset + scheme.length + colon + 1;
    spans.push({ start, end: start + userinfo.length - colon - 2, label: `${label}-password` });
  }
  let at = offset + scheme.length + userinfo.length + rest.length + 1;
  for (const pair of query.slice(1).split('&')) {
    const equals = pair.indexOf('=');
    if (equals > 0 && equals < pair.length - 1) {
      const name = safeDecode(pair.slice(0, equals));
      const value = pair.slice(equals + 1);
      if (secretLookingKey(name) || looksLikeCredential(safeDecode(value))) spans.push({ start: at + equals + 1, end: at + pair.length, label: `${label}-${name}` });
    }
    at += pair.length + 1;
  }
  return spans;
}

/** The secrets in a command line, per argument index. */
export function secretsInArgs(args: readonly string[]): Map<number, SecretSpan[]> {
  const found = new Map<number, SecretSpan[]>();
  args.forEach((arg, index) => {
    if (arg.includes('${')) return;
    const spans = secretsInArg(arg, index === 0 ? undefined : args[index - 1]);
    if (spans.length) found.set(index, spans);
  });
  return found;
}

function secretsInArg(arg: string, previous: string | undefined): SecretSpan[] {
  // --flag=VALUE, or KEY=VALUE as in `docker run -e KEY=VALUE`
  const assignment = /^(--?[A-Za-z0-9_.-]+|[A-Za-z_][A-Za-z0-9_]*)=(.+)$/s.exec(arg);
  if (assignment) {
    const [, key = '', value = ''] = assignment;
    const label = `arg-${key.replace(/^-+/, '')}`;
    const start = key.length + 1;
    if (URL_SHAPE.test(value)) return secretsInUrl(value, start, label);
    if (looksLikeCredential(value) || (secretLookingKey(key) && !benign(value))) return [{ start, end: arg.length, label }];
    return [];
  }
  // --token VALUE
  const flag = previous === undefined ? undefined : /^--?([A-Za-z0-9_.-]+)$/.exec(previous)?.[1];
  if (flag !== undefined && secretLookingKey(flag) && !arg.startsWith('-') && !benign(arg)) return [{ start: 0, end: arg.length, label: `arg-${flag}` }];
  if (URL_SHAPE.test(arg)) return secretsInUrl(arg, 0, 'arg-url');
  return looksLikeCredential(arg) ? [{ start: 0, end: arg.length, label: 'arg' }] : [];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
