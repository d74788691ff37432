/**
 * The zod schemas every config file section builds on (durations, decisions, policy rules), kept
 * apart from src/config/schema.ts so the section schemas (auth, network) and the main schema all
 * import them from below instead of from each other.
 */
import { z } from 'zod';

/** `250ms`, `30s`, `5m`, `1h`, or a bare number of milliseconds. */
export const DurationSchema = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'expected a duration such as 500ms, 30s, 5m or 1h'),
  ])
  .describe('A duration: 500ms, 30s, 5m, 1h, or a number of milliseconds');

/** Parses a validated duration value into milliseconds. */
export function durationToMs(value: z.infer<typeof DurationSchema>): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!match) throw new Error(`invalid duration ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

/** allow | ask | deny */
export const DecisionSchema = z.enum(['allow', 'ask', 'deny']);
export type Decision = z.infer<typeof DecisionSchema>;

/**
 * One `args` condition: a glob or `/regex/flags` on the value's text, or the path form
 * `{path, root?, ignoreCase?}` that reads the value as a file path (normalised, resolved against
 * `root`) and matches it with a path glob. How each value type is treated: docs/configuration.md.
 */
export const ArgConditionSchema = z.union([
  z.string().describe('Glob (* any run, ? one character) or /regex/flags on the value as text'),
  z
    .strictObject({
      path: z.string().min(1).describe('Path glob: ** any number of segments, * and ? within one segment; a pattern not starting with / or ** is relative to root'),
      root: z.string().min(1).optional().describe("Absolute directory relative values are resolved against (default: the server's cwd)"),
      ignoreCase: z.boolean().optional().describe('Compare without case (default: true on macOS and Windows, false elsewhere)'),
    })
    .describe('Path form: the value is read as a path, normalised (., .., //) and resolved against root, then matched'),
]);
export type ArgConditionInput = z.infer<typeof ArgConditionSchema>;

/** `args`: argument path (`path`, `options.branch`, `files.0.path`) → condition. */
export const RuleArgsSchema = z
  .record(z.string().min(1), ArgConditionSchema)
  .describe('Argument path → glob, /regex/, or {path: glob} that the argument value must match');

/**
 * A policy rule: a tool-name glob, or `{tool, args, reason}` where `args` maps an argument path
 * (`path`, `options.branch`) to a condition on the argument's value.
 */
export const RuleSchema = z.union([
  z.string().min(1),
  z.strictObject({
    tool: z.string().min(1).describe('Tool-name glob (`*` any run of characters, `?` one character)'),
    args: RuleArgsSchema.optional(),
    reason: z.string().optional().describe('Shown to the agent and recorded in the audit log'),
  }),
]);
export type RuleInput = z.infer<typeof RuleSchema>;
