/**
 * `mcpgate console`: prints a one-time login link to the web console of each running gateway of a
 * configuration. The link holds a code valid for a minute and one use, which the console
 * exchanges for a session cookie; the admin token itself never goes into a URL.
 */
import type { Writable } from 'node:stream';
import { consoleLogin, findGateways } from '../admin/adminClient.js';
import { loadConfig } from '../config/load.js';
import { messageOf } from '../errors.js';

/** Options of `mcpgate console`. */
export interface ConsoleOptions {
  readonly configDir: string;
  readonly out: Writable;
  readonly err: Writable;
}

/** Prints one login link per running gateway. */
export async function consoleCommand(options: ConsoleOptions): Promise<number> {
  const config = await loadConfig(options.configDir);
  const targets = await findGateways(config.approval.adminDir);
  const links = await Promise.allSettled(targets.map((target) => consoleLogin(target)));
  const first = links.find((link) => link.status === 'fulfilled');
  if (!first) throw (links[0] as PromiseRejectedResult).reason;
  options.err.write(`open the link in a browser on this machine within ${Math.round(first.value.expires_in_ms / 1000)} s; it works once\n`);
  links.forEach((link, i) => {
    const pid = (targets[i] as { pid: number }).pid;
    if (link.status === 'rejected') return void options.err.write(`mcpgate: warning: gateway pid ${pid}: ${messageOf(link.reason)}\n`);
    options.out.write(`${targets.length > 1 ? `gateway pid ${pid}: ` : ''}${link.value.url}\n`);
  });
  return 0;
}
