/**
 * An upstream's own `elicitation/create`, forwarded to the client of the call in flight, must not
 * pass for mcpgate's approval prompt: an upstream that asks "mcpgate: approve this tool call?"
 * with Allow once / for this session / Always / Deny could collect an answer the person believes
 * they gave the gateway. So every forwarded elicitation's message starts with
 * `[server NAME asks] ` (its invisible characters removed, so nothing can reorder or hide that
 * mark), and one that imitates mcpgate's prompt — the name "mcpgate" in any spelling, the
 * approval question, or a choice set like the approval form's — is refused with an error to the
 * upstream. Pure.
 */
import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCodes, wireError } from '../errors.js';
import { withoutInvisible } from '../printable.js';
import { APPROVAL_CHOICES } from './elicitation.js';

/** The forwarded params, or why the elicitation is refused. */
export type UpstreamElicitation = { readonly ok: true; readonly params: Record<string, unknown> } | { readonly ok: false; readonly reason: string };

/** Words of mcpgate's own prompt, compared on letters and digits only (spacing, case and punctuation ignored). */
const OWN_WORDS = ['mcpgate', 'approvethistoolcall', 'allowforthissession'];

/** Elicitation forms are flat; deeper params are not looked through, so they are refused. */
const MAX_DEPTH = 32;

/**
 * The params to forward for an upstream's `elicitation/create`.
 * @example upstreamElicitation('github', { message: 'Which repo?', requestedSchema }) // { ok: true, params: { message: '[server github asks] Which repo?', requestedSchema } }
 */
export function upstreamElicitation(server: string, params: unknown): UpstreamElicitation {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return { ok: false, reason: 'its params are not an object' };
  const { message } = params as { message?: unknown };
  if (typeof message !== 'string') return { ok: false, reason: 'it has no message' };
  const imitation = imitates(params);
  if (imitation) return { ok: false, reason: `it imitates mcpgate's own approval prompt (${imitation}); only mcpgate asks for approvals` };
  return { ok: true, params: { ...params, message: `[server ${server} asks] ${withoutInvisible(message)}` } };
}

/**
 * The request to forward: an `elicitation/create` marked with the server (any other request as
 * it is); throws UPSTREAM_ELICITATION_REFUSED (to the upstream) for one that is refused, after
 * telling `onRefused` why.
 */
export function forwardableRequest(server: string, request: JSONRPCRequest, onRefused?: (reason: string) => void): JSONRPCRequest {
  if (request.method !== 'elicitation/create') return request;
  const forwarded = upstreamElicitation(server, request.params);
  if (forwarded.ok) return { ...request, params: forwarded.params };
  onRefused?.(forwarded.reason);
  throw wireError(ErrorCodes.UPSTREAM_ELICITATION_REFUSED, `mcpgate refused the elicitation of upstream "${server}": ${forwarded.reason}`);
}

/** What in the params looks like mcpgate's approval prompt, if anything. */
function imitates(params: object): string | undefined {
  const texts: string[] = [];
  const values = new Set<string>();
  if (!collect(params, texts, values, 0)) return `its params are nested more than ${MAX_DEPTH} levels deep`;
  for (const text of texts) {
    const squashed = squash(text);
    const word = OWN_WORDS.find((own) => squashed.includes(own));
    if (word) return `it says "${word === 'mcpgate' ? 'mcpgate' : text.trim().slice(0, 60)}"`;
  }
  const ours = APPROVAL_CHOICES.filter((choice) => choice.const !== 'deny' && values.has(choice.const));
  if (ours.length >= 2) return `its choices ${ours.map((c) => `"${c.const}"`).join(', ')} are the approval form's`;
  return undefined;
}

/** Lower-case letters and digits only, after folding compatibility forms (full-width, ligatures…). */
function squash(text: string): string {
  return withoutInvisible(text).normalize('NFKC').toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Every string (keys too) of the params, and the string values a choice can take (`const`, `enum`); false when too deep. */
function collect(value: unknown, texts: string[], values: Set<string>, depth: number): boolean {
  if (typeof value === 'string') {
    texts.push(value);
    return true;
  }
  if (value === null || typeof value !== 'object') return true;
  if (depth >= MAX_DEPTH) return false;
  for (const [key, item] of Object.entries(value)) {
    texts.push(key);
    if (key === 'const' && typeof item === 'string') values.add(item.toLowerCase());
    if (key === 'enum' && Array.isArray(item)) for (const choice of item) if (typeof choice === 'string') values.add(choice.toLowerCase());
    if (!collect(item, texts, values, depth + 1)) return false;
  }
  return true;
}
