/**
 * `mcpgate tools --accept NAME`: an admin accepts the changed definition the gateway recorded as
 * pending (by public name `SERVER__TOOL`, or by `server/tool`). Only the file changes; a running
 * gateway notices within a second and lifts the escalation.
 */
import { ErrorCodes, GatewayError } from '../errors.js';
import { readPinState, withPinLock, writePinState } from './pinFile.js';

/** What was accepted. */
export interface Accepted {
  readonly key: string;
  readonly publicName: string;
  readonly oldSha256: string | undefined;
  readonly newSha256: string;
  readonly changed: readonly string[];
}

/** Moves the pending definition of `name` to the pins; throws PIN_NOT_PENDING when there is none. */
export async function acceptPending(file: string, name: string): Promise<Accepted> {
  return withPinLock(file, () => acceptLocked(file, name));
}

async function acceptLocked(file: string, name: string): Promise<Accepted> {
  const state = await readPinState(file).catch((error: unknown) => {
    throw new GatewayError(ErrorCodes.PIN_FILE_INVALID, `cannot read the tool pin file: ${(error as Error).message}`, {
      remedy: 'restore the file from a backup, or delete it to pin every tool afresh on the next start',
    });
  });
  const entry = Object.entries(state.pending).find(([key, pending]) => pending.public_name === name || key === name);
  if (!entry) {
    const waiting = Object.values(state.pending).map((p) => p.public_name);
    throw new GatewayError(ErrorCodes.PIN_NOT_PENDING, `no changed definition of "${name}" is waiting in ${file}`, {
      remedy: waiting.length ? `tools waiting: ${waiting.join(', ')}` : 'nothing is waiting: a changed definition is recorded when a gateway serving this config lists it',
    });
  }
  const [key, pending] = entry;
  const old = state.pins[key];
  state.pins[key] = {
    sha256: pending.sha256,
    fields: pending.fields,
    ...(pending.definition ? { definition: pending.definition } : {}),
    ...(old?.first_seen ? { first_seen: old.first_seen } : {}),
    accepted_at: new Date().toISOString(),
  };
  delete state.pending[key];
  await writePinState(file, state);
  return { key, publicName: pending.public_name, oldSha256: old?.sha256, newSha256: pending.sha256, changed: pending.changed };
}
