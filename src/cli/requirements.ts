/**
 * Managed requirements (admins' floor) arrive with the approvals issue. Until then a gateway that
 * is told to obey requirements refuses to start rather than run without them: fail closed.
 */
import { existsSync } from 'node:fs';
import { GatewayError, ErrorCodes } from '../errors.js';

/** The system-wide requirements file, used when neither the flag nor the variable names one. */
export const SYSTEM_REQUIREMENTS_FILE = '/etc/mcpgate/requirements.yaml';

/** Throws when a requirements file is configured, since this version cannot enforce it. */
export function refuseUnsupportedRequirements(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  const file = flag ?? env.MCPGATE_REQUIREMENTS ?? (existsSync(SYSTEM_REQUIREMENTS_FILE) ? SYSTEM_REQUIREMENTS_FILE : undefined);
  if (file === undefined) return;
  throw new GatewayError(
    ErrorCodes.CONFIG_INVALID,
    `managed requirements (${file}) are not supported by this version of mcpgate; refusing to start without enforcing them`,
    { remedy: 'upgrade mcpgate, or remove the requirements file / flag / MCPGATE_REQUIREMENTS if it is not meant for this gateway' },
  );
}
