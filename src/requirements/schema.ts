/**
 * zod schema of the managed requirements file (`--requirements FILE`, `$MCPGATE_REQUIREMENTS`,
 * `/etc/mcpgate/requirements.yaml`). The published JSON Schema (`schema/requirements.schema.json`)
 * is generated from it. Unknown keys are errors: a typo in a security control must not be ignored.
 */
import { z } from 'zod';
import { DurationSchema, RuleArgsSchema } from '../config/schema.js';
import { NetworkRuleSchema } from '../config/networkSchema.js';

/** A managed rule: a `server/tool` glob with optional argument conditions, answering ask or deny. */
export const ManagedRuleSchema = z.strictObject({
  tool: z.string().min(1).describe('server/tool glob, e.g. "*/delete_*" or "github/push_files"'),
  decision: z.enum(['ask', 'deny']).describe('Managed rules can only tighten: ask or deny'),
  args: RuleArgsSchema.optional(),
  reason: z.string().optional().describe('Shown to the agent and recorded in the audit log'),
});

/** One allow-list entry: a stdio command line or a remote URL pattern. */
export const ServerIdentitySchema = z.union([
  z.strictObject({
    command: z.string().min(1).describe('Glob on the command (relative paths with a / are made absolute against the config dir)'),
    args: z
      .array(z.string())
      .optional()
      .describe('Globs on the arguments, one per argument; a final "**" accepts any further ones; absent: any arguments'),
    cwd: z
      .string()
      .min(1)
      .optional()
      .describe('Glob on the absolute working directory (a server without cwd runs in the config dir); needed when the command or an argument is a relative path (./x, x/y.js, ../x, server.js)'),
    env: z
      .union([z.array(z.string().min(1)), z.record(z.string().min(1), z.string())])
      .optional()
      .describe(
        'Environment variables the server file may set: names (globs, any value), or name → glob on the value as written; absent: none. A variable that changes what the interpreter or loader loads (HOME, PATH, XDG_*, PYTHON*, NODE_OPTIONS, LD_*, …) is admitted only by writing its exact name',
      ),
    description: z.string().optional(),
  }),
  z.strictObject({
    url: z.string().min(1).describe('Glob on the url/sse endpoint as written, e.g. "https://mcp.example.com/*"; a ${…} reference or a "."/".."/%2e segment after the host matches only a pattern that writes it or ends the host with "/*"'),
    description: z.string().optional(),
  }),
]);

/** The requirements file. */
export const RequirementsFileSchema = z.strictObject({
  $schema: z.string().optional(),
  rules: z.array(ManagedRuleSchema).default([]).describe('Managed rules, merged above every user rule'),
  resources: z
    .strictObject({ deny: z.array(z.string().min(1)).describe('Server-name globs whose resources (list, read, subscribe, completion) are denied') })
    .optional(),
  prompts: z
    .strictObject({ deny: z.array(z.string().min(1)).describe('Server-name globs whose prompts (list, get, completion) are denied') })
    .optional(),
  servers: z
    .strictObject({
      allow: z.array(ServerIdentitySchema).describe('Servers that may be registered, matched on identity (not on name)'),
    })
    .optional()
    .describe('Absent: any server may be registered'),
  approval: z
    .strictObject({
      minTimeout: DurationSchema.optional().describe('Forced minimum of approval.timeout'),
      allowAlways: z.boolean().optional().describe('false forbids persisting "always" approvals'),
      channel: z
        .enum(['queue', 'none'])
        .optional()
        .describe('Who may answer an ask: queue = only a person through the approval queue (mcpgate approve), never the calling client by elicitation, and no sampling reviewer; none = every ask is a deny. Overrides approval.channel everywhere (a user\'s none stays none)'),
    })
    .default({}),
  network: z
    .strictObject({
      deny: z.array(NetworkRuleSchema).default([]).describe('Destinations no server may reach, whatever gateway.yaml or servers.d allow'),
      allowOnly: z
        .array(NetworkRuleSchema)
        .optional()
        .describe('The only destinations any server may reach: a user allow rule outside them is refused, anything else outside them is denied'),
    })
    .default({ deny: [] })
    .describe("Managed egress rules (servers' connections through the gateway's proxy, and remote upstream URLs)"),
  sandbox: z
    .strictObject({
      mode: z.enum(['auto', 'required']).optional().describe('Floor of every stdio server\'s sandbox.mode: auto forbids off; required refuses a server that cannot be sandboxed'),
      denyRead: z
        .array(z.string().min(1).refine((path) => path.startsWith('/') || path === '~' || path.startsWith('~/'), 'write an absolute path or ~/path'))
        .optional()
        .describe("Paths no sandboxed server can read, added to every server's denyRead (~: the server's HOME)"),
    })
    .default({}),
  audit: z
    .strictObject({
      file: z.string().min(1).optional().describe('Forced audit log path (relative: to the requirements file)'),
      arguments: z.enum(['full', 'redacted', 'hash', 'none']).optional(),
      maxArgumentBytes: z.number().int().min(64).optional(),
      fsync: z.enum(['always', 'batch']).optional().describe('Forced audit durability (always: write-ahead, each record fdatasync-ed)'),
    })
    .default({}),
});
export type RequirementsFile = z.infer<typeof RequirementsFileSchema>;
