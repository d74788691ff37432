/**
 * Where `${secret:NAME}` values live. The gateway and `mcpgate secrets` only see this interface;
 * the OS keychain (src/secrets/keychain.ts) is the one backend today.
 */

/** A named-secret store. Every method may throw a GatewayError with a remedy (store missing, locked…). */
export interface SecretStore {
  /** Human-readable name of the backend, for messages (`OS keychain (service "mcpgate")`). */
  readonly description: string;
  /** The value, or undefined when no secret has that name. */
  get(name: string): Promise<string | undefined>;
  /** Creates or replaces a secret. */
  set(name: string, value: string): Promise<void>;
  /** Removes a secret; false when there was none. */
  delete(name: string): Promise<boolean>;
  /** Names of every stored secret, sorted; never values. */
  list(): Promise<string[]>;
}

/** Letters, digits, `.`, `_`, `-`, `/`, `@`; 1–128 characters, starting with a letter or digit. */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@/-]{0,127}$/;

/**
 * What is wrong with a secret name, or undefined when it is valid.
 * @example secretNameProblem('github-token') // undefined
 */
export function secretNameProblem(name: string): string | undefined {
  if (SECRET_NAME_PATTERN.test(name)) return undefined;
  return `invalid secret name "${name}": use 1–128 letters, digits, ".", "_", "-", "/" or "@", starting with a letter or digit`;
}

/** The remedy a missing secret's error carries. */
export function setSecretRemedy(name: string): string {
  return `run \`mcpgate secrets set ${name}\` (the value is read from stdin or a hidden prompt)`;
}
