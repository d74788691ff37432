/**
 * The aggregated catalog: every ready upstream's tools, prompts, resources and templates under
 * public names, each tool carrying its precompiled policy. Rebuilt only when an upstream's lists
 * change; the hot path does a single Map lookup.
 */
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { argumentValidator, type ArgumentValidator } from '../policy/argumentSchema.js';
import type { ContentAccess, ToolPolicy } from '../policy/layers.js';
import type { Policy } from '../policy/policy.js';
import type { Verdict } from '../policy/verdict.js';
import type { UpstreamLists } from '../upstream/lists.js';
import type { Upstream } from '../upstream/upstream.js';
import { advertisedTool } from './annotations.js';
import { publicName } from './names.js';
import { sanitizePrompt, sanitizeResource, sanitizeTemplate, sanitizeTool, TooDeepToSanitize } from './sanitize.js';
import { withoutInvisible } from '../printable.js';

/** A tool as the gateway knows it. */
export interface ToolEntry {
  readonly publicName: string;
  readonly upstream: Upstream;
  /** The upstream's own tool name. */
  readonly name: string;
  /** The definition handed to clients (public name). */
  readonly publicTool: Tool;
  /** The annotations as the upstream declared them (untrusted unless the server sets `trustAnnotations`). */
  readonly declaredAnnotations?: Tool['annotations'];
  readonly policy: ToolPolicy;
  /** Checks call arguments against the definition's inputSchema (absent: `validateArguments: false`). */
  readonly validator?: ArgumentValidator;
  /** Not listed (its changed definition waits for an admin and no pinned one can be shown, or it cannot be cleaned); calls still reach the policy. */
  readonly hidden?: boolean;
}

/** A prompt as the gateway knows it. */
export interface PromptEntry {
  readonly publicName: string;
  readonly upstream: Upstream;
  readonly name: string;
  readonly publicPrompt: Prompt;
}

interface TemplateEntry {
  readonly upstream: Upstream;
  readonly template: ResourceTemplate;
  readonly matcher: UriTemplate | undefined;
}

/** A name that two upstreams both claim: the first (by server name) keeps it. */
export interface NameCollision {
  readonly kind: 'tool' | 'prompt' | 'resource';
  readonly name: string;
  readonly kept: string;
  readonly dropped: string;
}

/** Options of the catalog. */
export interface CatalogOptions {
  readonly policy: Policy;
  /** List denied tools, resources and prompts anyway (using them still fails). */
  readonly showDenied: boolean;
  /**
   * The pins layer of a tool as it enters the catalog, and which definition to list (tool
   * pinning: the pinned one while a change waits; undefined: not listed), once per rebuild.
   */
  readonly guard?: (server: string, tool: Tool, publicName: string) => { readonly pin: Verdict | undefined; readonly definition: Tool | undefined };
  /** What an upstream's lists may show (secret values redacted), once per rebuild; default: as offered. */
  readonly offered?: (upstream: Upstream) => UpstreamLists;
}

/** The aggregated view over all upstreams. */
export class Catalog {
  collisions: readonly NameCollision[] = [];
  /** The policy version with the pins in force (src/policy/policy.ts), as of the last rebuild. */
  policyVersion: string;
  private options: CatalogOptions;
  private upstreams: readonly Upstream[] = [];
  private toolMap = new Map<string, ToolEntry>();
  private promptMap = new Map<string, PromptEntry>();
  private resourceMap = new Map<string, Upstream>();
  private templates: readonly TemplateEntry[] = [];
  private visibleTools: readonly Tool[] = [];
  private allTools: readonly ToolEntry[] = [];
  private promptList: readonly Prompt[] = [];
  private resourceList: readonly Resource[] = [];
  private templateList: readonly ResourceTemplate[] = [];

  constructor(options: CatalogOptions) {
    this.options = options;
    this.policyVersion = options.policy.version;
  }

  /** Replaces the policy (and `showDenied`) after a configuration reload; rebuild next. */
  setPolicy(policy: Policy, showDenied: boolean): void {
    this.options = { ...this.options, policy, showDenied };
  }

  /** Sets the upstreams (sorted by name for deterministic collision handling) and rebuilds; returns which public lists changed. */
  setUpstreams(upstreams: readonly Upstream[]): Set<'tools' | 'prompts' | 'resources'> {
    this.upstreams = [...upstreams].sort((a, b) => a.name.localeCompare(b.name));
    return this.rebuild();
  }

  /** Rebuilds every map from the upstreams' current lists; returns which public lists changed. */
  rebuild(): Set<'tools' | 'prompts' | 'resources'> {
    const before = this.signatures();
    const tools = new Map<string, ToolEntry>();
    const prompts = new Map<string, PromptEntry>();
    const resources = new Map<string, Upstream>();
    const templates: TemplateEntry[] = [];
    const collisions: NameCollision[] = [];
    const resourceList: Resource[] = [];
    const templateList: ResourceTemplate[] = [];
    const pinned: string[] = [];
    for (const upstream of this.upstreams) {
      // Lists are kept across restarts (an upstream that never became ready has none), so the
      // catalog stays stable while a crashed server comes back; calls fail clearly meanwhile.
      const prefix = upstream.config.prefix;
      // one check hides a server's denied resources and prompts here and refuses their use (dispatch)
      const access = this.access(upstream);
      const listResources = this.options.showDenied || access.resources.decision !== 'deny';
      const offered = this.options.offered ? this.options.offered(upstream) : upstream;
      for (const tool of offered.tools) {
        claim(tools, 'tool', publicName(prefix, withoutInvisible(tool.name)), upstream, collisions, (name) => {
          const { pin, definition } = this.options.guard ? this.options.guard(upstream.name, tool, name) : { pin: undefined, definition: tool };
          if (pin) pinned.push(name);
          const policy = this.options.policy.forTool(upstream.config, tool.name, pin);
          const shown = definition && listable(definition, sanitizeTool);
          // arguments are checked against the definition the agent was shown (the pinned one while a change waits)
          const validator = upstream.config.validateArguments === false ? undefined : argumentValidator(shown ?? tool, upstream.config.file);
          const publicTool = advertisedTool(shown ?? tool, name, upstream.config.trustAnnotations === true, policy);
          return { publicName: name, upstream, name: tool.name, publicTool, ...(tool.annotations ? { declaredAnnotations: tool.annotations } : {}), policy, ...(validator ? { validator } : {}), ...(shown ? {} : { hidden: true }) };
        });
      }
      for (const prompt of offered.prompts) {
        const shown = listable(prompt, sanitizePrompt);
        if (!shown) continue;
        claim(prompts, 'prompt', publicName(prefix, shown.name), upstream, collisions, (name) => ({
          publicName: name,
          upstream,
          name: prompt.name,
          publicPrompt: { ...shown, name },
        }));
      }
      for (const listed of offered.resources) {
        const resource = listable(listed, sanitizeResource);
        if (!resource) continue;
        const kept = resources.get(resource.uri);
        if (kept) {
          collisions.push({ kind: 'resource', name: resource.uri, kept: kept.name, dropped: upstream.name });
          continue;
        }
        resources.set(resource.uri, upstream);
        if (listResources) resourceList.push(resource);
      }
      for (const declared of offered.resourceTemplates) {
        const template = listable(declared, sanitizeTemplate);
        if (!template) continue;
        templates.push({ upstream, template, matcher: compileTemplate(template.uriTemplate) });
        if (listResources) templateList.push(template);
      }
    }
    this.toolMap = tools;
    this.promptMap = prompts;
    this.resourceMap = resources;
    this.templates = templates;
    this.allTools = [...tools.values()];
    this.visibleTools = this.allTools
      .filter((entry) => !entry.hidden && (this.options.showDenied || entry.policy.listing.decision !== 'deny'))
      .map((entry) => entry.publicTool);
    this.promptList = [...prompts.values()]
      .filter((entry) => this.options.showDenied || this.access(entry.upstream).prompts.decision !== 'deny')
      .map((entry) => entry.publicPrompt);
    this.resourceList = resourceList;
    this.templateList = templateList;
    this.collisions = collisions;
    this.policyVersion = this.options.policy.versionWith(pinned);
    const after = this.signatures();
    const changed = new Set<'tools' | 'prompts' | 'resources'>();
    if (after.tools !== before.tools) changed.add('tools');
    if (after.prompts !== before.prompts) changed.add('prompts');
    if (after.resources !== before.resources) changed.add('resources');
    return changed;
  }

  /** Comparable renderings of the public lists (rebuilds are rare: not on the hot path). */
  private signatures(): { tools: string; prompts: string; resources: string } {
    return {
      tools: JSON.stringify(this.visibleTools),
      prompts: JSON.stringify(this.promptList),
      resources: JSON.stringify([this.resourceList, this.templateList]),
    };
  }

  /** The tool behind a public name. */
  tool(name: string): ToolEntry | undefined {
    return this.toolMap.get(name);
  }

  /** Whether an upstream's resources and prompts may be used (the policy's answer, cached there). */
  access(upstream: Upstream): ContentAccess {
    return this.options.policy.content(upstream.config);
  }

  /** The prompt behind a public name. */
  prompt(name: string): PromptEntry | undefined {
    return this.promptMap.get(name);
  }

  /** The upstream of that name (a task's owner, src/pipeline/taskRequest.ts). */
  upstreamNamed(name: string): Upstream | undefined {
    return this.upstreams.find((upstream) => upstream.name === name);
  }

  /** True when a ready upstream declares the extension `id` in its capabilities (the tasks extension: discover advertises it). */
  offersExtension(id: string): boolean {
    return this.upstreams.some((upstream) => upstream.state === 'ready' && Object.hasOwn((upstream.capabilities as { extensions?: object } | undefined)?.extensions ?? {}, id));
  }

  /** The upstream serving a resource URI: a listed resource first, then the first matching template. */
  resourceOwner(uri: string): Upstream | undefined {
    const listed = this.resourceMap.get(uri);
    if (listed) return listed;
    for (const entry of this.templates) {
      if (entry.matcher?.match(uri)) return entry.upstream;
    }
    return undefined;
  }

  /** The upstream that declared a resource template (for completion requests). */
  templateOwner(uriTemplate: string): Upstream | undefined {
    return this.templates.find((entry) => entry.template.uriTemplate === uriTemplate)?.upstream;
  }

  /** Tools shown to clients (denied ones hidden unless `showDenied`). */
  listTools(): readonly Tool[] {
    return this.visibleTools;
  }

  /** Every tool with its policy, hidden or not (for `mcpgate tools`). */
  entries(): readonly ToolEntry[] {
    return this.allTools;
  }

  listPrompts(): readonly Prompt[] {
    return this.promptList;
  }

  listResources(): readonly Resource[] {
    return this.resourceList;
  }

  listResourceTemplates(): readonly ResourceTemplate[] {
    return this.templateList;
  }
}

/** Adds an entry under a public name unless an earlier upstream has it (then records the collision). */
function claim<E extends { readonly upstream: Upstream }>(
  map: Map<string, E>,
  kind: 'tool' | 'prompt',
  name: string,
  upstream: Upstream,
  collisions: NameCollision[],
  make: (name: string) => E,
): void {
  const kept = map.get(name);
  if (kept) collisions.push({ kind, name, kept: kept.upstream.name, dropped: upstream.name });
  else map.set(name, make(name));
}

/** The item as listed (sanitize.ts), or undefined when it cannot be listed (its URI holds invisible characters, or it is too deep to clean). */
function listable<T, U>(item: T, sanitize: (item: T) => U | undefined): U | undefined {
  try {
    return sanitize(item);
  } catch (error) {
    if (error instanceof TooDeepToSanitize || error instanceof RangeError) return undefined; // fail closed: not listed
    throw error;
  }
}

function compileTemplate(uriTemplate: string): UriTemplate | undefined {
  try {
    return new UriTemplate(uriTemplate);
  } catch {
    return undefined;
  }
}
