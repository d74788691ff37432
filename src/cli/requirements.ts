/**
 * The managed requirements a command runs under: `--requirements FILE`, else
 * `$MCPGATE_REQUIREMENTS`, else `/etc/mcpgate/requirements.yaml` if present. A file that is named
 * but cannot be loaded stops the command (fail closed): see src/requirements/.
 */
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';
import { applyRequirements } from '../requirements/apply.js';
import { loadRequirements, requirementsFileFrom } from '../requirements/load.js';
import type { ManagedRequirements } from '../requirements/types.js';

export { SYSTEM_REQUIREMENTS_FILE } from '../requirements/load.js';

/** Loads the applicable requirements, if any; throws REQUIREMENTS_INVALID when they cannot be loaded. */
export async function managedRequirements(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<ManagedRequirements | undefined> {
  const file = requirementsFileFrom(flag, env);
  return file === undefined ? undefined : loadRequirements(file);
}

/** Loads the configuration directory with the managed requirements applied (requirements first: fail closed). */
export async function loadEffectiveConfig(dir: string, requirementsFlag: string | undefined): Promise<GatewayConfig> {
  const requirements = await managedRequirements(requirementsFlag);
  return applyRequirements(await loadConfig(dir), requirements);
}
