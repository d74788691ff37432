/**
 * The pin state file (`mcpgate-pins.json`, next to the audit log): the accepted hash of every
 * tool definition seen, and the changed definitions waiting for an admin. Read and written off
 * the hot path; writes are atomic (temporary file + rename) so a crash never leaves half a file.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { withFileLock } from './pinLock.js';

/** The state file's name; it lives in the audit log's directory. */
export const PIN_FILE_NAME = 'mcpgate-pins.json';

const HashesSchema = z.record(z.string(), z.string());

/** One accepted definition. */
export const PinSchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  fields: HashesSchema.default({}),
  /** The pinned fields themselves (description, inputSchema, …), listed while a change waits; absent in pins written by older versions (filled in when the tool is next listed unchanged). */
  definition: z.record(z.string(), z.unknown()).optional(),
  first_seen: z.string().optional(),
  accepted_at: z.string().optional(),
});
export type Pin = z.infer<typeof PinSchema>;

/** A changed definition waiting for `mcpgate tools --accept`. */
export const PendingSchema = PinSchema.extend({
  public_name: z.string(),
  changed: z.array(z.string()).default([]),
  seen: z.string().optional(),
});
export type PendingPin = z.infer<typeof PendingSchema>;

/** The whole file; keys are `server/tool` (the upstream's own tool name). */
export const PinStateSchema = z.object({
  version: z.literal(1),
  pins: z.record(z.string(), PinSchema).default({}),
  pending: z.record(z.string(), PendingSchema).default({}),
});
export type PinState = z.infer<typeof PinStateSchema>;

/** The pin file for an audit log path. */
export function pinFileFor(auditFile: string): string {
  return join(dirname(auditFile), PIN_FILE_NAME);
}

/** An empty state. */
export function emptyPinState(): PinState {
  return { version: 1, pins: {}, pending: {} };
}

/** Parses file text; throws with a readable message when it is not a valid state file. */
export function parsePinState(text: string, file: string): PinState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message})`);
  }
  const result = PinStateSchema.safeParse(value);
  if (!result.success) throw new Error(`${file} is not a pin state file (${result.error.issues[0]?.message ?? 'invalid'})`);
  return result.data;
}

/** Reads the state synchronously (start-up only); a missing file is an empty state. */
export function readPinStateSync(file: string): PinState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyPinState();
    throw error;
  }
  return parsePinState(text, file);
}

/** Reads the state; a missing file is an empty state. */
export async function readPinState(file: string): Promise<PinState> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return text === undefined ? emptyPinState() : parsePinState(text, file);
}

let tmpCounter = 0;

/** Writes the state atomically (temporary file in the same directory, then rename). */
export async function writePinState(file: string, state: PinState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${tmpCounter++}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/**
 * Runs a read-modify-write of the pin file under `FILE.lock`, so the gateway recording new pins
 * and an admin's `--accept` never overwrite each other. A lock older than 10 s is taken to be left
 * by a crashed process and taken over atomically: exactly one waiting process wins it (pinLock.ts).
 */
export function withPinLock<T>(file: string, action: () => Promise<T>): Promise<T> {
  return withFileLock(`${file}.lock`, action);
}
