/**
 * HTML built so that nothing an agent, an upstream or a URL chose can become markup: the `html`
 * tag escapes every interpolated value (after `printable` has made control, bidi and invisible
 * characters visible as `\uXXXX`) unless it is already `Html` built here.
 */
import { printable, printableJson } from '../../printable.js';
import { escapeHtml } from '../../escapeHtml.js';

/** Markup that is safe to insert as is (built by `html` or `json`). */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}


type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(printable(String(value)));
}

/**
 * A template whose values are escaped: html`<td>${name}</td>`.
 * @example html`<b>${'<script>'}</b>`.markup // '<b>&#60;script&#62;</b>'
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i] as Value) + (strings[i + 1] as string);
  return new Html(out);
}

/** A value as pretty JSON inside a `<pre>`: strings keep their escapes, invisible characters escaped too. */
export function json(value: unknown): Html {
  return new Html(escapeHtml(printableJson(value, 2)));
}
