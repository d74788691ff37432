/**
 * Text chosen by an agent or an upstream, made safe to show. The characters that matter are those
 * that rewrite how the text around them reads without being seen: C0/C1 controls (terminal escape
 * sequences, a newline faking a line of a prompt), bidirectional overrides, embeddings and
 * isolates (U+202A–202E, U+2066–2069: "evil.exe" shown as "exe.live"), zero-width and other
 * invisible format characters (U+200B–200F, U+2060–206F, U+FEFF, U+00AD…), Hangul and Khmer
 * fillers that render as nothing, and Unicode tag characters and variation selectors
 * (U+E0000–E0FFF, U+FE00–FE0F), which can carry a whole hidden text ("ASCII smuggling").
 * People get them escaped (`printable`); the agent gets them removed (catalog/sanitize.ts).
 */

/** Invisible and reordering characters, besides the C0/C1 controls. */
const FORMAT =
  '\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0\\ufff9-\\ufffb\\u{1d173}-\\u{1d17a}\\u{e0000}-\\u{e0fff}';

/** Every control character and every invisible one: what a terminal or a prompt line must not get raw. */
const UNPRINTABLE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${FORMAT}]`, 'gu');

/** What JSON.stringify leaves raw inside strings (it escapes C0 controls itself). */
const UNPRINTABLE_IN_JSON = new RegExp(`[\\u007f-\\u009f${FORMAT}]`, 'gu');

/** Every control and invisible character but tab and line feed, which multi-line text served to an agent may keep. */
const INVISIBLE = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${FORMAT}]`, 'u');
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'gu');

/**
 * `text` with every control and invisible character written as a `\uXXXX` escape (`\u{XXXXX}`
 * beyond the BMP), for prompts, tables and terminals.
 * @example printable('a\u001b[2Kb') // 'a\\u001b[2Kb'
 * @example printable('abc\u202Etxt.exe') // 'abc\\u202etxt.exe'
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar);
}

/**
 * `JSON.stringify(value, null, space)` with the characters `printable` escapes written as JSON
 * `\uXXXX` escapes too: the same JSON value, safe to print on a terminal.
 * @example printableJson({ a: 'x\u202ey' }) // '{"a":"x\\u202ey"}'
 */
export function printableJson(value: unknown, space?: number): string {
  return (JSON.stringify(value, null, space) ?? 'null').replace(UNPRINTABLE_IN_JSON, (char) => {
    let out = '';
    for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

function escapeChar(char: string): string {
  const code = char.codePointAt(0) as number;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` without control and invisible characters, keeping tabs and line feeds (a line or
 * paragraph separator becomes a line feed): for text served to an agent, which reads it raw.
 * Returns `text` itself when there is nothing to remove.
 * @example withoutInvisible('read\u200b_file\u202e') // 'read_file'
 */
export function withoutInvisible(text: string): string {
  if (!INVISIBLE.test(text)) return text;
  return text.replace(INVISIBLE_ALL, (char) => (char === '\u2028' || char === '\u2029' ? '\n' : ''));
}
