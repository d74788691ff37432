/** PLACEHOLDER (minimal) — to be replaced by the full implementation. */
import { loadConfig } from '../config/load.js';
import { formatProblem } from '../config/types.js';

export async function checkCommand(opts: { configDir: string; out: NodeJS.WritableStream; err: NodeJS.WritableStream }): Promise<number> {
  const config = await loadConfig(opts.configDir);
  for (const s of config.servers) opts.out.write(`ok      ${s.name}\n`);
  for (const p of config.problems) opts.out.write(`${formatProblem(p)}\n`);
  return config.problems.some((p) => p.severity === 'error') ? 1 : 0;
}
