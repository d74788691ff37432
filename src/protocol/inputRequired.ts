/**
 * Multi-round-trip requests (basic/patterns/mrtr, SEP-2322) as the call path sees them: a stage
 * that needs something only the client can give (a human's approval) asks the caller for input
 * under a key. A modern caller answers from the request's `inputResponses` when the verified
 * `requestState` says that key was asked in the last round; otherwise it throws
 * {@link InputRequired}, which ends this request with an `input_required` result.
 */

/** One server→client request embedded in an `input_required` result. */
export interface InputRequest {
  readonly method: 'elicitation/create' | 'sampling/createMessage' | 'roots/list';
  readonly params: Readonly<Record<string, unknown>>;
}

/** Something a caller can answer: the legacy session sends the request, a modern caller answers from its retry. */
export interface InputSource {
  /** The client's answer to `request`, asked under `key`; a modern caller throws {@link InputRequired} until it has one. */
  input(key: string, request: InputRequest): Promise<unknown>;
}

/** Ends the current request with an `input_required` result asking `request` under `key`. */
export class InputRequired extends Error {
  constructor(
    readonly key: string,
    readonly request: InputRequest,
    /** The kind of round (what the sealed state continues). */
    readonly kind: 'approval' | 'review' = 'approval',
  ) {
    super(`input required: ${key}`);
    this.name = 'InputRequired';
  }
}

/** The key mcpgate's own approval question travels under (namespaced: never an upstream's key). */
export const APPROVAL_INPUT_KEY = 'mcpgate:approval';

/** True for a caller that answers input requests itself (a modern caller). */
export function isInputSource(value: unknown): value is InputSource {
  return typeof value === 'object' && value !== null && typeof (value as { input?: unknown }).input === 'function';
}
