/**
 * A secret held in memory (a credential on its way to the keychain, a resolved key on its way to
 * the crypto that uses it): it redacts itself wherever it could be printed or serialised
 * (`String()`, template literals, JSON, `util.inspect`), so only code that calls `reveal()` on
 * purpose ever sees the value.
 */
import { inspect } from 'node:util';
import { REDACTED } from './redactor.js';

/**
 * A secret value that prints as `[REDACTED]`.
 * @example `${new Secret('ghp_x')}` // '[REDACTED]'
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself: for the keychain or the crypto that uses it, nothing else. */
  reveal(): string {
    return this.#value;
  }

  /** True when both hold the same value. */
  equals(other: Secret | string): boolean {
    return this.#value === (typeof other === 'string' ? other : other.#value);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
