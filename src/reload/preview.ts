/**
 * `mcpgate check` against a running gateway's directory: asks each gateway serving it (its admin
 * endpoint, GET /reload) for the print of the configuration in force and says what a reload of
 * the files as they are now would do.
 */
import { z } from 'zod';
import { findGateways, reloadState } from '../admin/adminClient.js';
import type { ConfigProblem, GatewayConfig } from '../config/types.js';
import { messageOf } from '../errors.js';
import { comparePrints, ConfigPrintSchema, printOf, type ReloadPreview } from './plan.js';

const ReloadStateSchema = z.object({ generation: z.number().int(), print: ConfigPrintSchema });

/**
 * One line per running gateway of `config.dir` (none when no gateway runs it): what a reload would
 * do. `problems` are the directory's own (before the managed requirements: a server they refuse is stopped, not kept).
 * @example await reloadPreviewLines(config, problems) // ['gateway pid 41 (generation 2): a reload would add [github]']
 */
export async function reloadPreviewLines(config: GatewayConfig, problems: readonly ConfigProblem[]): Promise<string[]> {
  const targets = await findGateways(config.approval.adminDir).catch(() => []);
  const next = printOf(config);
  // servers whose file does not load: the reload keeps their last good version
  const kept = [...new Set(problems.filter((p) => p.server !== undefined && p.severity === 'error').map((p) => p.server as string))].filter((name) => !config.servers.some((s) => s.name === name));
  const lines: string[] = [];
  for (const target of targets.filter((t) => t.config === config.dir)) {
    const who = `gateway pid ${target.pid}`;
    try {
      const state = ReloadStateSchema.parse(await reloadState(target));
      const running = kept.filter((name) => name in state.print.servers);
      lines.push(`${who} (generation ${state.generation}): ${describePreview(comparePrints(state.print, next, running), state.print.digest === next.digest, running)}`);
    } catch (error) {
      lines.push(`${who}: cannot tell what a reload would do (${messageOf(error)})`);
    }
  }
  return lines;
}

/** "a reload would add [a], restart [b]; rules change" — or that it would change nothing. */
export function describePreview(preview: ReloadPreview, sameFiles: boolean, kept: readonly string[]): string {
  const parts = (['added', 'removed', 'restarted', 'reconfigured'] as const)
    .filter((kind) => preview.changes[kind].length > 0)
    .map((kind) => `${VERB[kind]} ${preview.changes[kind].join(', ')}`);
  if (preview.rulesChanged) parts.push('change the rules');
  if (kept.length > 0) parts.push(`keep the last good version of ${kept.join(', ')} (its file has errors)`);
  const later = preview.restartNeeded.length > 0 ? `; ${preview.restartNeeded.join(', ')} changed but take effect at the next start only` : '';
  if (parts.length === 0) return sameFiles ? 'runs these files; a reload would change nothing' : `a reload would change nothing that runs${later}`;
  return `a reload would ${parts.join('; ')}${later}`;
}

const VERB = { added: 'start', removed: 'stop', restarted: 'restart', reconfigured: 'reconfigure (same process)' } as const;
