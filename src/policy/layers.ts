/**
 * The layers of the policy and the one rule that combines them. Every decision mcpgate makes
 * about a tool (tools/list, a call, `mcpgate tools`, `check`) is the fold of these layers, in
 * this order, with {@link combine}:
 *
 *   user     server files and gateway.yaml rules, then the default (always has a verdict)
 *   managed  the administrators' requirements file rules
 *   pins     a tool whose definition changed since it was pinned (ask, only a person may answer)
 *   clients  gateway.yaml `clients:` rules of the caller's identity
 *   schema   the call's arguments against the tool's inputSchema (calls only)
 *
 * The rule: the stricter decision wins (deny > ask > allow). Two traits of a layer refine it: a
 * layer that *wins ties* reports its own verdict at equal strictness (the administrator's rule,
 * the pin's person-only ask), and a layer that *loosens defaults* replaces a verdict that came
 * from a default, whatever its decision (a `clients:` allow opens a tool no rule named). A
 * fail-closed verdict (a layer could not evaluate the arguments) is final.
 * Pure: no I/O.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describeRule, type Verdict } from './verdict.js';

/** The layers, in combining order. */
export type LayerName = 'user' | 'managed' | 'pins' | 'clients' | 'schema';

/** How a layer's verdict combines with the verdict of the layers before it. */
export interface LayerTraits {
  readonly name: LayerName;
  /** At equal strictness this layer's verdict is the one reported. */
  readonly winsTies: boolean;
  /** This layer's verdict replaces one that came from a default (`decidedBy: default`), looser or not. */
  readonly loosensDefaults: boolean;
  /** A listing verdict of this layer that beats a looser one names what it overrode (`mcpgate tools`). */
  readonly notesOverride: boolean;
}

/** The layers' traits (docs/configuration.md "How the layers combine"). */
export const LAYERS: Readonly<Record<LayerName, LayerTraits>> = Object.freeze({
  user: { name: 'user', winsTies: false, loosensDefaults: false, notesOverride: false },
  managed: { name: 'managed', winsTies: true, loosensDefaults: false, notesOverride: true },
  pins: { name: 'pins', winsTies: true, loosensDefaults: false, notesOverride: false },
  clients: { name: 'clients', winsTies: false, loosensDefaults: true, notesOverride: false },
  schema: { name: 'schema', winsTies: false, loosensDefaults: false, notesOverride: false },
});

const STRICTNESS = { allow: 0, ask: 1, deny: 2 } as const;

/**
 * The one combine rule: `current` (the layers so far) with `next` (this layer's verdict;
 * undefined when none of its rules names the tool or call).
 * @example combine(userAllow, managedDeny, LAYERS.managed) // managedDeny
 * @example combine(defaultDeny, clientAllow, LAYERS.clients) // clientAllow
 */
export function combine(current: Verdict, next: Verdict | undefined, layer: LayerTraits): Verdict {
  if (next === undefined || next === current || current.failClosed) return current;
  if (next.failClosed) return next;
  if (layer.loosensDefaults && current.decidedBy === 'default') return next;
  const stricter = STRICTNESS[next.decision] - STRICTNESS[current.decision];
  return stricter > 0 || (stricter === 0 && layer.winsTies) ? next : current;
}

/** {@link combine} for a listing verdict: it also names the looser verdict a `notesOverride` layer overrode. */
export function combineListing(current: Verdict, next: Verdict | undefined, layer: LayerTraits): Verdict {
  const combined = combine(current, next, layer);
  if (combined === current || !layer.notesOverride || combined.decision === current.decision || combined.failClosed) return combined;
  return Object.freeze({ ...combined, overrides: `${describeRule(current.rule)} ${current.decision}` });
}

/** The precompiled policy of one tool: all of its layers but the caller's and the call's. */
export interface ToolPolicy {
  /** verdict with argument-conditional rules ignored; what tools/list and `mcpgate tools` use */
  readonly listing: Verdict;
  /** true if some rule with `args` conditions names this tool */
  readonly conditional: boolean;
  /** verdict for a call with these arguments (undefined = listing) */
  decide(args: Readonly<Record<string, unknown>> | undefined): Verdict;
}

/** What one layer says of one tool. */
export interface LayerRules {
  /** Verdict with argument conditions ignored; undefined: no rule of the layer names the tool. */
  readonly listing: Verdict | undefined;
  /** Per call, for layers with argument conditions on this tool (absent: `listing` for every call). Never throws: fails closed. */
  readonly decide?: (args: Readonly<Record<string, unknown>>) => Verdict | undefined;
}

/** Whether a server's resources and prompts may be used (allow or deny, never ask). */
export interface ContentAccess {
  readonly resources: Verdict;
  readonly prompts: Verdict;
}

/**
 * Folds layers over a base policy into one precompiled {@link ToolPolicy}. The base itself when no
 * layer says anything; a constant `decide` when no layer has argument conditions.
 */
export function layered(base: ToolPolicy, layers: ReadonlyArray<readonly [LayerRules | undefined, LayerTraits]>): ToolPolicy {
  const active = layers.filter((entry): entry is readonly [LayerRules, LayerTraits] => entry[0] !== undefined && (entry[0].listing !== undefined || entry[0].decide !== undefined));
  if (active.length === 0) return base;
  let listing = base.listing;
  for (const [rules, traits] of active) listing = combineListing(listing, rules.listing, traits);
  const conditional = base.conditional || active.some(([rules]) => rules.decide !== undefined);
  if (!conditional) return { listing, conditional, decide: () => listing };
  return {
    listing,
    conditional,
    decide(args) {
      if (args === undefined) return listing;
      let verdict = base.decide(args);
      for (const [rules, traits] of active) verdict = combine(verdict, rules.decide ? rules.decide(args) : rules.listing, traits);
      return verdict;
    },
  };
}

/** The layers beyond `user` a person's own remembered answers (and reviewer) cannot speak for. */
export type Answerer = 'always' | 'session' | 'reviewer';

/**
 * Who besides a person may answer an `ask`, by the layer that asked: the user's own asks by
 * anyone the user configured; a managed ask by an approval a person gave in this session (never
 * by "always" or the reviewer, which are the user's configuration); a changed pinned tool only by
 * a person, now (what was approved before was the old definition).
 * @example mayAnswer(managedAsk, 'always') // false
 */
export function mayAnswer(verdict: Verdict, answerer: Answerer): boolean {
  if (verdict.decision !== 'ask' || verdict.humanOnly) return false;
  return verdict.decidedBy !== 'managed' || answerer === 'session';
}

/** A tool as the caller's layer needs it: its server, upstream name, public definition and precompiled policy. */
export interface LayerTool {
  readonly upstream: { readonly name: string };
  readonly name: string;
  readonly publicTool: Tool;
  readonly policy: ToolPolicy;
  /** Not listed whatever the rules (tool pinning). */
  readonly hidden?: boolean;
}
