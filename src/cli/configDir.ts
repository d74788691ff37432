/**
 * Where the configuration directory is: `--config DIR`, else `$MCPGATE_CONFIG`, else the current dir.
 */
import { resolve } from 'node:path';

/** Resolves the configuration directory from the flag and the environment. */
export function configDirFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.MCPGATE_CONFIG ?? process.cwd());
}
