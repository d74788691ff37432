/**
 * The spellings of one secret value the redactor looks for. Escaping (JSON, `\u`, `\x`, percent
 * encoding, any number of times) is not listed here: the redactor decodes text layer by layer
 * (escapes.ts) and looks for these forms in every layer. Listed here are the transformations that
 * cannot be undone by decoding a layer: a multi-line value split into its lines, and the value
 * encoded as base64 (standard and URL-safe, at each of the three byte alignments it can have
 * inside a longer encoded text) or hex.
 */
import { Buffer } from 'node:buffer';

/**
 * Values shorter than this are not registered: a secret reference that resolves to "1", "true" or
 * "prod" would otherwise redact those characters everywhere, making every log line unreadable,
 * and a value that short protects nothing anyway. Lines of a multi-line value follow the same rule.
 */
export const MIN_SECRET_LENGTH = 6;

/** PEM armour lines (`-----BEGIN PRIVATE KEY-----`): public boilerplate, not part of any secret. */
const PEM_ARMOUR = /^-----(?:BEGIN|END) [A-Z0-9 ]+-----$/;

/**
 * Every form of `value` to look for (longest first), or none when it is too short to register.
 * @example formsOf('pa ss word') // ['pa ss word', 'pa+ss+word', base64 and hex forms…]
 */
export function formsOf(value: string): string[] {
  if (value.length < MIN_SECRET_LENGTH) return [];
  const forms = new Set<string>([value]);
  // A space may come back as `+` (form encoding); the `%20` spelling is decoded like any escape.
  if (value.includes(' ')) forms.add(value.replaceAll(' ', '+'));
  // A line of a multi-line value (a PEM key) leaks on its own through anything read line by line.
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r?\n|\r/)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_SECRET_LENGTH && !PEM_ARMOUR.test(trimmed)) forms.add(trimmed);
    }
  }
  const bytes = Buffer.from(value, 'utf8');
  for (const form of base64Forms(bytes)) forms.add(form);
  const hex = bytes.toString('hex');
  forms.add(hex);
  forms.add(hex.toUpperCase());
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * The base64 characters that depend on `bytes` alone, for each of the three offsets (mod 3) at
 * which the value can start inside a longer encoded text; standard and URL-safe alphabets.
 */
function base64Forms(bytes: Buffer): string[] {
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Character k holds bits [6k, 6k + 6): keep those entirely inside the value's bits.
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const inner = encoded.slice(first, end);
    if (inner.length < MIN_SECRET_LENGTH) continue;
    forms.push(inner, inner.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return forms;
}
