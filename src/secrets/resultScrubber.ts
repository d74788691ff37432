/**
 * Redacts secret values from what upstreams send towards the client: results, errors, lists,
 * notifications and upstream-initiated requests. Every upstream's output is scrubbed of every
 * registered value (an upstream may learn another's secret, e.g. a filesystem server reading the
 * file a `${file:}` reference names). Scrubbing works on decoded values (every string and key, at
 * every level), so no spelling of the raw JSON line can hide a value; with no value registered it
 * costs one branch, and a clean result is forwarded as it came (the same object, so the upstream's
 * own line can still be relayed without serialising it again). Results and messages go through
 * `Redactor.scrubJson`; errors through {@link scrubWireError}.
 */
import { WireError } from '../errors.js';
import type { UpstreamLists } from '../upstream/lists.js';
import type { Redactor } from './redactor.js';

/** `error` with known secret values redacted from its message and data (a new WireError only when needed). */
export function scrubWireError(redactor: Redactor, error: WireError): WireError {
  if (redactor.size === 0) return error;
  const message = redactor.scrub(error.message);
  const data = redactor.scrubJson(error.data);
  if (message === error.message && data === error.data) return error;
  return new WireError(error.code, message, data);
}

/** An item left out of a list because the name or URI it is called by holds a secret value. */
export interface WithheldItem {
  readonly kind: 'tool' | 'prompt' | 'resource' | 'resource template';
  /** Its position in the upstream's list (the name itself cannot be shown). */
  readonly index: number;
}

/**
 * An upstream's lists with every known secret value redacted from every field (descriptions,
 * titles, schemas, annotations, `_meta`…). An item whose name, URI or URI template holds a value
 * is left out (reported to `withheld`): it cannot be shown redacted and still be called by it.
 * @example scrubLists(redactor, upstream, (item) => logger.warn(item, 'withheld'))
 */
export function scrubLists(redactor: Redactor, lists: UpstreamLists, withheld: (item: WithheldItem) => void): UpstreamLists {
  if (redactor.size === 0) return lists;
  const clean = <T extends object>(items: readonly T[], kind: WithheldItem['kind'], key: (item: T) => unknown): T[] => {
    const out: T[] = [];
    items.forEach((item, index) => {
      const name = key(item);
      if (typeof name === 'string' && redactor.scrub(name) !== name) withheld({ kind, index });
      else out.push(redactor.scrubJson(item));
    });
    return out;
  };
  return {
    tools: clean(lists.tools, 'tool', (tool) => tool.name),
    prompts: clean(lists.prompts, 'prompt', (prompt) => prompt.name),
    resources: clean(lists.resources, 'resource', (resource) => resource.uri),
    resourceTemplates: clean(lists.resourceTemplates, 'resource template', (template) => template.uriTemplate),
  };
}
